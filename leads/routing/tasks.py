"""Routing's side of the pool release (docs/routing.md): a rep may have room, so ask for one.

The release itself is a handoff message (`leads.handoff.tasks.release_pools`): on the
handoff queue, where no import or re-scoring can hold it up.
"""

from leads.routing import services


def after_reps_freed(sender, rep_ids, **kwargs) -> None:
    """A lead left a rep's open load (the kernel's `reps_freed`): release after the commit."""
    services.release_after_commit(rep_ids=rep_ids)
