from django.contrib.auth import views as auth_views
from django.urls import path, reverse_lazy
from django.views.generic import RedirectView

from remit.usercenter import buying, views
from remit.usercenter.forms import SignInForm

app_name = "usercenter"

urlpatterns = [
    path("", RedirectView.as_view(pattern_name="usercenter:orders"), name="home"),
    path(
        "sign-in/",
        auth_views.LoginView.as_view(
            template_name="usercenter/sign_in.html",
            authentication_form=SignInForm,
            redirect_authenticated_user=True,
        ),
        name="login",
    ),
    path("sign-out/", auth_views.LogoutView.as_view(), name="logout"),
    path(
        "password-reset/",
        views.PasswordResetView.as_view(
            template_name="usercenter/password_reset.html",
            email_template_name="usercenter/password_reset_email.txt",
            subject_template_name="usercenter/password_reset_subject.txt",
            success_url=reverse_lazy("usercenter:password_reset_done"),
        ),
        name="password_reset",
    ),
    path(
        "password-reset/sent/",
        auth_views.PasswordResetDoneView.as_view(
            template_name="usercenter/password_reset_done.html"
        ),
        name="password_reset_done",
    ),
    path(
        "password-reset/<uidb64>/<token>/",
        auth_views.PasswordResetConfirmView.as_view(
            template_name="usercenter/password_reset_confirm.html",
            success_url=reverse_lazy("usercenter:password_reset_complete"),
        ),
        name="password_reset_confirm",
    ),
    path(
        "password-reset/complete/",
        auth_views.PasswordResetCompleteView.as_view(
            template_name="usercenter/password_reset_complete.html"
        ),
        name="password_reset_complete",
    ),
    path("portal/<str:token>/", views.portal_link, name="portal_link"),
    path("orders/", views.orders, name="orders"),
    path("settings/billing/", views.settings_billing, name="settings_billing"),
    path(
        "settings/billing/details/", views.settings_billing_profile, name="settings_billing_profile"
    ),
    path("settings/billing/po-numbers/", views.settings_po_number_add, name="settings_po_add"),
    path(
        "settings/billing/po-numbers/<int:po_id>/",
        views.settings_po_number_change,
        name="settings_po_change",
    ),
    path("orders/<int:order_id>/invoice/", views.order_invoice, name="order_invoice"),
    path("documents/<int:document_id>.pdf", views.document_pdf, name="document_pdf"),
    path("documents/<int:document_id>/print/", views.document_print, name="document_print"),
    path("documents/<int:document_id>/resend/", views.document_resend, name="document_resend"),
    path("invoices/<int:invoice_id>/", views.invoice_detail, name="invoice_detail"),
    path("invoices/<int:invoice_id>/print/", views.invoice_print, name="invoice_print"),
    path("invoices/<int:invoice_id>/pay/", buying.invoice_pay, name="invoice_pay"),
    path(
        "invoices/<int:invoice_id>/change-request/",
        views.invoice_change_request,
        name="invoice_change_request",
    ),
    path("invoices/<int:invoice_id>/resend/", views.invoice_resend, name="invoice_resend"),
    path("documents/export.zip", views.documents_export, {"fmt": "zip"}, name="documents_zip"),
    path("documents/export.csv", views.documents_export, {"fmt": "csv"}, name="documents_csv"),
    path("buy/", buying.buy, name="buy"),
    path("buy/<str:kind>/", buying.buy_submit, name="buy_submit"),
    path("buy/<str:kind>/preview/", buying.buy_preview, {"fmt": "html"}, name="buy_preview"),
    path("buy/<str:kind>/preview.pdf", buying.buy_preview, {"fmt": "pdf"}, name="buy_preview_pdf"),
    path(
        "orders/<int:order_id>/invoice/preview/",
        buying.gate_preview,
        {"fmt": "html"},
        name="gate_preview",
    ),
    path(
        "orders/<int:order_id>/invoice/preview.pdf",
        buying.gate_preview,
        {"fmt": "pdf"},
        name="gate_preview_pdf",
    ),
    path("checkout/<str:token>/test/", buying.checkout_test, name="checkout_test"),
    path("checkout/<str:token>/return/", buying.checkout_return_view, name="checkout_return"),
    path("checkout/<str:token>/cancel/", buying.checkout_cancel_view, name="checkout_cancel"),
]
