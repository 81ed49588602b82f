from __future__ import annotations

from django.db import models


class BackOfficeAction(models.Model):
    """No table: carries the permissions of the back office's support actions, which the role
    groups (remit.backoffice.roles) are made of and every admin action checks."""

    class Meta:
        managed = False
        default_permissions = ()
        permissions = [
            ("answer_change_requests", "Assign and answer change requests"),
            ("resend_emails", "Resend document emails"),
            ("manage_trial_invoicing", "Enable or disable invoicing during trial"),
            ("void_invoices", "Void and reissue invoices"),
            ("record_payments", "Record manual payments"),
            ("change_limits", "Change an account's unpaid-invoice limit"),
            ("verify_archive", "Run the archive verification"),
            ("manage_accounts", "Create customer accounts, invite members, set time zones"),
        ]
