from django.apps import AppConfig
from django.db.models.signals import post_migrate


class BackofficeConfig(AppConfig):
    default_auto_field = "django.db.models.BigAutoField"
    name = "remit.backoffice"
    verbose_name = "Back office"

    def ready(self) -> None:
        from remit.backoffice.roles import roles_sync

        # After this app's permissions exist (auth's handler is connected first).
        post_migrate.connect(roles_sync, sender=self, dispatch_uid="remit.backoffice.roles")
