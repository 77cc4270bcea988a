"""What the agreement decides after a lead is handed over: its clocks when the service levels
change, and the return of a recycled lead on its date.

- A new version becoming active may change the service levels or the working hours: every
  running clock is counted again from where it started (`clocks_recount_batch`, on the bulk
  queue, one UPDATE per batch; scoring.tasks), as is each of a queue's when its working hours
  or reminder share change; managers watch it as they watch a re-scoring (`RescoreRun`).
- A recycled lead comes back to sales on its `nurture_until` day, in the time zone of its
  queue when that sets its own working hours, else of the agreement that judges its form: it
  is judged again by that version (the re-scoring's judging), and moves to qualified if it
  qualifies; routing follows as for a new lead. Each one judged again is marked
  `back_from_nurture`, saying whether it qualified.
"""

from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

from django.db import transaction
from django.utils import timezone

from leads import locks
from leads.clock import clocks_recount
from leads.events import events_record, new_back_from_nurture
from leads.lifecycle import leads_save
from leads.models import Lead, Stage
from scoring.progress import RescoreRun
from scoring.rescore import _rescored
from scoring.selectors import agreements_by_form


def clocks_recount_run_create(*, why: str, queue_id: int | None = None) -> RescoreRun:
    """The progress row of a recount of the running clocks (of one queue, or all), counting
    them; in the transaction of the change that starts it."""
    running = Lead.objects.filter(due_at__isnull=False)
    if queue_id is not None:
        running = running.filter(queue_id=queue_id)
    return RescoreRun.objects.create(
        kind=RescoreRun.Kind.CLOCKS, queue_id=queue_id, why=why[:200], total=running.count()
    )


def clocks_recount_latest() -> RescoreRun | None:
    return RescoreRun.objects.filter(kind=RescoreRun.Kind.CLOCKS).first()


def clocks_recount_batch(*, run_id: int, size: int) -> bool:
    """Count again the running clocks of the run's next `size` leads; False once it is
    finished. The run's row is locked, so two tasks of one run never do a batch twice."""
    with transaction.atomic():
        found = locks.rows_locked(RescoreRun, [run_id])
        if not found or found[0].finished_at is not None:
            return False
        run, now = found[0], timezone.now()
        running = Lead.objects.filter(due_at__isnull=False, pk__gt=run.cursor)
        if run.queue_id is not None:
            running = running.filter(queue_id=run.queue_id)
        ids = list(running.order_by("pk").values_list("pk", flat=True)[:size])
        if not ids:
            run.finished_at = run.updated_at = now
            run.save(update_fields=["finished_at", "updated_at"])
            return False
        leads = list(
            Lead.objects.filter(pk__in=ids, due_at__isnull=False)
            .select_related("queue")
            .select_for_update(of=("self",))
            .order_by("pk")
        )
        clocks_recount(leads)
        leads_save(leads, ["due_at", "remind_at", "due_soon_at", "accept_due_at", "contact_due_at"])
        run.cursor, run.done, run.updated_at = ids[-1], run.done + len(ids), now
        run.save(update_fields=["cursor", "done", "updated_at"])
    return True


def leads_back_from_nurture(*, limit: int, now: datetime | None = None) -> int:
    """Judge again up to `limit` recycled leads whose return day has come; how many were due.

    Claimed with SKIP LOCKED, and their return day emptied in the same transaction, so two
    runs at once never judge a lead twice."""
    now = now or timezone.now()
    with transaction.atomic():
        # The latest day any time zone has reached; each lead's own is checked below.
        latest = (now + timedelta(hours=14)).date()
        candidates = list(
            Lead.objects.filter(stage=Stage.RECYCLED, nurture_until__lte=latest)
            .select_related("queue")
            .order_by("nurture_until", "pk")
            .select_for_update(skip_locked=True, of=("self",))[:limit]
        )
        judges = agreements_by_form(form_ids={lead.source_form_id for lead in candidates})
        due = [
            lead
            for lead in candidates
            if lead.source_form_id in judges
            and _today(now, lead, judges[lead.source_form_id]) >= lead.nurture_until
        ]
        if not due:
            return 0
        by_agreement: dict[int, list[Lead]] = {}
        for lead in due:
            by_agreement.setdefault(judges[lead.source_form_id].pk, []).append(lead)
        returned = {lead.pk: lead.nurture_until for lead in due}
        for leads in by_agreement.values():
            agreement = judges[leads[0].source_form_id]
            ids = [lead.pk for lead in leads]
            rows = locks.lead_rows_locked(ids, "stage", "attributes", "score")
            _rescored(rows, agreement, now, again="judged again on its return from nurture")
        qualified = set(
            Lead.objects.filter(pk__in=returned, stage=Stage.QUALIFIED).values_list("pk", flat=True)
        )
        for lead in due:
            lead.nurture_until = None
        leads_save(due, ["nurture_until"])
        events_record(
            [
                new_back_from_nurture(
                    lead=lead,
                    at=now,
                    reason=_returned(returned[lead.pk], qualified=lead.pk in qualified),
                    data={
                        "nurture_until": returned[lead.pk].isoformat(),
                        "qualified": lead.pk in qualified,
                    },
                )
                for lead in due
            ]
        )
    return len(due)


def _today(now: datetime, lead: Lead, agreement) -> date:
    """The lead's day now: in its queue's time zone when the queue sets its own working hours
    (routing's setting, read by name), else the agreement's."""
    own = getattr(lead.queue, "time_zone", "") if lead.queue_id else ""
    return now.astimezone(ZoneInfo(own or agreement.time_zone)).date()


def _returned(day: date, *, qualified: bool) -> str:
    if qualified:
        return f"Back from nurture on {day:%d %b %Y}: it qualifies again and goes to sales."
    return f"Back from nurture on {day:%d %b %Y}: it does not qualify yet and stays in nurture."
