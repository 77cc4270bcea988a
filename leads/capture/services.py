from dataclasses import dataclass, field
from typing import Any

from django.db import transaction

from leads.lifecycle import lead_record_creation
from leads.models import Form, Lead, Submission
from scoring.tasks import qualify_submission

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
    Scoring starts only once both are committed.
    """
    if provenance.idempotency_key:
        earlier = Submission.objects.filter(
            form=form, idempotency_key=provenance.idempotency_key
        ).first()
        if earlier is not None:
            return earlier

    attributes = {key: value for key, value in cleaned.items() if value not in (None, "")}
    attributes["email"] = normalise_email(cleaned["email"])
    with transaction.atomic():
        lead, created = Lead.objects.select_for_update().get_or_create(
            email=attributes["email"],
            defaults={
                "attributes": attributes,
                "source_form": form,
                "campaign": provenance.utm.get("utm_campaign") or form.campaign,
                **{column: attributes.get(column, "") for column in LEAD_COLUMNS},
            },
        )
        if created:
            lead_record_creation(lead=lead, reason=f"Submitted the form {form.name}.")
        else:
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
        qualify_submission.delay_on_commit(submission.pk)
    return submission


def _merge_attributes(lead: Lead, attributes: dict[str, Any]) -> None:
    lead.attributes = {**lead.attributes, **attributes}
    for column in LEAD_COLUMNS:
        if attributes.get(column):
            setattr(lead, column, attributes[column])
    lead.save(update_fields=["attributes", *LEAD_COLUMNS, "updated_at"])
