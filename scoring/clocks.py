"""What the agreement decides after a lead is handed over: its clocks when the service levels
change, and the return of a recycled lead on its date.

- A new version becoming active may change the service levels or the working hours: every
  running clock is counted again from where it started (`clocks_recount_batch`, on the bulk
  queue, one UPDATE per batch; scoring.tasks).
- A recycled lead comes back to sales on its `nurture_until` day, in the working-hours time
  zone of the agreement that judges its form: it is judged again by that version (the
  re-scoring's judging), and moves to qualified if it qualifies; routing follows as for a new
  lead. Each one judged again is marked `back_from_nurture`, saying whether it qualified.
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
from scoring.rescore import _rescored
from scoring.selectors import agreements_by_form


def clocks_recount_batch(*, after: int, size: int, queue_id: int | None = None) -> int | None:
    """Count again the running clocks of the next `size` leads after id `after` (of one
    queue, or all); the last id done, or None when there were none left."""
    running = Lead.objects.filter(due_at__isnull=False, pk__gt=after)
    if queue_id is not None:
        running = running.filter(queue_id=queue_id)
    with transaction.atomic():
        ids = list(running.order_by("pk").values_list("pk", flat=True)[:size])
        if not ids:
            return None
        leads = list(
            Lead.objects.filter(pk__in=ids, due_at__isnull=False)
            .select_related("queue")
            .select_for_update(of=("self",))
            .order_by("pk")
        )
        clocks_recount(leads)
        leads_save(leads, ["due_at", "remind_at", "due_soon_at", "accept_due_at", "contact_due_at"])
    return ids[-1]


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
            .order_by("nurture_until", "pk")
            .select_for_update(skip_locked=True, of=("self",))[:limit]
        )
        judges = agreements_by_form(form_ids={lead.source_form_id for lead in candidates})
        due = [
            lead
            for lead in candidates
            if lead.source_form_id in judges
            and _today(now, judges[lead.source_form_id]) >= lead.nurture_until
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


def _today(now: datetime, agreement) -> date:
    return now.astimezone(ZoneInfo(agreement.time_zone)).date()


def _returned(day: date, *, qualified: bool) -> str:
    if qualified:
        return f"Back from nurture on {day:%d %b %Y}: it qualifies again and goes to sales."
    return f"Back from nurture on {day:%d %b %Y}: it does not qualify yet and stays in nurture."
