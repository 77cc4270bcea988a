"""Routing's own message: release the pools when a rep may have room (docs/routing.md)."""

from celery import shared_task

from leads.routing import services
from portal.task_options import BULK, RETRY


# On the bulk queue: the handoff queue carries `hand_off` alone (the outbox counts on it).
@shared_task(name=services.RELEASE_TASK, **BULK, **RETRY)
def release_pools(queue_ids: list[int], rep_ids: list[int]) -> None:
    """Route the leads waiting in the pools these queues or reps may take from; a release
    that finds them routed or claimed by another does nothing (`services.pools_release`)."""
    services.pools_release(queue_ids=queue_ids, rep_ids=rep_ids)


def after_reps_freed(sender, rep_ids, **kwargs) -> None:
    """A lead left a rep's open load (the kernel's `reps_freed`): release after the commit."""
    services.release_after_commit(rep_ids=rep_ids)
