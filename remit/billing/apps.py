from django.apps import AppConfig


class BillingConfig(AppConfig):
    name = "remit.billing"
    label = "billing"
    verbose_name = "Billing"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        from remit.billing import checks  # noqa: F401 - registers the system checks
