from dataclasses import dataclass, field
from typing import Any

from django.db import connection, transaction

from leads.capture.models import Form
from leads.events import event_submission_received
from leads.locks import lead_locked_by_email
from leads.models import Lead, Submission
from leads.signals import submission_stored

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
    """
    if provenance.idempotency_key:
        earlier = Submission.objects.filter(
            form=form, idempotency_key=provenance.idempotency_key
        ).first()
        if earlier is not None:
            return earlier

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
