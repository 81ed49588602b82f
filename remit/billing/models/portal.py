from __future__ import annotations

from django.conf import settings
from django.db import models

from remit.billing.models.accounts import Account


class PortalLink(models.Model):
    """A one-time link the operator's backend creates to sign a customer straight into the
    User Center (UC1). Only the SHA-256 of the token is stored; it works once, until expiry."""

    account = models.ForeignKey(Account, on_delete=models.CASCADE, related_name="portal_links")
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    # Hex SHA-256 of the random token in the URL.
    token_sha256 = models.CharField(max_length=64, unique=True)
    # Where to land after signing in: a path inside the User Center.
    next_path = models.CharField(max_length=200, default="/orders/")
    created_at = models.DateTimeField(auto_now_add=True)
    expires_at = models.DateTimeField()
    used_at = models.DateTimeField(null=True, blank=True)
    created_by = models.CharField(max_length=200)

    def __str__(self) -> str:
        return f"Portal link {self.pk} for {self.account}"
