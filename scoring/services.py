import logging
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime, time
from functools import lru_cache
from http import HTTPStatus

from django.db import IntegrityError, connection, transaction
from django.db.models import Max, prefetch_related_objects
from django.utils import timezone

from leads import locks
from leads.events import BatchEvent, events_record
from leads.lifecycle import can_move, lead_moved, leads_save
from leads.models import Lead, Stage, Submission
from portal.accounts.roles import role_grants, role_holders
from portal.countries import country_code
from portal.errors import Conflict, DomainError, InvalidFields, PermissionDenied
from portal.integrations.webhooks.services import events_emit
from portal.notifications.models import Kind as Told
from portal.notifications.services import Notice, notices_send
from portal.sql import one_of
from scoring import engine, service_levels
from scoring.models import (
    LIFECYCLE_FIELDS,
    PROPOSAL_FIELDS,
    Agreement,
    AgreementComment,
    AgreementScope,
    Criterion,
    ProposedAgreementChange,
    Qualification,
    main_scope_id,
)
from scoring.selectors import (
    agreement_overlaps,
    agreement_stale_base,
    agreements_by_form,
    attribute_keys,
    form_choices,
    scope_active,
)
from scoring.tasks import rescore_after_activation
from scoring.verdict_rows import Judged, verdicts_store

logger = logging.getLogger(__name__)


class SigningError(DomainError):
    """A signature refused; `code` says why: not_allowed_to_sign (their role does not sign
    for that side), same_signer, already_signed, not_proposed, unknown_side."""

    code = "cannot_sign"
    status = HTTPStatus.CONFLICT

    def __init__(self, message: str, *, code: str, status: HTTPStatus | None = None, **kwargs):
        super().__init__(message, code=code, **kwargs)
        if status:
            self.status = status


Side = Agreement.Side


@dataclass(frozen=True)
class _Slot:
    """Where one side signs: the permission it takes and the fields that hold its signature."""

    permission: str
    by: str
    at: str


_SLOTS = {
    Side.SALES: _Slot("scoring.sign_for_sales", "sales_signed_by", "sales_signed_at"),
    Side.MARKETING: _Slot(
        "scoring.sign_for_marketing", "marketing_signed_by", "marketing_signed_at"
    ),
}


def may_sign(user, side: str) -> bool:
    """Whether `user` holds a role that signs for `side` (the marketing manager's signs for
    marketing, the sales manager's for sales). A superuser's rights are not a signature: an
    agreement between the two teams is signed by someone of each."""
    return side in Side.values and role_grants(user, _SLOTS[Side(side)].permission)


def sign_refusal(*, agreement: Agreement, by, side: str) -> SigningError | None:
    """Why `by` may not sign `agreement` for `side` whatever its state, or None if they may.

    The pages ask it before offering a signature; `agreement_sign` asks it again.
    """
    if side not in Side.values:
        return SigningError(
            f"There is no side {side!r} to sign: sign for sales or for marketing.",
            code="unknown_side",
            status=HTTPStatus.BAD_REQUEST,
            field="side",
        )
    if not may_sign(by, side):
        label = Side(side).label.lower()
        return SigningError(
            f"{by} may not sign {agreement} for {label}: only someone whose role signs for "
            f"{label} (the {label} manager) may, and an administrator's rights are not a "
            "signature.",
            code="not_allowed_to_sign",
            status=HTTPStatus.FORBIDDEN,
        )
    return None


def agreement_sign(*, agreement: Agreement, by, side: str) -> Agreement:
    """`by` signs for `side`; once two people have signed both sides, the version is active."""
    refusal = sign_refusal(agreement=agreement, by=by, side=side)
    if refusal is not None:
        raise refusal
    side = Side(side)
    other = Side.MARKETING if side == Side.SALES else Side.SALES
    slot = _SLOTS[side]
    with transaction.atomic():
        # Every activation goes through this one key, so two versions completing their
        # signatures at once cannot both become the active one.
        locks.key_locked("agreement-activation")
        # Two signatures at once wait for each other here; the second sees the first, so a
        # side is never signed twice and one person never signs both sides.
        agreement = locks.row_locked(Agreement, agreement.pk)
        if not agreement.is_proposed:
            raise SigningError(
                f"{agreement} is a draft: it is signed once it is proposed, so that both "
                "signatures are on the same text.",
                code="not_proposed",
            )
        if getattr(agreement, slot.at) is not None:
            raise SigningError(
                f"{agreement} is already signed for {side.label.lower()}.", code="already_signed"
            )
        if getattr(agreement, f"{_SLOTS[other].by}_id") == by.pk:
            raise SigningError(
                f"{by} signed {agreement} for {other.label.lower()}; someone else must sign "
                f"for {side.label.lower()}.",
                code="same_signer",
                status=HTTPStatus.FORBIDDEN,
            )
        now = timezone.now()
        setattr(agreement, slot.by, by)
        setattr(agreement, slot.at, now)
        fields = [slot.by, slot.at]
        if agreement.sales_signed_at and agreement.marketing_signed_at:
            # Under the activation lock: what was true when it was proposed may not be now.
            _refuse_stale_base(agreement)
            _refuse_overlap(agreement)
            _retire_active(now, scope_id=agreement.scope_id)
            agreement.activated_at = now
            fields.append("activated_at")
            rescore_after_activation(agreement=agreement)
        agreement.save(update_fields=fields)
        if agreement.activated_at is not None:
            _tell_managers_active(agreement, by=by)
            _tell_webhooks_active(agreement, by=by)
    return agreement


def _tell_signers(agreement: Agreement, *, by) -> None:
    """A proposal awaits the signature of the managers of each side its author does not
    sign for (both, when the author signs for neither)."""
    sides = [side for side in Side if not may_sign(by, side)]
    if not sides:
        return
    signers = role_holders(*(_SLOTS[side].permission for side in sides)).exclude(pk=by.pk)
    notices_send(
        Notice(
            recipient_id=pk,
            kind=Told.AGREEMENT_TO_SIGN,
            title=f"{agreement} awaits your signature",
            detail=f"{by} proposed it.",
            url=agreement.get_absolute_url(),
        )
        for pk in signers.values_list("pk", flat=True)
    )


def _tell_managers_active(agreement: Agreement, *, by) -> None:
    """Every manager (a role that signs for a side) hears that a version now judges leads."""
    managers = role_holders(*(slot.permission for slot in _SLOTS.values())).exclude(pk=by.pk)
    notices_send(
        Notice(
            recipient_id=pk,
            kind=Told.AGREEMENT_ACTIVE,
            title=f"{agreement} is active",
            detail=f"{by} signed last; it judges new leads from now on.",
            url=agreement.get_absolute_url(),
        )
        for pk in managers.values_list("pk", flat=True)
    )


def _tell_webhooks_active(agreement: Agreement, *, by) -> None:
    """The endpoints subscribed to `agreement.activated` (an outbox row each, in this
    transaction)."""
    data = {
        "agreement": {
            "id": agreement.pk,
            "version": agreement.version,
            "name": str(agreement),
            "threshold": agreement.threshold,
            "scope": agreement.scope_id,
            "activated_at": agreement.activated_at.isoformat(),
            "signed_last_by": str(by),
        }
    }
    events_emit([("agreement.activated", data)], at=agreement.activated_at)


def _retire_active(now, *, scope_id: int) -> None:
    """Exactly one version per scope is active: the one before steps down as the next starts.

    Other scopes' versions judge other forms and stay active.
    """
    for previous in Agreement.objects.active_versions().filter(scope_id=scope_id):
        previous.retired_at = now
        previous.save(update_fields=["retired_at"])


class StaleBase(Conflict):
    """A version replaces the one active in its scope when it was drafted, and only that one.

    Otherwise an older proposal signed late would retire a newer version it never saw.
    """

    code = "stale_base"

    def __init__(self, agreement: Agreement, active: Agreement):
        was = f"v{agreement.based_on.version}" if agreement.based_on_id else "no version"
        how = (
            "send it back to draft, read it, then “Re-base”"
            if agreement.is_proposed
            else ("read it, then “Re-base” in the editor")
        )
        super().__init__(
            f"{agreement} was drafted when {was} was active in {agreement.scope}, but "
            f"{active} is active now: {how}, so that both sides sign it knowing what it "
            "replaces."
        )


def _refuse_stale_base(agreement: Agreement) -> None:
    active = agreement_stale_base(agreement=agreement)
    if active is not None:
        raise StaleBase(agreement, active)


class ScopeOverlap(Conflict):
    """Two active versions would judge the same form: each form has exactly one judge."""

    code = "forms_overlap"


def _refuse_overlap(agreement: Agreement) -> None:
    overlaps = agreement_overlaps(agreement=agreement)
    if overlaps:
        raise ScopeOverlap(
            f"{agreement} would judge forms another active agreement judges: "
            + "; ".join(overlap.message for overlap in overlaps)
            + ". Change the forms it covers so that every form has one agreement.",
            field="form_ids",
        )


# What a new draft (and its criteria) does not take from the version it is made from. All
# else is copied, so a term added to Agreement or Criterion later is carried over as well.
_NOT_COPIED = frozenset(
    {"id", "agreement", "version", "created_by", "created_at", "based_on", *LIFECYCLE_FIELDS}
)
DRAFT = "scoring.draft_agreement"


def agreement_draft_from(*, agreement: Agreement, by) -> Agreement:
    """A new unsigned version with the terms and criteria of `agreement`, ready to edit.

    Signed versions never change; this is how an agreement changes. The new version's number
    is one more than the highest so far.
    """
    _require_drafter(by)
    with transaction.atomic():
        source = Agreement.objects.get(pk=agreement.pk)
        draft = _created_with_next_version(
            **_copied(source),
            created_by=by,
            based_on=scope_active(scope_id=source.scope_id),
        )
        Criterion.objects.bulk_create(
            Criterion(**_copied(criterion), agreement=draft) for criterion in source.criteria.all()
        )
    return draft


def agreement_draft_new(*, by, scope_name: str = "") -> Agreement:
    """A new empty version, for an agreement written from scratch.

    In the main scope, or (given `scope_name`) as the first version of a new scope: an
    agreement for other forms, such as another product's or another sales team's.
    """
    _require_drafter(by)
    scope_name = scope_name.strip()
    with transaction.atomic():
        if scope_name:
            if AgreementScope.objects.filter(name__iexact=scope_name).exists():
                raise DomainError(
                    f"There is already an agreement called “{scope_name}”: make a draft from "
                    "its active version, or choose another name.",
                    code="scope_exists",
                    field="scope_name",
                )
            scope = AgreementScope.objects.create(name=scope_name)
        else:
            scope = AgreementScope.objects.get(pk=main_scope_id())
        return _created_with_next_version(
            created_by=by, scope=scope, based_on=scope_active(scope_id=scope.pk)
        )


def agreement_rebase(*, agreement: Agreement, by) -> Agreement:
    """A draft now replaces the version active in its scope today (after its authors saw it)."""
    _require_drafter(by)
    with transaction.atomic():
        agreement = _draft_locked(agreement)
        agreement.based_on = scope_active(scope_id=agreement.scope_id)
        agreement.save(update_fields=["based_on"])
    return agreement


def agreement_forms_set(*, agreement: Agreement, by, form_ids: list[int]) -> Agreement:
    """The forms a draft judges; none: every form no other active agreement lists.

    Overlaps with other scopes are told in the editor and refused when proposing and again
    when it becomes active: another scope may change meanwhile.
    """
    _require_drafter(by)
    known = {pk for pk, _ in form_choices()}
    unknown = sorted(set(form_ids) - known)
    if unknown:
        raise DomainError(
            f"No such form: {', '.join(map(str, unknown))}.", code="unknown_form", field="form_ids"
        )
    with transaction.atomic():
        agreement = _draft_locked(agreement)
        agreement.form_ids = sorted(set(form_ids))
        agreement.save(update_fields=["form_ids"])
    return agreement


_NUMBERING_ATTEMPTS = 10


def _created_with_next_version(**fields) -> Agreement:
    # Two drafts made at once can both see the same highest version. The unique version
    # makes the later insert fail once the first commits; it then sees that version and
    # takes the next. (Locking the newest row would not do: the newest row moves.)
    for _ in range(_NUMBERING_ATTEMPTS):
        newest = Agreement.objects.aggregate(Max("version"))["version__max"] or 0
        try:
            with transaction.atomic():
                return Agreement.objects.create(version=newest + 1, **fields)
        except IntegrityError:
            if not Agreement.objects.filter(version=newest + 1).exists():
                raise
    raise Conflict("Other drafts took every version number tried; try again.")


def _copied(row) -> dict:
    return {
        field.attname: getattr(row, field.attname)
        for field in row._meta.concrete_fields
        if field.name not in _NOT_COPIED
    }


def _require_drafter(by) -> None:
    if not by.has_perm(DRAFT):
        raise PermissionDenied(f"{by} may not draft agreements.")


def _draft_locked(agreement: Agreement) -> Agreement:
    """The version, locked for an edit, or a 409 if it was proposed meanwhile."""
    agreement = locks.row_locked(Agreement, agreement.pk)
    if agreement.is_proposed:
        raise ProposedAgreementChange(agreement)
    return agreement


TERMS = ("summary", "threshold", "accept_within_minutes", "contact_within_hours")
BUSINESS_HOURS = ("business_days", "business_opens", "business_closes", "time_zone")
# What the agreement page edits on a draft, as it grows (the API's resource shows them all).
AGREEMENT_SETTINGS = (*TERMS, *BUSINESS_HOURS, "holidays")


def agreement_terms_set(
    *,
    agreement: Agreement,
    by,
    summary: str,
    threshold: int,
    accept_within_minutes: int,
    contact_within_hours: int,
    business_days: list[int] | None = None,
    business_opens: time | None = None,
    business_closes: time | None = None,
    time_zone: str | None = None,
    holidays: list[date] | None = None,
) -> Agreement:
    """A draft's summary, threshold and service levels, and the working hours they count in.

    Working hours and days off left out (None) stay as they are.
    """
    _require_drafter(by)
    for field, amount, unit in [
        ("accept_within_minutes", accept_within_minutes, "minute"),
        ("contact_within_hours", contact_within_hours, "hour"),
    ]:
        if amount < 1:
            raise DomainError(f"A service level is at least one {unit}.", field=field)
    with transaction.atomic():
        agreement = _draft_locked(agreement)
        hours = {
            "business_days": business_days,
            "business_opens": business_opens,
            "business_closes": business_closes,
            "time_zone": time_zone,
        }
        hours = {
            name: getattr(agreement, name) if given is None else given
            for name, given in hours.items()
        }
        hours["business_days"] = sorted({int(day) for day in hours["business_days"]})
        problem = service_levels.business_hours_problem(
            hours["business_days"],
            hours["business_opens"],
            hours["business_closes"],
            hours["time_zone"],
        )
        if problem:
            field, message = problem
            raise DomainError(message, code="business_hours", field=field)
        agreement.summary = summary
        agreement.threshold = threshold
        agreement.accept_within_minutes = accept_within_minutes
        agreement.contact_within_hours = contact_within_hours
        for name, value in hours.items():
            setattr(agreement, name, value)
        if holidays is not None:
            agreement.holidays = [day.isoformat() for day in sorted(set(holidays))]
        agreement.save(update_fields=list(AGREEMENT_SETTINGS))
    return agreement


# What each operator compares the lead's value with, as the editor asks for it.
NOTHING, TEXT, LIST, NUMBER = engine.NOTHING, engine.TEXT, engine.LIST, engine.NUMBER
RANGE, PATTERN, DAYS = engine.RANGE, engine.PATTERN, engine.DAYS
OPERATOR_VALUES = {Criterion.Operator(name): needs for name, (needs, _) in engine.OPERATORS.items()}
VALUE_HINTS = {
    NUMBER: "a number, such as 50",
    LIST: "a list of values, such as Brazil, Portugal",
    TEXT: "a text to compare with",
    NOTHING: "no value: leave it blank",
    RANGE: "two numbers, the lowest and the highest, such as 10, 500",
    PATTERN: "a pattern (a Python regular expression, case ignored), such as ^[A-Z]{2}-[0-9]+$",
    DAYS: "a number of days, such as 30",
}
# Judged on the submission, not on an attribute a form asks for.
SUBMISSION_OPERATORS = frozenset({Criterion.Operator.SUBMITTED_WITHIN})


def criterion_problems(
    *,
    kind: str,
    attribute: str,
    operator: str,
    value,
    points: int,
    blank_passes: bool = False,
) -> dict[str, list[dict[str, str]]]:
    """Every reason these terms cannot be a criterion, by field; empty when they can."""
    problems: dict[str, list[dict[str, str]]] = {}

    def refuse(field: str, code: str, message: str) -> None:
        problems.setdefault(field, []).append({"message": message, "code": code})

    if kind not in Criterion.Kind.values:
        refuse("kind", "unknown_kind", f"“{kind}” is neither mandatory nor scoring.")
    keys = attribute_keys()
    if attribute not in keys and operator not in SUBMISSION_OPERATORS:
        known = ", ".join(sorted(keys)) or "none yet"
        refuse(
            "attribute",
            "unknown_attribute",
            f"No form asks for “{attribute}”; the forms' fields are: {known}.",
        )
    if operator not in Criterion.Operator.values:
        known = ", ".join(Criterion.Operator.values)
        refuse("operator", "unknown_operator", f"“{operator}” is not an operator: use {known}.")
    else:
        problem = engine.value_problem(operator, value) or _country_problem(operator, value)
        if problem:
            refuse("value", "wrong_value_type", problem)
        if blank_passes and operator in engine.BLANK_IS_JUDGED:
            label = Criterion.Operator(operator).label
            refuse(
                "blank_passes",
                "blank_judged",
                f"“{label}” fails a blank by its meaning: leave “a blank passes” unticked.",
            )
    if kind == Criterion.Kind.MANDATORY and points:
        refuse("points", "mandatory_points", "A mandatory criterion adds no points: use 0.")
    return problems


def _country_problem(operator: str, value) -> str | None:
    """Countries are written by name, code or a common spelling, and kept as ISO codes."""
    if operator != Criterion.Operator.COUNTRY_IN:
        return None
    unknown = [str(name) for name in value if not country_code(name)]
    if unknown:
        return (
            f"Not a country: {', '.join(unknown)}. Write its name or its ISO code, e.g. "
            "Brazil, United States, BR, US."
        )
    return None


def _stored_value(operator: str, value):
    """What the criterion keeps: countries as their ISO codes, as the forms store them."""
    if operator == Criterion.Operator.COUNTRY_IN:
        return list(dict.fromkeys(country_code(name) for name in value))
    return value


def criterion_set(
    *,
    agreement: Agreement,
    by,
    criterion: Criterion | None = None,
    label: str,
    kind: str,
    attribute: str,
    operator: str,
    value,
    points: int,
    blank_passes: bool = False,
) -> Criterion:
    """Add a criterion to a draft (last), or change one of its criteria."""
    _require_drafter(by)
    problems = criterion_problems(
        kind=kind,
        attribute=attribute,
        operator=operator,
        value=value,
        points=points,
        blank_passes=blank_passes,
    )
    if problems:
        raise InvalidFields(problems)
    with transaction.atomic():
        agreement = _draft_locked(agreement)
        if criterion is None:
            last = agreement.criteria.aggregate(Max("position"))["position__max"]
            criterion = Criterion(agreement=agreement, position=0 if last is None else last + 1)
        else:
            criterion = _criterion_of(agreement, criterion.pk)
        for field, term in [
            ("label", label),
            ("kind", kind),
            ("attribute", attribute),
            ("operator", operator),
            ("value", _stored_value(operator, value)),
            ("points", points),
            ("blank_passes", blank_passes),
        ]:
            setattr(criterion, field, term)
        criterion.save()
    return criterion


def criterion_remove(*, criterion: Criterion, by) -> None:
    _require_drafter(by)
    with transaction.atomic():
        agreement = _draft_locked(criterion.agreement)
        _criterion_of(agreement, criterion.pk).delete()
        _renumber(list(agreement.criteria.all()))


def criterion_move(*, criterion: Criterion, by, offset: int) -> None:
    """Move a criterion up (-1) or down (+1) in its draft; at either end it stays."""
    _require_drafter(by)
    with transaction.atomic():
        agreement = _draft_locked(criterion.agreement)
        criteria = list(agreement.criteria.all())
        at = next(
            i for i, c in enumerate(criteria) if c.pk == _criterion_of(agreement, criterion.pk).pk
        )
        to = min(max(at + offset, 0), len(criteria) - 1)
        criteria.insert(to, criteria.pop(at))
        _renumber(criteria)


def _criterion_of(agreement: Agreement, pk: int) -> Criterion:
    criterion = agreement.criteria.filter(pk=pk).first()
    if criterion is None:
        raise Conflict(f"That criterion is no longer part of {agreement}.")
    return criterion


def _renumber(criteria: list[Criterion]) -> None:
    for position, criterion in enumerate(criteria):
        criterion.position = position
    Criterion.objects.bulk_update(criteria, ["position"])


def agreement_propose(*, agreement: Agreement, by) -> Agreement:
    """Freeze a draft: from now on both managers sign exactly this text, or send it back."""
    _require_drafter(by)
    with transaction.atomic():
        agreement = locks.row_locked(Agreement, agreement.pk)
        if agreement.is_proposed:
            raise Conflict(f"{agreement} is already {agreement.status}.", code="already_proposed")
        if not agreement.criteria.exists():
            raise DomainError(
                f"{agreement} has no criteria yet: add at least one before proposing it.",
                code="no_criteria",
            )
        _refuse_stale_base(agreement)
        _refuse_overlap(agreement)
        agreement.proposed_by = by
        agreement.proposed_at = timezone.now()
        agreement.save(update_fields=list(PROPOSAL_FIELDS))
        _tell_signers(agreement, by=by)
    return agreement


COMMENT_MAX_LENGTH = 2000


def agreement_comment_add(*, agreement: Agreement, by, text: str) -> AgreementComment:
    """A manager's remark on a version, kept on its page whatever happens to the version."""
    _require_drafter(by)
    if not text.strip():
        raise DomainError("Write the comment first.", field="text")
    if len(text) > COMMENT_MAX_LENGTH:
        raise DomainError(f"Keep it under {COMMENT_MAX_LENGTH} characters.", field="text")
    return AgreementComment.objects.create(agreement=agreement, author=by, text=text.strip())


def agreement_send_back(*, agreement: Agreement, by, comment: str) -> Agreement:
    """A proposal goes back to draft with a comment saying why; its signatures go too.

    A signature belongs to the exact frozen text it was given on. Back in draft the text can
    change, so a signature already given is cleared and both sides sign the next proposal.
    """
    _require_drafter(by)
    if not comment.strip():
        raise DomainError("Say why it goes back, so the draft can be changed.", field="comment")
    with transaction.atomic():
        locks.key_locked("agreement-activation")
        agreement = locks.row_locked(Agreement, agreement.pk)
        if not agreement.is_proposed or agreement.activated_at is not None:
            raise Conflict(
                f"{agreement} is {agreement.status}: only a proposal goes back to draft.",
                code="not_proposed",
            )
        for field in LIFECYCLE_FIELDS - {"retired_at"}:
            setattr(agreement, field if field.endswith("_at") else f"{field}_id", None)
        agreement.save(update_fields=sorted(LIFECYCLE_FIELDS - {"retired_at"}))
        AgreementComment.objects.create(
            agreement=agreement, author=by, text=comment.strip(), sent_back=True
        )
    return agreement


def submission_qualify(*, submission_id: int) -> Qualification | None:
    """Judge the lead behind one submission by the active agreement, once per submission."""
    with transaction.atomic():
        submission = Submission.objects.filter(pk=submission_id).first()
        if submission is None:
            logger.info("Submission %s is gone; nothing to score.", submission_id)
            return None
        stored = submissions_qualify(submissions=[submission])
    return Qualification.objects.get(pk=stored[0]) if stored else None


def submissions_qualify(*, submissions: Sequence[Submission]) -> list[int]:
    """Judge the leads behind many submissions, each by the active agreement of its form's
    scope, in one transaction; the ids of the qualifications stored.

    The handoff's batches: each agreement is compiled once, every lead is judged in memory,
    and the judgements and criterion results (`verdicts_store`), lead updates and stage
    events are written with a statement or two each. A submission already judged is left as
    it is, so a second delivery changes nothing; one whose form no active agreement judges
    is left unjudged. Submissions of one lead are judged in the order they came.
    """
    judges = agreements_by_form(form_ids={s.form_id for s in submissions})
    unjudged = [s.pk for s in submissions if s.form_id not in judges]
    if unjudged:
        logger.warning(
            "No active agreement judges the form of submissions %s: they wait.", unjudged[:10]
        )
    submissions = [s for s in submissions if s.form_id in judges]
    now = timezone.now()
    with transaction.atomic():
        judged = _judged([s.pk for s in submissions])
        pending = sorted(
            (s for s in submissions if s.pk not in judged), key=lambda s: (s.received_at, s.pk)
        )
        leads = {lead.pk: lead for lead in locks.rows_locked(Lead, {s.lead_id for s in pending})}
        prefetch_related_objects(pending, "form_version")
        verdicts, events = [], []
        compiled: dict[tuple[int, frozenset[str]], engine.CompiledAgreement] = {}
        for submission in pending:
            lead = leads.get(submission.lead_id)
            if lead is None:
                continue
            blanks = _blank_placeholders(submission)
            agreement = judges[submission.form_id]
            if (agreement.pk, blanks) not in compiled:
                compiled[agreement.pk, blanks] = _compiled(agreement, blanks)
            verdict = compiled[agreement.pk, blanks](
                lead.attributes,
                submitted_at=submission.received_at,
                now=now,
                answered=_answered_keys(submission, blanks),
            )
            summary = verdict.summary
            verdicts.append(
                Judged(lead.pk, submission.pk, agreement.pk, verdict, summary, evaluated_at=now)
            )
            lead.score, lead.updated_at = verdict.score, now
            event = _moved_by_verdict(lead, verdict, summary, agreement, at=now)
            if event is not None:
                events.append(event)
        stored = verdicts_store(verdicts)
        leads_save(
            [leads[pk] for pk in {j.lead_id for j in verdicts}],
            ["score", "stage", "stage_changed_at", "updated_at"],
        )
        events_record(events)
    return stored


def _judged(submission_ids: list[int]) -> set[int]:
    """Those of these submissions that already have their judgement (a second delivery)."""
    if not submission_ids:
        return set()
    ids, params = one_of("submission_id", submission_ids)
    with connection.cursor() as cursor:
        cursor.execute(
            f"SELECT submission_id FROM {Qualification._meta.db_table} WHERE {ids}",  # noqa: S608 - the model's name
            params,
        )
        return {submission_id for (submission_id,) in cursor.fetchall()}


def _compiled(agreement: Agreement, blanks: frozenset[str]) -> engine.CompiledAgreement:
    """A proposed version never changes (house rule 6): it is compiled once per process and
    per set of blank placeholders, instead of once per batch. A draft is read every time."""
    if agreement.proposed_at is None:
        return engine.compile_agreement(agreement.rules(), agreement.threshold, blanks=blanks)
    return _frozen_compiled(agreement.pk, agreement.proposed_at, blanks)


@lru_cache(maxsize=64)
def _frozen_compiled(
    agreement_id: int, proposed_at: datetime, blanks: frozenset[str]
) -> engine.CompiledAgreement:
    agreement = Agreement.objects.get(pk=agreement_id)
    return engine.compile_agreement(agreement.rules(), agreement.threshold, blanks=blanks)


def _blank_placeholders(submission: Submission) -> frozenset[str]:
    """The placeholders the submission's form version counts as blank ("Select", "N/A")."""
    fields = submission.form_version.fields if submission.form_version_id else []
    return engine.blank_placeholders(
        [value for spec in fields or [] for value in spec.get("blank_values") or []]
    )


def _answered_keys(submission: Submission, blanks: frozenset[str]) -> frozenset[str]:
    payload = submission.payload if isinstance(submission.payload, dict) else {}
    return frozenset(key for key, value in payload.items() if not engine.is_blank(value, blanks))


def _moved_by_verdict(
    lead: Lead, verdict: engine.Verdict, summary: str, agreement: Agreement, *, at: datetime
) -> BatchEvent | None:
    """The stage the verdict takes the lead to, in memory; the stage event, if it moved."""
    reason = f"{summary} (agreement v{agreement.version})"
    if verdict.qualified and can_move(lead.stage, Stage.QUALIFIED):
        return lead_moved(lead=lead, to=Stage.QUALIFIED, reason=reason, at=at)
    if not verdict.qualified and lead.stage == Stage.CAPTURED:
        return lead_moved(lead=lead, to=Stage.DISQUALIFIED, reason=reason, at=at)
    return None
