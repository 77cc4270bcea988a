"""The handoff's claims on its work, in the healthchecks way: a conditional UPDATE.

A step is pending while its row has a due time (`Submission.qualify_due_at`,
`Lead.route_due_at` on a qualified lead). Publishing a message leases the step until
`lease_from_now()`; the sweeper takes only steps whose lease ran out, so work whose message
is merely waiting in the queue is not queued twice. A failed publish releases the lease.
"""

from datetime import timedelta

from django.conf import settings
from django.db import transaction
from django.db.models import Q
from django.utils import timezone

from leads.models import Lead, Stage, Submission, lease_from_now


def submission_scored(*, submission_id: int) -> int | None:
    """Close the scoring step of a submission that has a qualification; its lead's id."""
    done = Submission.objects.filter(pk=submission_id, qualification__isnull=False)
    lead_id = done.values_list("lead_id", flat=True).first()
    if lead_id is not None:
        done.filter(qualify_due_at__isnull=False).update(qualify_due_at=None)
    return lead_id


def submissions_claim(*, limit: int = 1000) -> list[int]:
    """Unscored submissions whose lease ran out, leased again for one more message."""
    with transaction.atomic():
        due = Submission.objects.filter(qualify_due_at__lte=timezone.now())
        ids = list(
            due.order_by("qualify_due_at", "pk")
            .select_for_update(skip_locked=True)
            .values_list("pk", flat=True)[:limit]
        )
        Submission.objects.filter(pk__in=ids).update(qualify_due_at=lease_from_now())
    return ids


def _routing_unleased(now) -> Q:
    # A lead qualified by a path that published nothing has no lease: it gets the same grace.
    grace = now - timedelta(seconds=settings.LEADBRIDGE_SWEEP_AFTER_SECONDS)
    return Q(route_due_at__isnull=True, stage_changed_at__lt=grace) | Q(route_due_at__lte=now)


def lead_claim_for_routing(*, lead_id: int) -> bool:
    """Lease the routing of a qualified lead, unless a message for it is already out."""
    now = timezone.now()
    unleased = Q(route_due_at__isnull=True) | Q(route_due_at__lte=now)
    claimed = Lead.objects.filter(unleased, pk=lead_id, stage=Stage.QUALIFIED)
    return claimed.update(route_due_at=lease_from_now()) == 1


def leads_claim_for_routing(*, limit: int = 1000) -> list[int]:
    """Qualified leads never routed whose lease ran out, leased again."""
    with transaction.atomic():
        due = Lead.objects.filter(_routing_unleased(timezone.now()), stage=Stage.QUALIFIED)
        ids = list(
            due.order_by("stage_changed_at", "pk")
            .select_for_update(skip_locked=True)
            .values_list("pk", flat=True)[:limit]
        )
        Lead.objects.filter(pk__in=ids).update(route_due_at=lease_from_now())
    return ids


def submissions_release(*, submission_ids: list[int]) -> None:
    """Their messages were not sent: due now, for the next sweep."""
    pending = Submission.objects.filter(pk__in=submission_ids, qualify_due_at__isnull=False)
    pending.update(qualify_due_at=timezone.now())


def leads_release(*, lead_ids: list[int]) -> None:
    """Their messages were not sent: due now, for the next sweep."""
    Lead.objects.filter(pk__in=lead_ids, stage=Stage.QUALIFIED).update(route_due_at=timezone.now())
