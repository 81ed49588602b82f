"""What the operator's monitoring reads besides the business rows."""

from __future__ import annotations

from django.db import models


class WorkerHeartbeat(models.Model):
    """A background worker process that is alive: it writes its row every round, so /health and
    /metrics can tell a stopped worker from an idle one, on any machine."""

    # host:pid, unique per running process.
    name = models.CharField(max_length=200, unique=True)
    # The queues it takes tasks from, comma-separated, in priority order.
    queues = models.CharField(max_length=200)
    started_at = models.DateTimeField()
    seen_at = models.DateTimeField()

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return f"{self.name} ({self.queues})"
