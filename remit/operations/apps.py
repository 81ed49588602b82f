from django.apps import AppConfig


class OperationsConfig(AppConfig):
    """Running Remit: health, metrics, worker heartbeats and pruning (O2)."""

    name = "remit.operations"
    default_auto_field = "django.db.models.BigAutoField"
