"""X1: once issued, an invoice's amounts, lines and parties never change.

The walk runs every service of the domain against a set of invoices in every state and then
compares each invoice's frozen content with what it was at issue. The model-level guard is tested
separately: no save, bulk update or delete can change a frozen field.
"""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.db import transaction
from django.utils import timezone

from remit.billing.models import (
    AuditEvent,
    CreditNoteLine,
    Invoice,
    InvoiceLine,
    InvoiceRevision,
    InvoiceTaxLine,
)
from remit.billing.services.accounts import account_activate, account_option_set
from remit.billing.services.billing_profiles import billing_profile_set
from remit.billing.services.invoices import invoice_for_order, invoice_reissue, invoice_void
from remit.billing.services.po_numbers import po_number_add, po_number_delete, po_number_update
from remit.billing.services.validation import BillingProfileInput
from remit.core.errors import InvoiceImmutable
from tests.billing.helpers import (
    ACTOR,
    buy_credits_by_card,
    buy_credits_by_invoice,
    buy_plan_by_invoice,
    pay_card_order,
    pay_invoice,
)
from tests.factories import AccountFactory

pytestmark = pytest.mark.django_db

FROZEN_FIELDS = [
    f.attname
    for f in Invoice._meta.concrete_fields
    if f.attname not in Invoice.MUTABLE_FIELDS and f.attname != "id"
]


def frozen_content(invoice: Invoice) -> dict:
    invoice = Invoice.objects.get(pk=invoice.pk)
    return {
        "fields": {name: getattr(invoice, name) for name in FROZEN_FIELDS},
        "lines": list(invoice.lines.values()),
        "tax_lines": list(invoice.tax_lines.values()),
        "revisions": list(invoice.revisions.values("revision", "po_number", "notes", "created_at")),
    }


def test_no_service_changes_an_issued_invoice(catalogue):
    account = AccountFactory(trial_invoicing=True)
    billing_profile_set(
        account=account,
        actor=ACTOR,
        data=BillingProfileInput(
            legal_name="Original Ltd", address_line1="1 Old Road", city="Leeds",
            postal_code="LS1 1AA", country="GB",
        ),
    )  # fmt: skip
    unpaid = buy_credits_by_invoice(account, credits=100, po_number="PO-A")
    to_pay = buy_credits_by_invoice(account, credits=200)
    pay_invoice(to_pay)
    to_void = buy_credits_by_invoice(account, credits=300)
    card_order = buy_credits_by_card(account, credits=10)
    pay_card_order(card_order, reference="pi_walk")
    card_invoice = Invoice.objects.get(order=card_order)
    invoices = [unpaid, to_pay, to_void, card_invoice]
    before = {invoice.pk: frozen_content(invoice) for invoice in invoices}

    # Every service of the domain, each in a way that could be tempted to touch the invoices.
    billing_profile_set(
        account=account,
        actor=ACTOR,
        data=BillingProfileInput(
            legal_name="Renamed plc", address_line1="2 New Street", city="York",
            postal_code="YO1 7HH", country="GB", tax_id="GB980780684",
        ),
    )  # fmt: skip
    account_option_set(
        account=account,
        actor=ACTOR,
        reason="walk",
        unpaid_invoice_limit=10,
        tax_exempt=True,
        invoicing_during_trial_expires_at=timezone.now() + timedelta(days=5),
    )
    account_activate(account=account, actor=ACTOR, reason="walk")
    change = po_number_add(account=account, actor=ACTOR, value="PO-B", make_default=True)
    po_number_update(
        po_number=change.po_number, actor=ACTOR, value="PO-C", make_default=True,
        apply_to_unpaid=True,
    )  # fmt: skip
    po_number_delete(po_number=change.po_number, actor=ACTOR)
    invoice_void(invoice=to_void, actor=ACTOR, reason_code="duplicate", reason="walk")
    for invoice in invoices:
        invoice_for_order(order=invoice.order, actor=ACTOR)
    replacement = invoice_reissue(invoice=unpaid, actor=ACTOR, reason="walk", credits=400)
    pay_invoice(replacement)
    buy_plan_by_invoice(account, catalogue, term_months=12)

    for invoice in invoices:
        after = frozen_content(invoice)
        # X3 revisions add rows but never change earlier ones.
        assert (
            after["revisions"][: len(before[invoice.pk]["revisions"])]
            == (before[invoice.pk]["revisions"])
        )
        after["revisions"] = before[invoice.pk]["revisions"]
        assert after == before[invoice.pk], invoice.number
    assert Invoice.objects.get(pk=unpaid.pk).buyer["legal_name"] == "Original Ltd"
    # ...and the services did what they should have (the walk did run them).
    statuses = dict(Invoice.objects.values_list("pk", "status"))
    assert [statuses[i.pk] for i in invoices] == ["void", "paid", "void", "paid"]
    assert InvoiceRevision.objects.filter(invoice=unpaid, revision=2, po_number="PO-C").exists()


@pytest.fixture
def invoice(account) -> Invoice:
    return Invoice.objects.get(pk=buy_credits_by_invoice(account).pk)


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("total_minor", 1),
        ("subtotal_minor", 1),
        ("currency", "EUR"),
        ("number", "INV-X"),
        ("issue_date", timezone.localdate() - timedelta(days=1)),
        ("buyer", {"legal_name": "Someone else"}),
        ("seller", {}),
    ],
)
def test_saving_a_changed_frozen_field_is_refused(invoice, field, value):
    setattr(invoice, field, value)

    with pytest.raises(InvoiceImmutable), transaction.atomic():
        invoice.save()

    assert getattr(Invoice.objects.get(pk=invoice.pk), field) != value


def test_saving_frozen_fields_by_name_is_refused(invoice):
    with pytest.raises(InvoiceImmutable):
        invoice.save(update_fields=["total_minor"])


def test_bulk_updates_of_frozen_fields_and_deletes_are_refused(invoice):
    with pytest.raises(InvoiceImmutable):
        Invoice.objects.filter(pk=invoice.pk).update(total_minor=1)
    with pytest.raises(InvoiceImmutable):
        Invoice.objects.filter(pk=invoice.pk).delete()
    with pytest.raises(InvoiceImmutable):
        invoice.delete()
    assert Invoice.objects.get(pk=invoice.pk).total_minor == 10_000


@pytest.mark.parametrize("model", [InvoiceLine, InvoiceTaxLine, InvoiceRevision, AuditEvent])
def test_written_once_rows_cannot_be_changed_or_deleted(invoice, model):
    row = model.objects.first()

    with pytest.raises(InvoiceImmutable):
        row.save()
    with pytest.raises(InvoiceImmutable):
        row.delete()
    with pytest.raises(InvoiceImmutable):
        model.objects.all().delete()


def test_credit_note_lines_cannot_be_changed(invoice):
    invoice_void(invoice=invoice, actor=ACTOR, reason_code="duplicate", reason="")
    line = CreditNoteLine.objects.get()
    line.net_minor = 0

    with pytest.raises(InvoiceImmutable):
        line.save()


def test_the_mutable_status_fields_can_still_be_saved(invoice):
    invoice.notes = "changed through a revision"
    invoice.save(update_fields=["notes"])

    assert Invoice.objects.get(pk=invoice.pk).notes == "changed through a revision"
