from django.contrib.auth import views as auth_views
from django.urls import path, reverse_lazy
from django.views.generic import RedirectView

from remit.usercenter import views
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
        auth_views.PasswordResetView.as_view(
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
    path("invoices/<int:invoice_id>/print/", views.invoice_print, name="invoice_print"),
]
