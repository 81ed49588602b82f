"""The back office's roles (issue 5): groups made of permissions; an administrator is a
superuser or a member of the Administrator group."""

from __future__ import annotations

VIEW = [
    "billing.view_account",
    "billing.view_membership",
    "billing.view_billingprofile",
    "billing.view_order",
    "billing.view_invoice",
    "billing.view_creditnote",
    "billing.view_payment",
    "billing.view_purchaseordernumber",
    "billing.view_changerequest",
    "billing.view_auditevent",
    "documents.view_document",
    "documents.view_emailmessage",
    "integrations.view_stripeevent",
]

ROLES: dict[str, list[str]] = {
    "Support agent": [
        *VIEW,
        "backoffice.answer_change_requests",
        "backoffice.resend_emails",
        "backoffice.manage_trial_invoicing",
        "backoffice.manage_accounts",
    ],
    "Finance": [
        *VIEW,
        "backoffice.void_invoices",
        "backoffice.record_payments",
        "backoffice.change_limits",
        "backoffice.resend_emails",
    ],
}
ROLES["Administrator"] = sorted(
    {
        *ROLES["Support agent"],
        *ROLES["Finance"],
        "backoffice.verify_archive",
        "integrations.view_apikey",
        "integrations.add_apikey",
        "integrations.change_apikey",
        "integrations.view_webhookendpoint",
        "integrations.view_webhookdelivery",
        "integrations.change_webhookdelivery",
    }
)


def roles_sync(**_: object) -> None:
    """Create the role groups and give them exactly their permissions (idempotent; runs after
    every migrate)."""
    from django.contrib.auth.models import Group, Permission

    for name, codes in ROLES.items():
        group, _created = Group.objects.get_or_create(name=name)
        permissions = []
        for code in codes:
            app_label, codename = code.split(".")
            permission = Permission.objects.filter(
                content_type__app_label=app_label, codename=codename
            ).first()
            if permission is None:
                raise LookupError(f"Permission {code} does not exist")
            permissions.append(permission)
        group.permissions.set(permissions)
