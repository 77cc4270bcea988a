"""Workers leave a heartbeat (`worker_seen`, from `portal.celery` when a task starts);
/healthz/ and `pipeline_status` read it (`workers_state`). In the database, not the broker:
it says when a worker was last seen even while Redis is down, or after it restarted empty."""

from dataclasses import dataclass
from datetime import datetime

from django.conf import settings
from django.utils import timezone

from portal.health.models import WorkerHeartbeat


def worker_seen(*, queue: str, worker: str, at: datetime | None = None) -> None:
    """One statement (an upsert), outside any transaction of the task's."""
    heartbeat = WorkerHeartbeat(queue=queue, worker=worker, seen_at=at or timezone.now())
    WorkerHeartbeat.objects.bulk_create(
        [heartbeat],
        update_conflicts=True,
        unique_fields=["queue"],
        update_fields=["worker", "seen_at"],
    )


@dataclass(frozen=True)
class QueueWorker:
    queue: str
    worker: str | None  # the last one seen; None: never
    seconds_ago: int | None

    def problem(self, within: int) -> str | None:
        if self.seconds_ago is None:
            return f"no worker seen on queue {self.queue}"
        if self.seconds_ago > within:
            return f"no worker seen for {self.seconds_ago} s on queue {self.queue}"
        return None


def queue_workers(queues: list[str], *, now: datetime | None = None) -> list[QueueWorker]:
    now = now or timezone.now()
    seen = {h.queue: h for h in WorkerHeartbeat.objects.filter(queue__in=queues)}
    return [_queue_worker(queue, seen.get(queue), now) for queue in queues]


def _queue_worker(queue: str, heartbeat: WorkerHeartbeat | None, now: datetime) -> QueueWorker:
    if heartbeat is None:
        return QueueWorker(queue, None, None)
    return QueueWorker(queue, heartbeat.worker, int((now - heartbeat.seen_at).total_seconds()))


def workers_state(queues: list[str], *, now: datetime | None = None) -> str:
    """ "ok" when a worker took a task from every queue within WORKER_SEEN_WITHIN_SECONDS,
    else what is wrong ("no worker seen for 312 s on queue handoff")."""
    within = settings.LEADBRIDGE_WORKER_SEEN_WITHIN_SECONDS
    problems = [p for q in queue_workers(queues, now=now) if (p := q.problem(within))]
    return "; ".join(problems) or "ok"
