"""Reads of agreements: the versions, one version and its criteria, the keys criteria use,
and which active version judges which form."""

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from functools import lru_cache, partial

from django.apps import apps
from django.db.models import QuerySet
from django.shortcuts import get_object_or_404

from leads.clock import ACCEPT, CONTACT, Levels
from leads.models import Lead
from scoring.explain import hours_words
from scoring.models import MAIN_SCOPE, Agreement, AgreementScope, Criterion, CriterionResult
from scoring.service_levels import BusinessHours, add_business_minutes, is_business_time


def attribute_keys() -> set[str]:
    """The lead attributes some form asks for: the keys a criterion can judge.

    The fields belong to capture, which scoring never imports (the independence contract);
    the model is looked up by name, and only its keys are read.
    """
    form_field = apps.get_model("capture", "FormField")
    return set(form_field.objects.values_list("key", flat=True).distinct())


def agreement_versions() -> QuerySet[Agreement]:
    """Every version, newest first, with the people named on its page."""
    return Agreement.objects.select_related(
        "created_by", "proposed_by", "sales_signed_by", "marketing_signed_by", "scope"
    ).order_by("-version")


def agreement_version(*, version: int) -> Agreement:
    return get_object_or_404(agreement_versions(), version=version)


def agreement_active() -> Agreement | None:
    """The most recently activated version, whatever its scope."""
    return agreement_versions().active()


def agreements_active() -> list[Agreement]:
    """Every active version, one per scope: the main agreement first, then by scope name."""
    active = agreement_versions().active_versions()
    return sorted(
        active, key=lambda a: (a.scope.name != MAIN_SCOPE, a.scope.name.casefold(), a.version)
    )


def agreement_before(*, agreement: Agreement) -> Agreement | None:
    """The version this one is compared with: the one numbered just below it."""
    return agreement_versions().filter(version__lt=agreement.version).first()


def agreement_criteria(*, agreement: Agreement) -> list[Criterion]:
    return list(agreement.criteria.order_by("position", "pk"))


def agreement_comments(*, agreement: Agreement):
    return agreement.comments.select_related("author")


# Scope: which active version judges which form. A version lists its forms, or lists none and
# takes every form that no other active version lists. Forms belong to capture, which scoring
# never imports: they are read by model name, as ids and names only.


def _form_model():
    return apps.get_model("capture", "Form")


def agreements_by_form(*, form_ids: Iterable[int] | None = None) -> dict[int, Agreement]:
    """form id → the active version that judges it, for these forms (default: every form).

    A form that no active version judges is left out. Two queries at most (the active
    versions, and the forms when none are named), so the handoff can call it once and cache.
    Should two active versions ever claim one form, the newer judges it.
    """
    active = list(
        Agreement.objects.active_versions().select_related("scope").order_by("-activated_at")
    )
    listed: dict[int, Agreement] = {}
    for agreement in active:
        for form_id in agreement.form_ids:
            listed.setdefault(form_id, agreement)
    rest = next((agreement for agreement in active if agreement.covers_every_other_form), None)
    if form_ids is None:
        form_ids = _form_model().objects.values_list("pk", flat=True)
    judged = {form_id: listed.get(form_id, rest) for form_id in form_ids}
    return {form_id: agreement for form_id, agreement in judged.items() if agreement}


def agreement_judging(*, form_id: int) -> Agreement | None:
    """The active version that judges submissions of this form, or None if none does."""
    return agreements_by_form(form_ids=[form_id]).get(form_id)


def leads_in_scope(*, agreement: Agreement) -> QuerySet[Lead]:
    """The leads of the forms this version would judge were it active: the forms it lists,
    or, listing none, every form that no active version of another scope lists."""
    if agreement.form_ids:
        return Lead.objects.filter(source_form_id__in=agreement.form_ids)
    others = Agreement.objects.active_versions().exclude(scope_id=agreement.scope_id)
    listed = {
        form_id for form_ids in others.values_list("form_ids", flat=True) for form_id in form_ids
    }
    return Lead.objects.exclude(source_form_id__in=listed)


def forms_without_agreement() -> list:
    """The forms no active version judges: their leads wait, unqualified."""
    judged = agreements_by_form()
    return list(_form_model().objects.exclude(pk__in=judged).order_by("name"))


def form_choices() -> list[tuple[int, str]]:
    return list(_form_model().objects.order_by("name").values_list("pk", "name"))


def form_names(*, form_ids: Iterable[int]) -> list[str]:
    forms = _form_model().objects.filter(pk__in=list(form_ids)).order_by("name")
    return list(forms.values_list("name", flat=True))


@dataclass(frozen=True)
class Overlap:
    """Another scope's active version that would judge some of the same forms."""

    other: Agreement
    form_names: tuple[str, ...]  # empty: both would take every form nobody lists

    @property
    def message(self) -> str:
        if not self.form_names:
            return (
                f"{self.other} ({self.other.scope}) already judges every form that no other "
                "agreement lists, and only one agreement can take the rest: list this one's forms"
            )
        return f"{', '.join(self.form_names)} already judged by {self.other} ({self.other.scope})"


def agreement_overlaps(*, agreement: Agreement) -> list[Overlap]:
    """Active versions of other scopes that judge a form this one would judge too.

    Its own scope's active version is not one: activating this one retires it.
    """
    overlaps = []
    others = (
        Agreement.objects.active_versions()
        .exclude(scope_id=agreement.scope_id)
        .select_related("scope")
        .order_by("version")
    )
    for other in others:
        if agreement.covers_every_other_form and other.covers_every_other_form:
            overlaps.append(Overlap(other, ()))
            continue
        shared = set(agreement.form_ids) & set(other.form_ids)
        if shared:
            overlaps.append(Overlap(other, tuple(form_names(form_ids=shared))))
    return overlaps


def scope_active(*, scope_id: int) -> Agreement | None:
    return Agreement.objects.active_versions().filter(scope_id=scope_id).first()


def agreement_stale_base(*, agreement: Agreement) -> Agreement | None:
    """The scope's active version, when it is not the one this was drafted (or re-based) on.

    A version replaces only what its authors saw. A version that became active before this
    one was drafted counts as its base even when not recorded (made before `based_on`).
    """
    active = scope_active(scope_id=agreement.scope_id)
    if active is None or active.pk in (agreement.based_on_id, agreement.pk):
        return None
    if agreement.based_on_id is not None or active.activated_at >= agreement.created_at:
        return active
    return None


@dataclass(frozen=True)
class ScopeLine:
    scope: AgreementScope
    active: Agreement | None
    forms: str


def scope_lines() -> list[ScopeLine]:
    """Each scope with its active version and, in words, the forms that version judges."""
    active = {a.scope_id: a for a in Agreement.objects.active_versions()}
    return [
        ScopeLine(scope, version, version.form_ids_words() if version else "")
        for scope in AgreementScope.objects.all()
        for version in [active.get(scope.pk)]
    ]


# Service levels, counted in the working hours of the version that judged the lead.


@dataclass(frozen=True)
class Due:
    what: str
    at: datetime  # in the sales team's time zone
    within: str  # the service level in words: "240 minutes", "24 hours"
    hours: str

    @property
    def local_words(self) -> str:
        """As the sales team's clocks show it: "Mon Nov 30, 13:00 CET"."""
        return f"{self.at:%a %b} {self.at.day}, {self.at:%H:%M %Z}"


def lead_due_times(*, lead: Lead, agreement: Agreement | None) -> list[Due]:
    """What the rep owes this lead now and by when: the clock stored on the lead (set by every
    move and reassignment, `leads.clock`), put in words with `agreement`'s service levels."""
    if agreement is None or not lead.due_step or lead.due_at is None:
        return []
    hours = agreement.business_hours()
    queue = lead.queue if lead.queue_id else None
    own = queue.own_hours() if queue is not None else None
    if own is not None:  # the queue's own working hours (routing's setting)
        hours = BusinessHours(*own, hours.holidays)  # the agreement's days off still hold
    if lead.due_step == ACCEPT:
        what, within = "Accept or reject by", f"{agreement.accept_within_minutes} minutes"
    else:
        what, within = "First contact by", hours_words(agreement.contact_within_hours)
    return [Due(what, lead.due_at.astimezone(hours.zone), within, hours.describe())]


def service_levels_by_form(form_ids: Iterable[int] | None) -> dict[int, Levels]:
    """form id -> the service levels of the active version judging it, for the lead clock
    (`leads.clock.service_levels`, plugged in by `scoring.apps`). One or two queries."""
    by_agreement: dict[int, Levels] = {}
    levels = {}
    for form_id, agreement in agreements_by_form(form_ids=form_ids).items():
        if agreement.pk not in by_agreement:
            by_agreement[agreement.pk] = _levels(agreement)
        levels[form_id] = by_agreement[agreement.pk]
    return levels


def _levels(agreement: Agreement) -> Levels:
    minutes = {
        ACCEPT: agreement.accept_within_minutes,
        CONTACT: agreement.contact_within_hours * 60,
    }
    return _levels_in(tuple(sorted(minutes.items())), agreement.business_hours())


@lru_cache(maxsize=256)
def _levels_in(minutes: tuple, hours: BusinessHours) -> Levels:
    """Service levels (`minutes`: step, working minutes) counted in `hours`; one per pair, so
    a batch's leads of one queue share it."""
    return Levels(
        minutes=dict(minutes),
        add=partial(_after, hours=hours),
        is_open=partial(is_business_time, hours=hours),
        time_zone=hours.time_zone,
        # A queue's own hours keep the agreement's days off.
        in_hours=lambda days, opens, closes, zone: _levels_in(
            minutes, BusinessHours(frozenset(days), opens, closes, zone, hours.holidays)
        ),
    )


@lru_cache(maxsize=4096)
def _after(start: datetime, minutes: int, *, hours: BusinessHours) -> datetime:
    """Remembered: a batch that starts many clocks at one instant (the ladder's restarts, a
    routing batch) counts each distinct due time once, not once per lead."""
    return add_business_minutes(start, minutes, hours)


def qualifying_reasons(*, lead_ids: Iterable[int], most: int = 3) -> dict[int, list[str]]:
    """Why each lead qualified, in a few words: the labels of the criteria it passed in its
    latest judgement in force that qualified it, the most points first. One query."""
    rows = (
        CriterionResult.objects.filter(
            qualification__lead_id__in=list(lead_ids),
            qualification__superseded_at__isnull=True,
            qualification__qualified=True,
            passed=True,
        )
        .order_by(
            "qualification__lead_id",
            "-qualification__evaluated_at",
            "-qualification_id",
            "-points",
            "criterion__position",
            "criterion_id",
        )
        .values_list("qualification__lead_id", "qualification_id", "criterion__label", "points")
    )
    reasons: dict[int, list[str]] = {}
    judged_by: dict[int, int] = {}
    for lead_id, qualification_id, label, points in rows:
        if judged_by.setdefault(lead_id, qualification_id) != qualification_id:
            continue  # an older judgement of the same lead
        words = reasons.setdefault(lead_id, [])
        if len(words) < most:
            words.append(f"{label} (+{points})" if points else label)
    return reasons
