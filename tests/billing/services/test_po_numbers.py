"""PO numbers (X3): the account's list, its default, and revising unpaid invoices."""

from __future__ import annotations

import pytest
from django.utils import timezone

from remit.billing.models import (
    Account,
    AuditEvent,
    Invoice,
    InvoiceRevision,
    Order,
    PurchaseOrderNumber,
)
from remit.billing.services.invoices import invoice_void
from remit.billing.services.orders import order_place
from remit.billing.services.payments import invoice_payment_record
from remit.billing.services.po_numbers import (
    po_number_add,
    po_number_delete,
    po_number_update,
)
from remit.core.errors import PurchaseOrderNumberExists, ValidationFailed
from tests.factories import AccountFactory, BillingProfileFactory, PurchaseOrderNumberFactory

REVISE_REASON = "PO number applied to unpaid invoices"
LINE_FIELDS = (
    "position",
    "description",
    "quantity",
    "unit_price_minor",
    "discount_minor",
    "net_minor",
    "tax_category",
    "tax_rate",
)
TAX_LINE_FIELDS = ("category", "rate", "taxable_minor", "tax_minor", "note")


def _invoice(account: Account, actor, *, po_number: str | None = "", notes: str = "") -> Invoice:  # type: ignore[no-untyped-def]
    order = order_place(
        account=account,
        actor=actor,
        kind=Order.Kind.CREDITS,
        payment_method=Order.PaymentMethod.INVOICE,
        credits=100,
        po_number=po_number,
        notes=notes,
    )
    return order.invoice


def _pay(invoice: Invoice, actor) -> None:  # type: ignore[no-untyped-def]
    invoice_payment_record(
        invoice=invoice,
        actor=actor,
        method="bank_transfer",
        provider="manual",
        provider_reference=f"BANK-{invoice.number}",
        amount_minor=invoice.total_minor,
        currency=invoice.currency,
        received_at=timezone.now(),
    )


def _void(invoice: Invoice, actor) -> None:  # type: ignore[no-untyped-def]
    invoice_void(
        invoice=invoice, actor=actor, reason_code="customer_request", reason="Ordered by mistake"
    )


def _raise_unpaid_limit(account: Account, limit: int = 20) -> None:
    Account.objects.filter(pk=account.pk).update(unpaid_invoice_limit=limit)


def _state(invoice: Invoice) -> dict[str, object]:
    """Everything a revision must keep (or change) about an invoice, read from the database."""
    fresh = Invoice.objects.get(pk=invoice.pk)
    return {
        "number": fresh.number,
        "status": fresh.status,
        "revision": fresh.revision,
        "po_number": fresh.po_number,
        "notes": fresh.notes,
        "issue_date": fresh.issue_date,
        "due_date": fresh.due_date,
        "currency": fresh.currency,
        "subtotal_minor": fresh.subtotal_minor,
        "tax_minor": fresh.tax_minor,
        "total_minor": fresh.total_minor,
        "seller": fresh.seller,
        "buyer": fresh.buyer,
        "lines": list(fresh.lines.values_list(*LINE_FIELDS)),
        "tax_lines": list(fresh.tax_lines.values_list(*TAX_LINE_FIELDS)),
    }


def _revisions(invoice: Invoice) -> list[tuple[int, str, str, str]]:
    return list(
        InvoiceRevision.objects.filter(invoice=invoice)
        .order_by("revision")
        .values_list("revision", "po_number", "notes", "reason")
    )


def _revised_events(invoice: Invoice) -> list[AuditEvent]:
    return list(
        AuditEvent.objects.filter(
            action="invoice.revised", subject_type="invoice", subject_id=str(invoice.pk)
        )
    )


def _defaults(account: Account) -> list[str]:
    return list(
        PurchaseOrderNumber.objects.filter(account=account, is_default=True).values_list(
            "value", flat=True
        )
    )


# --- adding, duplicates, validation ------------------------------------------------------------


@pytest.mark.django_db
def test_add_stores_the_cleaned_value_and_audits(account, customer_actor):
    change = po_number_add(account=account, actor=customer_actor, value="  PO-2026-001 ")

    po = PurchaseOrderNumber.objects.get(account=account)
    assert change.po_number.pk == po.pk
    assert (po.value, po.is_default) == ("PO-2026-001", False)
    assert change.revised_invoices == []
    event = AuditEvent.objects.get(account=account)
    assert event.action == "po_number.added"
    assert (event.subject_type, event.subject_id) == ("purchaseordernumber", str(po.pk))
    assert event.new_values == {"value": "PO-2026-001"}


@pytest.mark.django_db
def test_adding_a_duplicate_value_raises_and_changes_nothing(account, customer_actor):
    # Given a PO number on the list
    po_number_add(account=account, actor=customer_actor, value="PO-1")
    events_before = AuditEvent.objects.count()

    # When the same value (with surrounding spaces) is added again
    with pytest.raises(PurchaseOrderNumberExists) as excinfo:
        po_number_add(account=account, actor=customer_actor, value=" PO-1 ", make_default=True)

    # Then it is refused and nothing changed
    assert excinfo.value.code == "po_number_exists"
    assert excinfo.value.details == {"value": "PO-1"}
    assert list(PurchaseOrderNumber.objects.values_list("value", "is_default")) == [("PO-1", False)]
    assert AuditEvent.objects.count() == events_before


@pytest.mark.django_db
def test_the_same_value_may_be_used_by_another_account(account, customer_actor):
    PurchaseOrderNumberFactory(account=AccountFactory(), value="PO-1")

    po_number_add(account=account, actor=customer_actor, value="PO-1")

    assert PurchaseOrderNumber.objects.filter(value="PO-1").count() == 2


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("value", "message"),
    [
        ("", "This field is required."),
        ("   ", "This field is required."),
        ("P" * 65, "Use at most 64 characters (you used 65)."),
        ("PO\n1", "Line breaks and control characters are not allowed here."),
    ],
)
def test_add_refuses_blank_too_long_or_multi_line_values(account, customer_actor, value, message):
    with pytest.raises(ValidationFailed) as excinfo:
        po_number_add(account=account, actor=customer_actor, value=value, make_default=True)

    assert excinfo.value.field_errors == {"value": [message]}
    assert PurchaseOrderNumber.objects.count() == 0
    assert AuditEvent.objects.count() == 0


@pytest.mark.django_db
def test_add_accepts_64_characters(account, customer_actor):
    po_number_add(account=account, actor=customer_actor, value="P" * 64)

    assert PurchaseOrderNumber.objects.get(account=account).value == "P" * 64


@pytest.mark.django_db
def test_update_to_another_existing_value_raises_and_changes_nothing(account, customer_actor):
    first = po_number_add(account=account, actor=customer_actor, value="PO-1").po_number
    po_number_add(account=account, actor=customer_actor, value="PO-2")
    events_before = AuditEvent.objects.count()

    with pytest.raises(PurchaseOrderNumberExists):
        po_number_update(po_number=first, actor=customer_actor, value="PO-2")

    assert sorted(PurchaseOrderNumber.objects.values_list("value", flat=True)) == ["PO-1", "PO-2"]
    assert AuditEvent.objects.count() == events_before


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("value", "message"),
    [("  ", "This field is required."), ("P" * 65, "Use at most 64 characters (you used 65).")],
)
def test_update_refuses_blank_or_too_long_values(account, customer_actor, value, message):
    po = po_number_add(account=account, actor=customer_actor, value="PO-1").po_number
    events_before = AuditEvent.objects.count()

    with pytest.raises(ValidationFailed) as excinfo:
        po_number_update(po_number=po, actor=customer_actor, value=value)

    assert excinfo.value.field_errors == {"value": [message]}
    assert PurchaseOrderNumber.objects.get(pk=po.pk).value == "PO-1"
    assert AuditEvent.objects.count() == events_before


# --- default --------------------------------------------------------------------------------------


@pytest.mark.django_db
def test_making_a_po_default_clears_the_previous_default(account, customer_actor):
    # Given PO-A is the default
    po_a = po_number_add(
        account=account, actor=customer_actor, value="PO-A", make_default=True
    ).po_number
    assert _defaults(account) == ["PO-A"]

    # When PO-B is added as the new default
    po_b = po_number_add(
        account=account, actor=customer_actor, value="PO-B", make_default=True
    ).po_number

    # Then only PO-B is the default
    assert _defaults(account) == ["PO-B"]
    assert PurchaseOrderNumber.objects.get(pk=po_a.pk).is_default is False
    events = list(AuditEvent.objects.filter(action="po_number.default_set"))
    assert [(e.subject_id, e.old_values, e.new_values) for e in events] == [
        (str(po_a.pk), {"default": None}, {"default": "PO-A"}),
        (str(po_b.pk), {"default": "PO-A"}, {"default": "PO-B"}),
    ]

    # When PO-A is made the default again through an update
    po_number_update(po_number=po_a, actor=customer_actor, value="PO-A", make_default=True)

    # Then only PO-A is the default, and its value did not "change"
    assert _defaults(account) == ["PO-A"]
    assert not AuditEvent.objects.filter(action="po_number.updated").exists()
    assert AuditEvent.objects.filter(action="po_number.default_set").count() == 3


@pytest.mark.django_db
def test_making_the_current_default_default_again_writes_nothing(account, customer_actor):
    po = po_number_add(
        account=account, actor=customer_actor, value="PO-A", make_default=True
    ).po_number
    events_before = AuditEvent.objects.count()

    po_number_update(po_number=po, actor=customer_actor, value="PO-A", make_default=True)

    assert _defaults(account) == ["PO-A"]
    assert AuditEvent.objects.count() == events_before


@pytest.mark.django_db
def test_defaults_of_other_accounts_are_kept(account, customer_actor):
    other = PurchaseOrderNumberFactory(account=AccountFactory(), value="OTHER", is_default=True)

    po_number_add(account=account, actor=customer_actor, value="MINE", make_default=True)

    assert PurchaseOrderNumber.objects.get(pk=other.pk).is_default is True
    assert _defaults(account) == ["MINE"]


@pytest.mark.django_db
def test_deleting_a_po_keeps_invoices_that_carry_it(account, customer_actor):
    # Given a default PO that an invoice carries
    po = po_number_add(
        account=account, actor=customer_actor, value="PO-A", make_default=True
    ).po_number
    invoice = _invoice(account, customer_actor, po_number=None)
    assert invoice.po_number == "PO-A"
    before = _state(invoice)

    # When the PO is deleted
    po_number_delete(po_number=po, actor=customer_actor)

    # Then it is gone (so there is no default) and the invoice is unchanged
    assert not PurchaseOrderNumber.objects.filter(account=account).exists()
    assert _state(invoice) == before
    event = AuditEvent.objects.filter(action="po_number.deleted").get()
    assert (event.subject_id, event.old_values) == (
        str(po.pk),
        {"value": "PO-A", "is_default": True},
    )
    # And the next invoice has no PO number
    assert _invoice(account, customer_actor, po_number=None).po_number == ""


# --- applying to unpaid invoices ----------------------------------------------------------------


@pytest.mark.django_db
def test_apply_to_unpaid_revises_only_the_accounts_unpaid_invoices(account, customer_actor):
    # Given two unpaid, one paid and one void invoice on the account
    _raise_unpaid_limit(account)
    unpaid_old_po = _invoice(account, customer_actor, po_number="PO-OLD", notes="Cost centre 7")
    unpaid_no_po = _invoice(account, customer_actor, po_number="")
    paid = _invoice(account, customer_actor, po_number="PO-OLD")
    _pay(paid, customer_actor)
    void = _invoice(account, customer_actor, po_number="PO-OLD")
    _void(void, customer_actor)
    # And an unpaid invoice of another account
    other_account = AccountFactory()
    BillingProfileFactory(account=other_account)
    other = _invoice(other_account, customer_actor, po_number="")
    before = {inv.pk: _state(inv) for inv in (unpaid_old_po, unpaid_no_po, paid, void, other)}
    untouched_revisions = {inv.pk: _revisions(inv) for inv in (paid, void, other)}

    # When a new PO is added and applied to unpaid invoices
    change = po_number_add(
        account=account, actor=customer_actor, value="PO-NEW", apply_to_unpaid=True
    )

    # Then exactly the two unpaid invoices were revised, oldest first
    assert [inv.pk for inv in change.revised_invoices] == [unpaid_old_po.pk, unpaid_no_po.pk]
    for invoice, old_po in ((unpaid_old_po, "PO-OLD"), (unpaid_no_po, "")):
        # revision 2: same number, amounts and lines; only PO number and revision changed
        expected = {**before[invoice.pk], "po_number": "PO-NEW", "revision": 2}
        assert _state(invoice) == expected
        assert _revisions(invoice) == [
            (1, old_po, before[invoice.pk]["notes"], ""),
            (2, "PO-NEW", before[invoice.pk]["notes"], REVISE_REASON),
        ]
        events = _revised_events(invoice)
        assert len(events) == 1
        assert events[0].account_id == account.pk
        assert events[0].reason == REVISE_REASON
        assert events[0].old_values == {"po_number": old_po, "revision": 1}
        assert events[0].new_values == {"po_number": "PO-NEW", "revision": 2}
    assert _state(unpaid_old_po)["notes"] == "Cost centre 7"
    # And paid, void and other accounts' invoices were not touched
    for invoice in (paid, void, other):
        assert _state(invoice) == before[invoice.pk]
        assert _revisions(invoice) == untouched_revisions[invoice.pk]
        assert _revised_events(invoice) == []
    assert Invoice.objects.get(pk=paid.pk).status == Invoice.Status.PAID
    assert Invoice.objects.get(pk=void.pk).status == Invoice.Status.VOID


@pytest.mark.django_db
def test_applying_a_po_an_invoice_already_has_creates_no_revision(account, customer_actor):
    # Given one unpaid invoice with PO-1 (typed while ordering) and one without a PO
    with_po = _invoice(account, customer_actor, po_number="PO-1")
    without_po = _invoice(account, customer_actor, po_number="")
    po = PurchaseOrderNumber.objects.get(account=account, value="PO-1")
    with_po_before = _state(with_po)

    # When PO-1 is applied to unpaid invoices
    change = po_number_update(
        po_number=po, actor=customer_actor, value="PO-1", apply_to_unpaid=True
    )

    # Then only the invoice without it is revised
    assert [inv.pk for inv in change.revised_invoices] == [without_po.pk]
    assert _state(with_po) == with_po_before
    assert _revisions(with_po) == [(1, "PO-1", "", "")]
    assert _revised_events(with_po) == []
    assert _state(without_po)["revision"] == 2

    # When it is applied once more
    events_before = AuditEvent.objects.count()
    again = po_number_update(po_number=po, actor=customer_actor, value="PO-1", apply_to_unpaid=True)

    # Then nothing happens
    assert again.revised_invoices == []
    assert AuditEvent.objects.count() == events_before
    assert InvoiceRevision.objects.filter(invoice=without_po).count() == 2


@pytest.mark.django_db
def test_updating_a_po_value_leaves_invoices_alone_unless_applied(account, customer_actor):
    # Given an unpaid invoice carrying PO-1
    invoice = _invoice(account, customer_actor, po_number="PO-1")
    po = PurchaseOrderNumber.objects.get(account=account, value="PO-1")
    before = _state(invoice)

    # When PO-1 is corrected to PO-2 without applying it
    change = po_number_update(po_number=po, actor=customer_actor, value="PO-2")

    # Then the PO changed, audited, and the invoice kept PO-1
    assert change.revised_invoices == []
    assert PurchaseOrderNumber.objects.get(pk=po.pk).value == "PO-2"
    event = AuditEvent.objects.get(action="po_number.updated")
    assert (event.old_values, event.new_values) == ({"value": "PO-1"}, {"value": "PO-2"})
    assert _state(invoice) == before
    assert _revised_events(invoice) == []

    # When it is corrected again to PO-3 and applied to unpaid invoices
    change = po_number_update(
        po_number=po, actor=customer_actor, value="PO-3", apply_to_unpaid=True
    )

    # Then the invoice gets revision 2 with PO-3
    assert [inv.pk for inv in change.revised_invoices] == [invoice.pk]
    assert _state(invoice) == {**before, "po_number": "PO-3", "revision": 2}
    assert _revisions(invoice) == [(1, "PO-1", "", ""), (2, "PO-3", "", REVISE_REASON)]


@pytest.mark.django_db
def test_revising_twice_gives_revision_three(account, customer_actor):
    invoice = _invoice(account, customer_actor, po_number="")

    po_number_add(account=account, actor=customer_actor, value="PO-A", apply_to_unpaid=True)
    po_number_add(account=account, actor=customer_actor, value="PO-B", apply_to_unpaid=True)

    assert _state(invoice)["revision"] == 3
    assert _state(invoice)["po_number"] == "PO-B"
    assert _revisions(invoice) == [
        (1, "", "", ""),
        (2, "PO-A", "", REVISE_REASON),
        (3, "PO-B", "", REVISE_REASON),
    ]


# --- order_place and the PO list -----------------------------------------------------------------


@pytest.mark.django_db
def test_order_without_po_uses_the_default_po(account, customer_actor):
    po_number_add(account=account, actor=customer_actor, value="PO-DEFAULT", make_default=True)

    invoice = _invoice(account, customer_actor, po_number=None)

    assert invoice.order.po_number == "PO-DEFAULT"
    assert invoice.po_number == "PO-DEFAULT"
    assert _revisions(invoice) == [(1, "PO-DEFAULT", "", "")]


@pytest.mark.django_db
def test_order_with_empty_po_uses_none(account, customer_actor):
    po_number_add(account=account, actor=customer_actor, value="PO-DEFAULT", make_default=True)

    invoice = _invoice(account, customer_actor, po_number="")

    assert invoice.order.po_number == ""
    assert invoice.po_number == ""


@pytest.mark.django_db
def test_card_order_does_not_use_the_default_po(account, customer_actor):
    po_number_add(account=account, actor=customer_actor, value="PO-DEFAULT", make_default=True)

    order = order_place(
        account=account,
        actor=customer_actor,
        kind=Order.Kind.CREDITS,
        payment_method=Order.PaymentMethod.CARD,
        credits=100,
    )

    assert order.po_number == ""


@pytest.mark.django_db
def test_order_with_a_typed_new_po_adds_it_to_the_list(account, customer_actor):
    # Given a default PO
    po_number_add(account=account, actor=customer_actor, value="PO-DEFAULT", make_default=True)

    # When the customer types a new PO while ordering
    invoice = _invoice(account, customer_actor, po_number="  PO-TYPED ")

    # Then the invoice carries it, and it is on the list but not the default
    assert invoice.po_number == "PO-TYPED"
    assert list(
        PurchaseOrderNumber.objects.filter(account=account).values_list("value", "is_default")
    ) == [("PO-DEFAULT", True), ("PO-TYPED", False)]
    added = AuditEvent.objects.filter(action="po_number.added", new_values={"value": "PO-TYPED"})
    assert added.count() == 1

    # When it is typed again
    second = _invoice(account, customer_actor, po_number="PO-TYPED")

    # Then it is not added twice
    assert second.po_number == "PO-TYPED"
    assert PurchaseOrderNumber.objects.filter(account=account, value="PO-TYPED").count() == 1
    assert added.count() == 1


@pytest.mark.django_db
def test_order_with_a_too_long_po_is_refused_before_anything_is_written(account, customer_actor):
    orders_before = Order.objects.count()

    with pytest.raises(ValidationFailed) as excinfo:
        _invoice(account, customer_actor, po_number="P" * 65)

    assert excinfo.value.field_errors == {"po_number": ["Use at most 64 characters (you used 65)."]}
    assert Order.objects.count() == orders_before
    assert PurchaseOrderNumber.objects.count() == 0
    assert AuditEvent.objects.count() == 0
