"""The handoff's claims on its work: rows due now, locked with SKIP LOCKED.

A submission is due for scoring while `Submission.qualify_due_at` is set and past; a
qualified lead is due for routing unless `Lead.route_due_at` is still ahead. Each claim runs
in the caller's transaction and locks what it returns, skipping rows another batch holds,
so two workers split the waiting work and never judge or route the same row twice. A batch
that cannot be written is put off by `HANDOFF_RETRY`, so one bad row never holds up the rest.
"""

from datetime import timedelta

from django.conf import settings
from django.db import connection
from django.db.models import Q
from django.utils import timezone

from leads import lifecycle
from leads.models import Lead, Stage, Submission
from portal.sql import one_of
from scoring.models import Qualification

HANDOFF_RETRY = timedelta(seconds=settings.LEADBRIDGE_HANDOFF_RETRY_SECONDS)


# What scoring reads of a claimed submission: the rest (its UTM tags, problems, address...)
# cost a model field each, two of them JSON to decode, for nothing.
SCORED_FIELDS = ("form_id", "lead_id", "form_version_id", "payload", "received_at")


def submissions_claim(*, limit: int) -> list[Submission]:
    """Up to `limit` submissions due for scoring, oldest first, locked for this transaction;
    only what scoring reads of them is loaded (`SCORED_FIELDS`)."""
    due = Submission.objects.filter(qualify_due_at__lte=timezone.now()).only(*SCORED_FIELDS)
    return list(
        due.order_by("qualify_due_at", "pk").select_for_update(skip_locked=True, of=("self",))[
            :limit
        ]
    )


def submissions_done(*, submission_ids: list[int]) -> None:
    """After a scoring batch, in one statement: those of these submissions that have their
    judgement are done; those still due (failed, or no agreement judges them yet) are tried
    again after `HANDOFF_RETRY`, behind the work that is due, so they never block the head
    of the queue."""
    if not submission_ids:
        return
    retry_at = connection.ops.adapt_datetimefield_value(timezone.now() + HANDOFF_RETRY)
    ids, params = one_of("id", submission_ids)
    judged, judged_params = one_of("submission_id", submission_ids)
    # The judged ones by one subquery for the statement (a correlated EXISTS was planned as
    # a scan of the judgements per row while the table's statistics were young).
    with connection.cursor() as cursor:
        cursor.execute(
            f"UPDATE {Submission._meta.db_table} SET qualify_due_at = CASE WHEN id IN "  # noqa: S608 - the models' names
            f"(SELECT submission_id FROM {Qualification._meta.db_table} WHERE {judged}) "
            f"THEN NULL ELSE %s END WHERE {ids} AND qualify_due_at IS NOT NULL",
            [*judged_params, retry_at, *params],
        )


def _routing_due(now) -> Q:
    return Q(stage=Stage.QUALIFIED) & (Q(route_due_at__isnull=True) | Q(route_due_at__lte=now))


def leads_claim_for_routing(*, limit: int) -> list[Lead]:
    """Up to `limit` qualified leads due for routing, longest waiting first, locked."""
    due = Lead.objects.filter(_routing_due(timezone.now()))
    return list(
        due.order_by("stage_changed_at", "pk").select_for_update(skip_locked=True, of=("self",))[
            :limit
        ]
    )


def leads_put_off(*, lead_ids: list[int]) -> None:
    Lead.objects.filter(pk__in=lead_ids, stage=Stage.QUALIFIED).update(
        route_due_at=timezone.now() + HANDOFF_RETRY
    )


KEPT_FROM_REPS = (
    "Not handed to a rep: it came only from a CSV import told not to hand open leads to reps. "
    "Kept in nurture for marketing; a form post of its own brings it back to sales."
)


def leads_not_for_reps(*, leads: list[Lead]) -> list[Lead]:
    """Those of these leads that only imports told "do not hand open leads to reps" brought:
    every submission of theirs says so (`Submission.for_reps`). One small query on a partial
    index that holds only such submissions, so a batch of live leads pays almost nothing; a
    second only when the batch has such leads."""
    leads_of, params = one_of("lead_id", [lead.pk for lead in leads])
    with connection.cursor() as cursor:
        cursor.execute(
            f"SELECT lead_id FROM {Submission._meta.db_table} "  # noqa: S608 - the model's name
            f"WHERE {leads_of} AND NOT for_reps",  # the partial index's condition
            params,
        )
        marked = {lead_id for (lead_id,) in cursor.fetchall()}
    if not marked:
        return []
    live = set(
        Submission.objects.filter(lead_id__in=marked, for_reps=True)
        .order_by()
        .values_list("lead_id", flat=True)
    )
    return [lead for lead in leads if lead.pk in marked - live]


def leads_keep_from_reps(*, leads: list[Lead]) -> None:
    """Qualified leads (claimed, locked) that no rep gets: to nurture, and why, in one batch."""
    if leads:
        lifecycle.leads_keep_from_reps(
            leads=leads, reason=KEPT_FROM_REPS, data={"not_for_reps": True}
        )
