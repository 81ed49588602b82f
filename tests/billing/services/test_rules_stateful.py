"""A Hypothesis state machine: random sequences of the customer's and support's actions, checked
against a plain model of the rules (P2, P4, P6, X2, D1) after every step."""

from __future__ import annotations

import pytest
from django.db import transaction
from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.stateful import (
    RuleBasedStateMachine,
    invariant,
    precondition,
    rule,
    run_state_machine_as_test,
)

from remit.billing.models import CreditNote, Invoice, Payment
from remit.billing.selectors.credits import credit_balance
from remit.billing.services.invoices import invoice_reissue, invoice_void
from remit.core.errors import CreditInvoiceBelowMinimum, UnpaidInvoiceLimitReached
from tests.billing.helpers import (
    ACTOR,
    buy_credits_by_card,
    buy_credits_by_invoice,
    pay_card_order,
    pay_invoice,
)
from tests.factories import AccountFactory, BillingProfileFactory, catalogue_create

LIMIT = 3
MINIMUM_CREDITS = 100  # USD 100.00 at USD 1.00 a credit


class InvoicingRules(RuleBasedStateMachine):
    def __init__(self) -> None:
        super().__init__()
        self._transaction = transaction.atomic()
        self._transaction.__enter__()
        catalogue_create()
        self.account = AccountFactory()
        BillingProfileFactory(account=self.account)
        # The model: unpaid invoice id -> credits; usable and pending credits; documents issued.
        self.unpaid: dict[int, int] = {}
        self.balance = 0
        self.pending = 0
        self.invoices_issued = 0
        self.credit_notes_issued = 0
        self.card_references = 0

    def teardown(self) -> None:
        transaction.set_rollback(True)
        self._transaction.__exit__(None, None, None)

    @rule(credits=st.integers(min_value=1, max_value=400))
    def place_credits_by_invoice(self, credits: int) -> None:
        if credits < MINIMUM_CREDITS:
            with pytest.raises(CreditInvoiceBelowMinimum):
                buy_credits_by_invoice(self.account, credits=credits)
        elif len(self.unpaid) >= LIMIT:
            with pytest.raises(UnpaidInvoiceLimitReached) as error:
                buy_credits_by_invoice(self.account, credits=credits)
            assert {item["id"] for item in error.value.details["invoices"]} == set(self.unpaid)
        else:
            invoice = buy_credits_by_invoice(self.account, credits=credits)
            self.unpaid[invoice.pk] = credits
            self.pending += credits
            self.invoices_issued += 1

    @precondition(lambda self: self.unpaid)
    @rule(data=st.data())
    def pay_one(self, data: st.DataObject) -> None:
        invoice_id = data.draw(st.sampled_from(sorted(self.unpaid)))
        pay_invoice(Invoice.objects.get(pk=invoice_id))
        credits = self.unpaid.pop(invoice_id)
        self.pending -= credits
        self.balance += credits

    @precondition(lambda self: self.unpaid)
    @rule(data=st.data())
    def void_one(self, data: st.DataObject) -> None:
        invoice_id = data.draw(st.sampled_from(sorted(self.unpaid)))
        invoice_void(
            invoice=Invoice.objects.get(pk=invoice_id),
            actor=ACTOR,
            reason_code="customer_request",
            reason="",
        )
        self.pending -= self.unpaid.pop(invoice_id)
        self.credit_notes_issued += 1

    @precondition(lambda self: self.unpaid)
    @rule(data=st.data(), credits=st.integers(min_value=50, max_value=400))
    def reissue_one(self, data: st.DataObject, credits: int) -> None:
        invoice_id = data.draw(st.sampled_from(sorted(self.unpaid)))
        invoice = Invoice.objects.get(pk=invoice_id)
        if credits < MINIMUM_CREDITS:
            with pytest.raises(CreditInvoiceBelowMinimum):
                invoice_reissue(invoice=invoice, actor=ACTOR, reason="", credits=credits)
            return
        replacement = invoice_reissue(invoice=invoice, actor=ACTOR, reason="", credits=credits)
        self.pending += credits - self.unpaid.pop(invoice_id)
        self.unpaid[replacement.pk] = credits
        self.invoices_issued += 1
        self.credit_notes_issued += 1

    @rule(credits=st.integers(min_value=1, max_value=50))
    def buy_by_card(self, credits: int) -> None:
        order = buy_credits_by_card(self.account, credits=credits)
        self.card_references += 1
        pay_card_order(order, reference=f"pi_{self.card_references}")
        self.balance += credits
        self.invoices_issued += 1  # a profile exists, so the paid invoice is issued at payment

    @invariant()
    def database_agrees_with_the_model(self) -> None:
        unpaid = Invoice.objects.filter(account=self.account, status=Invoice.Status.ISSUED)
        assert set(unpaid.values_list("pk", flat=True)) == set(self.unpaid)
        assert credit_balance(account=self.account) == type(credit_balance(account=self.account))(
            balance=self.balance, pending=self.pending
        )

    @invariant()
    def numbers_are_gapless_and_totals_add_up(self) -> None:
        sequences = sorted(Invoice.objects.values_list("sequence", flat=True))
        assert sequences == list(range(1, self.invoices_issued + 1))
        notes = sorted(CreditNote.objects.values_list("sequence", flat=True))
        assert notes == list(range(1, self.credit_notes_issued + 1))
        for invoice in Invoice.objects.all():
            assert invoice.total_minor == invoice.subtotal_minor + invoice.tax_minor
            assert invoice.subtotal_minor == sum(invoice.lines.values_list("net_minor", flat=True))
        assert Payment.objects.count() == Payment.objects.values("order").distinct().count()


@pytest.mark.django_db
def test_invoicing_rules_hold_for_any_sequence_of_actions():
    run_state_machine_as_test(
        InvoicingRules,
        settings=settings(
            max_examples=25,
            stateful_step_count=15,
            deadline=None,
            suppress_health_check=[HealthCheck.too_slow],
        ),
    )
