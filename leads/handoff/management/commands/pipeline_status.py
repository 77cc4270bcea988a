"""The handoff pipeline at a glance: what waits in the database, in the broker, and who works.

Every question to the broker is bounded by a short timeout, so this answers (saying the broker
is down) while Redis is stopped or stalled. When each queue last had a worker comes from the
workers' heartbeats in the database (portal/health), so it is known with the broker down too;
the last line says "status: degraded" as /healthz/ does.
"""

from datetime import timedelta

from django.conf import settings
from django.core.management.base import BaseCommand
from django.utils import timezone

from leads.handoff.selectors import Backlog, unrouted_backlog, unscored_backlog
from portal import broker
from portal.health.heartbeats import queue_workers


class Command(BaseCommand):
    help = (
        "Unscored and unrouted counts with the oldest's age, queue lengths, when each queue "
        "last had a worker, workers answering a ping, and ok or degraded."
    )

    def add_arguments(self, parser):
        parser.add_argument(
            "--ping-timeout", type=float, default=1.0, help="seconds to wait for workers"
        )

    def handle(self, *args, ping_timeout: float, **options):
        now = timezone.now()
        self.stdout.write(f"unscored submissions: {_backlog(unscored_backlog(), now)}")
        self.stdout.write(f"unrouted leads:       {_backlog(unrouted_backlog(), now)}")
        if not broker.broker_configured():
            self.stdout.write("broker: not configured (tasks run in-process)")
            return
        queues = [settings.CELERY_HANDOFF_QUEUE, settings.CELERY_BULK_QUEUE]
        problems = self._workers_seen(queues, now)
        if not self._broker(queues, ping_timeout):
            problems.insert(0, "broker down")
        if problems:
            self.stdout.write(self.style.ERROR(f"status: degraded ({'; '.join(problems)})"))
        else:
            self.stdout.write("status: ok")

    def _workers_seen(self, queues: list[str], now) -> list[str]:
        """A line per queue: when a worker last took a task from it (its heartbeat)."""
        within = settings.LEADBRIDGE_WORKER_SEEN_WITHIN_SECONDS
        problems = []
        for seen in queue_workers(queues, now=now):
            if problem := seen.problem(within):
                problems.append(problem)
                self.stdout.write(self.style.WARNING(f"queue {seen.queue}: {problem}"))
            else:
                self.stdout.write(
                    f"queue {seen.queue}: worker seen {seen.seconds_ago} s ago ({seen.worker})"
                )
        return problems

    def _broker(self, queues: list[str], ping_timeout: float) -> bool:
        lengths = broker.queue_lengths(queues)
        if lengths is None:
            self.stdout.write(self.style.ERROR("broker: down"))
            return False
        self.stdout.write("broker: ok")
        for name, length in lengths.items():
            self.stdout.write(f"queue {name}: {length} waiting")
        workers = broker.workers_seen(timeout=ping_timeout)
        if workers is None:
            self.stdout.write(self.style.ERROR("workers: the broker stopped answering"))
        elif not workers:
            self.stdout.write(self.style.WARNING("workers: none answered"))
        else:
            self.stdout.write(f"workers: {len(workers)} ({', '.join(workers)})")
        return True


def _backlog(backlog: Backlog, now) -> str:
    if not backlog.count:
        return "0"
    return f"{backlog.count}, oldest {_age(backlog.oldest_age(now))}"


def _age(age: timedelta) -> str:
    seconds = int(age.total_seconds())
    if seconds < 120:
        return f"{seconds} s"
    if seconds < 7200:
        return f"{seconds // 60} min"
    return f"{seconds // 3600} h"
