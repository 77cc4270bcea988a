from dataclasses import dataclass, field
from typing import Any

from django.db import IntegrityError, connection, transaction

from leads.capture.models import Form
from leads.events import event_submission_received
from leads.locks import key_locked, lead_locked_by_email
from leads.models import Lead, Submission
from leads.signals import submission_stored
from portal.errors import Conflict

LEAD_COLUMNS = ("first_name", "last_name", "company")


@dataclass(frozen=True)
class Provenance:
    """Where a submission came from, stored beside its payload."""

    page_url: str = ""
    utm: dict[str, str] = field(default_factory=dict)
    idempotency_key: str = ""
    ip_address: str | None = None
    user_agent: str = ""


def normalise_email(email: str) -> str:
    return email.strip().lower()


def lead_capture(
    *, form: Form, payload: dict[str, Any], cleaned: dict[str, Any], provenance: Provenance
) -> Submission:
    """Store a valid submission and create or update its lead, in one transaction.

    `payload` is what the caller sent, kept as received; `cleaned` is the validated values.
    What follows (scoring, routing) is the handoff's business, told by `submission_stored`.
    A post with an idempotency key claims the key first: a repeat (also one racing the
    first) gets the first submission back, and a different payload under the same key is
    refused.
    """
    try:
        return _capture(form=form, payload=payload, cleaned=cleaned, provenance=provenance)
    except IntegrityError:
        # Without advisory locks (SQLite) two first posts can both pass the claim; the unique
        # constraint on (form, idempotency_key) stops the second, which answers like a repeat.
        key = provenance.idempotency_key
        earlier = _earlier_submission(form=form, key=key, payload=payload) if key else None
        if earlier is None:
            raise
        return earlier


def _capture(
    *, form: Form, payload: dict[str, Any], cleaned: dict[str, Any], provenance: Provenance
) -> Submission:
    attributes = {key: value for key, value in cleaned.items() if value not in (None, "")}
    attributes["email"] = normalise_email(cleaned["email"])
    new_lead = Lead(
        email=attributes["email"],
        attributes=attributes,
        source_form=form,
        campaign=provenance.utm.get("utm_campaign") or form.campaign,
        **{column: attributes.get(column, "") for column in LEAD_COLUMNS},
    )
    with transaction.atomic():
        if provenance.idempotency_key:
            earlier = _claim_idempotency_key(
                form=form, key=provenance.idempotency_key, payload=payload
            )
            if earlier is not None:
                return earlier
        created = _insert_unless_known(new_lead)
        if created:
            lead = new_lead
        else:
            lead = lead_locked_by_email(new_lead.email)
            _merge_attributes(lead, attributes)
        submission = Submission.objects.create(
            form=form,
            lead=lead,
            payload=payload,
            consent=bool(cleaned.get("consent")),
            page_url=provenance.page_url,
            utm=provenance.utm,
            idempotency_key=provenance.idempotency_key,
            ip_address=provenance.ip_address,
            user_agent=provenance.user_agent,
        )
        event_submission_received(lead=lead, submission=submission, created=created)
        submission_stored.send(sender=Submission, submission=submission)
    return submission


def _claim_idempotency_key(*, form: Form, key: str, payload: dict[str, Any]) -> Submission | None:
    """Hold the key until this transaction ends; the submission already made with it, if any.

    A second post with the key waits here for the first to commit or roll back, then finds
    its submission; without the lock both would miss it and one would fail on the unique
    constraint.
    """
    key_locked("submission-idempotency", form.pk, key)
    return _earlier_submission(form=form, key=key, payload=payload)


def _earlier_submission(*, form: Form, key: str, payload: dict[str, Any]) -> Submission | None:
    earlier = Submission.objects.filter(form=form, idempotency_key=key).first()
    if earlier is None:
        return None
    # The database compares the payloads as it stores them (jsonb compares numbers by value).
    if not Submission.objects.filter(pk=earlier.pk, payload=payload).exists():
        raise Conflict(
            "This Idempotency-Key was already used for a different submission; "
            "use a new key for new data.",
            code="idempotency_key_reused",
            field="Idempotency-Key",
        )
    return earlier


def _insert_unless_known(lead: Lead) -> bool:
    """Insert a new lead in one statement; False, inserting nothing, if the e-mail is known.

    The intake's hot path: `get_or_create` would take a SELECT, a savepoint, the INSERT and
    its release. A concurrent insert of the same e-mail waits for the other transaction and
    then finds the conflict, so the caller's fallback to a locked read is race-free.
    """
    fields = [field for field in Lead._meta.concrete_fields if not field.primary_key]
    values = [field.get_db_prep_save(field.pre_save(lead, True), connection) for field in fields]
    quote = connection.ops.quote_name
    sql = (
        f"INSERT INTO {quote(Lead._meta.db_table)} "  # noqa: S608 - names from the model, values bound
        f"({', '.join(quote(field.column) for field in fields)}) "
        f"VALUES ({', '.join(['%s'] * len(fields))}) "
        f"ON CONFLICT ({quote('email')}) DO NOTHING RETURNING {quote('id')}"
    )
    with connection.cursor() as cursor:
        cursor.execute(sql, values)
        row = cursor.fetchone()
    if row is None:
        return False
    lead.pk = row[0]
    lead._state.adding = False
    lead._state.db = connection.alias
    return True


def _merge_attributes(lead: Lead, attributes: dict[str, Any]) -> None:
    lead.attributes = {**lead.attributes, **attributes}
    for column in LEAD_COLUMNS:
        if attributes.get(column):
            setattr(lead, column, attributes[column])
    lead.save(update_fields=["attributes", *LEAD_COLUMNS, "updated_at"])
