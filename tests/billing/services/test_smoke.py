import pytest

from remit.billing.models import Invoice, Order
from remit.billing.services.orders import order_place


@pytest.mark.django_db
def test_credits_by_invoice_issues_an_outstanding_invoice(account, customer_actor):
    order = order_place(
        account=account,
        actor=customer_actor,
        kind=Order.Kind.CREDITS,
        payment_method=Order.PaymentMethod.INVOICE,
        credits=100,
    )
    invoice = order.invoice
    assert invoice.status == Invoice.Status.ISSUED
    assert invoice.total_minor == 10_000
    assert invoice.number.startswith("INV-")
