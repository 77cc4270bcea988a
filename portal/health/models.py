from django.db import models


class WorkerHeartbeat(models.Model):
    """When a Celery worker last started a task from a queue. Beat sends a task to each
    queue every SWEEP_EVERY_SECONDS, so a queue no worker took one from for a few sweeps has
    no worker (or no beat, or no broker) working it."""

    queue = models.CharField(max_length=200, primary_key=True)
    worker = models.CharField(max_length=200, help_text="The worker's node name, e.g. handoff@host")
    seen_at = models.DateTimeField()

    def __str__(self) -> str:
        return f"{self.queue}: {self.worker} at {self.seen_at:%Y-%m-%d %H:%M:%S}"
