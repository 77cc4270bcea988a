import json
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from django.conf import settings
from django.db import DEFAULT_DB_ALIAS, IntegrityError, connection, connections, transaction
from django.db.models import Max

from leads.capture.models import Form, FormField, FormVersion
from leads.events import (
    event_submission_received,
    events_record,
    new_submission_received,
    submission_received_reason,
)
from leads.locks import key_locked, lead_locked_by_email, row_locked
from leads.models import Lead, LeadEvent, RepeatSubmissionNotice, Stage, Submission
from leads.signals import submission_stored
from portal.countries import country_code, country_keys_of, with_country_codes
from portal.errors import Conflict, DomainError
from portal.sql import Literal, Prepared, insert_sql

LEAD_COLUMNS = ("first_name", "last_name", "company")


@dataclass(frozen=True)
class Provenance:
    """Where a submission came from, stored beside its payload."""

    page_url: str = ""
    utm: dict[str, str] = field(default_factory=dict)
    idempotency_key: str = ""
    ip_address: str | None = None
    user_agent: str = ""
    # When the caller says the visitor sent it (HubSpot's submittedAt, within bounds); else now.
    submitted_at: datetime | None = None
    # The entry point that took it (Submission.INTAKES): "page" for the hosted page and the
    # embed (the only posts a view of the form precedes), "api", "hubspot", ...
    intake: str = ""


def normalise_email(email: str, *, fold_plus: bool | None = None) -> str:
    """The address a lead is known by: trimmed, lower-cased and, when
    LEADBRIDGE_FOLD_PLUS_ADDRESSES is on, without a +tag (ann+promo@x.com is ann@x.com)."""
    email = email.strip().lower()
    if fold_plus is None:
        fold_plus = settings.LEADBRIDGE_FOLD_PLUS_ADDRESSES
    local, at, domain = email.rpartition("@")
    if fold_plus and at and "+" in local:
        tag_free = local.split("+", 1)[0]
        if tag_free:  # "+tag@x.com" has nothing to fold onto: kept whole
            return f"{tag_free}@{domain}"
    return email


def lead_capture(
    *,
    form: Form,
    payload: dict[str, Any],
    cleaned: dict[str, Any],
    provenance: Provenance,
    version: FormVersion | None = None,
    problems: list[dict[str, Any]] | None = None,
) -> Submission:
    """Store a submission and create or update its lead, in one transaction.

    `payload` is what the caller sent, kept as received; `cleaned` is the validated values,
    and for a field listed in `problems` (kept though the form refused it) the raw one. A post
    without a valid e-mail address makes a lead of its own: there is nothing to know it by.
    What follows (scoring, routing) is the handoff's business, told by `submission_stored`.
    A post with an idempotency key claims the key first: a repeat (also one racing the
    first) gets the first submission back, and a different payload under the same key is
    refused.
    """
    version = version or form.current_version
    try:
        return _capture(
            form=form,
            version=version,
            payload=payload,
            cleaned=cleaned,
            provenance=provenance,
            problems=problems or [],
        )
    except IntegrityError:
        # Without advisory locks (SQLite) two first posts can both pass the claim; the unique
        # constraint on (form, idempotency_key) stops the second, which answers like a repeat.
        key = provenance.idempotency_key
        earlier = _earlier_submission(form=form, key=key, payload=payload) if key else None
        if earlier is None:
            raise
        return earlier


def _unknown_countries(
    attributes: dict[str, Any], keys: frozenset[str], problems: list[dict[str, Any]]
) -> list[dict[str, Any]]:
    """A country no spelling maps is kept as sent, and said so on the submission (once)."""
    noted = {problem["field"] for problem in problems}
    return [
        {
            "field": key,
            "code": "unknown_country",
            "message": f"{value!r} is no country we know; kept as sent.",
            "raw": value,
        }
        for key in sorted(keys)
        if isinstance(value := attributes.get(key), str)
        and value
        and country_code(value) is None
        and key not in noted
    ]


def _capture(
    *,
    form: Form,
    version: FormVersion | None,
    payload: dict[str, Any],
    cleaned: dict[str, Any],
    provenance: Provenance,
    problems: list[dict[str, Any]],
) -> Submission:
    # A field left blank (also a multiple choice with nothing ticked) keeps what the lead
    # told us before.
    attributes = {key: value for key, value in cleaned.items() if value not in (None, "", [])}
    # Countries are ISO codes underneath, also from a choice or text field called "country".
    keys = country_keys_of((version.fields or []) if version else [])
    attributes = with_country_codes(attributes, keys)
    problems = problems + _unknown_countries(attributes, keys, problems)
    email = cleaned.get("email")
    if not isinstance(email, str) or any(problem["field"] == "email" for problem in problems):
        # Text that is not an address knows no lead, and the agreement reads it as missing (as
        # an address, "ana at acme" would pass "a company domain"); the submission keeps it.
        email = None
        attributes.pop("email", None)
    elif email:
        # The lead is known by the (maybe folded) key; its attributes keep it as written.
        attributes["email"] = normalise_email(email, fold_plus=False)
    lead = _LeadSent(
        email=normalise_email(email) if email else None,
        attributes=attributes,
        campaign=provenance.utm.get("utm_campaign") or form.campaign,
    )
    submission = Submission(
        form=form,
        form_version=version,
        payload=payload,
        consent=_consented(version, cleaned),
        page_url=provenance.page_url,
        utm=provenance.utm,
        idempotency_key=provenance.idempotency_key,
        ip_address=provenance.ip_address,
        user_agent=provenance.user_agent,
        intake=provenance.intake,
        problems=problems,
        **({"received_at": provenance.submitted_at} if provenance.submitted_at else {}),
    )
    if not provenance.idempotency_key:
        _store(submission, lead)  # a new lead is one statement, a transaction of its own
        return submission
    with transaction.atomic():
        earlier = _claim_idempotency_key(form=form, key=provenance.idempotency_key, payload=payload)
        if earlier is not None:
            return earlier
        _store(submission, lead)
    return submission


@dataclass(frozen=True)
class _LeadSent:
    """What a post says of its lead: the address it is known by, and what to keep of it."""

    email: str | None
    attributes: dict[str, Any]
    campaign: str

    def columns(self) -> dict[str, str]:
        """The name and company columns; a raw value kept whole in the attributes (a list, or
        longer than the column) is cut to fit."""
        return {
            column: _column_text(self.attributes.get(column, ""), column) for column in LEAD_COLUMNS
        }


def _column_text(value: Any, column: str) -> str:
    text = ", ".join(map(str, value)) if isinstance(value, list) else str(value)
    return text[: _COLUMN_LENGTHS[column]]


_COLUMN_LENGTHS = {column: Lead._meta.get_field(column).max_length for column in LEAD_COLUMNS}


def _store(submission: Submission, lead: _LeadSent) -> None:
    """Store the submission with a new lead, or beside the lead its address already has."""
    if not _insert_new_lead(submission, lead):
        with transaction.atomic(savepoint=False):  # joins the idempotency key's, if any
            known = lead_locked_by_email(lead.email)
            _merge_attributes(known, lead.attributes)
            submission.lead = known
            submission.save()
            event_submission_received(lead=known, submission=submission, created=False)
            if known.owner_id is not None:
                # Already with a rep: they are told on the lead page and in their inbox.
                RepeatSubmissionNotice.objects.create(
                    lead=known, submission=submission, created_at=submission.received_at
                )
    submission_stored.send(sender=Submission, submission=submission)


def _consented(version: FormVersion | None, cleaned: dict[str, Any]) -> bool:
    keys = {"consent"}
    if version is not None:
        keys |= {spec["key"] for spec in version.fields if spec["kind"] == FormField.Kind.CONSENT}
    return any(cleaned.get(key) is True for key in keys)


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


def _insert_new_lead(submission: Submission, lead: _LeadSent) -> bool:
    """Insert a new lead with its first submission and the event saying so; False, inserting
    nothing, if the address is known.

    The intake's hot path. On PostgreSQL it is one prepared statement (three INSERTs chained
    by a CTE, `_NEW_LEAD`), atomic on its own, so a post without an idempotency key needs no
    transaction around it: no BEGIN, no COMMIT, no savepoint. A concurrent insert of the same
    address waits for the other transaction and then finds the conflict, so the caller's
    fallback to a locked read is race-free. The values go in as they are, without a model
    instance for the lead or the event (py-spy: building and preparing them through the ORM
    cost a post as much CPU as the statement).
    """
    if connection.vendor != "postgresql":  # SQLite (the demo): no INSERT inside WITH
        with transaction.atomic(savepoint=False):
            return _insert_new_lead_one_by_one(submission, lead)
    db = connections[DEFAULT_DB_ALIAS]  # not the proxy: it looks the connection up per use
    now = submission.qualify_due_at = submission.received_at
    # The JSON columns as text, which the prepared statement's jsonb parameters take: what
    # JSONField's adapter sends, without the adapter objects around json.dumps (py-spy: the
    # four cost a secure HubSpot post as much CPU as its validation's e-mail check).
    attributes, payload, utm, problems = (
        json.dumps(value)
        for value in (lead.attributes, submission.payload, submission.utm, submission.problems)
    )
    columns = lead.columns()
    with db.cursor() as cursor:
        _NEW_LEAD.execute(
            cursor,
            (
                now,
                lead.email,
                columns["first_name"],
                columns["last_name"],
                columns["company"],
                attributes,
                submission.form_id,
                lead.campaign,
                submission.form_version_id,
                payload,
                submission.page_url,
                utm,
                submission.consent,
                submission.idempotency_key,
                submission.ip_address,
                submission.user_agent,
                submission_received_reason(submission, created=True),
                problems,
                submission.intake,
            ),
        )
        row = cursor.fetchone()
    if row is None:
        return False
    submission.lead_id, submission.pk = row
    _stored(db, submission)
    return True


def _new_lead_sql() -> str:
    """The statement behind `_NEW_LEAD`, its parameters in the order `_insert_new_lead` gives
    them; every other column gets what `save()` would store (`portal.sql.insert_sql`)."""
    now, email, first_name, last_name, company, attributes = "$1", "$2", "$3", "$4", "$5", "$6"
    form, campaign, version, payload, page_url, utm = "$7", "$8", "$9", "$10", "$11", "$12"
    consent, key, ip_address, user_agent, reason = "$13", "$14", "$15", "$16", "$17"
    problems, intake = "$18", "$19"
    lead_table, lead_values = insert_sql(
        Lead,
        {
            "email": email,
            "first_name": first_name,
            "last_name": last_name,
            "company": company,
            "attributes": attributes,
            "source_form": form,
            "campaign": campaign,
            "created_at": now,
            "updated_at": now,
            "stage_changed_at": now,
        },
    )
    submission_table, submission_values = insert_sql(
        Submission,
        {
            "form": form,
            "form_version": version,
            "lead": "new_lead.id",
            "payload": payload,
            "received_at": now,
            "page_url": page_url,
            "utm": utm,
            "consent": consent,
            "idempotency_key": key,
            "ip_address": ip_address,
            "user_agent": user_agent,
            "qualify_due_at": now,
            "problems": problems,
            "intake": intake,
        },
    )
    event_table, event_values = insert_sql(
        LeadEvent,
        {
            "lead": "new_submission.lead_id",
            "kind": Literal(LeadEvent.Kind.SUBMISSION_RECEIVED),
            "at": now,
            "to_stage": Literal(Stage.CAPTURED),
            "reason": reason,
            "data": "jsonb_build_object('submission', new_submission.id, "
            "'form', new_submission.form_id, 'created', true)",
        },
    )
    return (
        f"WITH new_lead AS (INSERT INTO {lead_table} VALUES ({lead_values}) "  # noqa: S608 - names from the models, values bound
        "ON CONFLICT (email) DO NOTHING RETURNING id), "
        f"new_submission AS (INSERT INTO {submission_table} SELECT {submission_values} "
        "FROM new_lead RETURNING id, lead_id, form_id) "
        f"INSERT INTO {event_table} SELECT {event_values} FROM new_submission "
        "RETURNING lead_id, (data->>'submission')::bigint"
    )


_NEW_LEAD = Prepared("leadbridge_new_lead", _new_lead_sql, arity=19)


def _insert_new_lead_one_by_one(submission: Submission, lead: _LeadSent) -> bool:
    """`_insert_new_lead` on SQLite: the lead, then the submission and its event."""
    new_lead = Lead(
        email=lead.email,
        attributes=lead.attributes,
        source_form=submission.form,
        campaign=lead.campaign,
        **lead.columns(),
    )
    if not _insert_one(new_lead, conflict="email"):
        return False
    submission.lead = new_lead
    submission.save()
    events_record([new_submission_received(lead=new_lead, submission=submission, created=True)])
    return True


def _insert_one(instance, *, conflict: str) -> bool:
    """INSERT ... ON CONFLICT DO NOTHING RETURNING id: False if the row was already there."""
    db = connections[DEFAULT_DB_ALIAS]
    fields = [field for field in type(instance)._meta.concrete_fields if not field.primary_key]
    quote = db.ops.quote_name
    sql = (
        f"INSERT INTO {quote(type(instance)._meta.db_table)} "  # noqa: S608 - names from the model, values bound
        f"({', '.join(quote(field.column) for field in fields)}) "
        f"VALUES ({', '.join(['%s'] * len(fields))}) ON CONFLICT ({quote(conflict)}) DO NOTHING "
        "RETURNING id"
    )
    with db.cursor() as cursor:
        cursor.execute(
            sql, [field.get_db_prep_save(field.pre_save(instance, True), db) for field in fields]
        )
        row = cursor.fetchone()
    if row is None:
        return False
    instance.pk = row[0]
    _stored(db, instance)
    return True


def _stored(db, *instances) -> None:
    """Mark instances inserted by hand as saved, as `save()` would."""
    for instance in instances:
        instance._state.adding, instance._state.db = False, db.alias


def _merge_attributes(lead: Lead, attributes: dict[str, Any]) -> None:
    lead.attributes = {**lead.attributes, **attributes}
    for column in LEAD_COLUMNS:
        if attributes.get(column):
            setattr(lead, column, attributes[column])
    lead.save(update_fields=["attributes", *LEAD_COLUMNS, "updated_at"])


# The form builder. A form's FormField rows are its draft; publishing freezes them into a
# FormVersion that never changes (house rule 6), so editing a published form edits the draft.

FORM_SETTINGS = (
    "name",
    "slug",
    "campaign",
    "campaign_brief",
    "intro",
    "thank_you_message",
    "redirect_url",
    "consent_text",
    "phone_region",
    "allowed_origins",
    "logo_url",
    "accent_color",
    "stop_phrases",
    "hubspot_portal_id",
    "hubspot_form_guid",
    "salesforce_org_id",
    "field_aliases",
)
FIELD_SETTINGS = (
    "key",
    "label",
    "kind",
    "help_text",
    "required",
    "max_length",
    "choices",
    "default",
    "blank_values",
)


def form_create(*, by, **settings: Any) -> Form:
    """A new draft form, asking for the work e-mail every lead is known by."""
    with transaction.atomic():
        form = Form.objects.create(
            created_by=by, **{name: settings[name] for name in FORM_SETTINGS if name in settings}
        )
        FormField.objects.create(
            form=form, key="email", label="Work e-mail", kind=FormField.Kind.EMAIL, required=True
        )
    return form


def form_update(*, form: Form, **settings: Any) -> Form:
    changed = [name for name in FORM_SETTINGS if name in settings]
    for name in changed:
        setattr(form, name, settings[name])
    form.save(update_fields=[*changed, "updated_at"])
    return form


def form_field_add(*, form: Form, **settings: Any) -> FormField:
    with transaction.atomic():
        form = row_locked(Form, form.pk)
        last = form.fields.aggregate(last=Max("position"))["last"]
        return FormField.objects.create(
            form=form,
            position=0 if last is None else last + 1,
            **{name: settings[name] for name in FIELD_SETTINGS if name in settings},
        )


def form_field_update(*, field: FormField, **settings: Any) -> FormField:
    changed = [name for name in FIELD_SETTINGS if name in settings]
    for name in changed:
        setattr(field, name, settings[name])
    field.save(update_fields=changed)
    return field


def form_field_remove(*, field: FormField) -> None:
    if field.key == "email":
        raise DomainError("Every form asks for the e-mail address: leads are known by it.")
    field.delete()


def form_field_move(*, field: FormField, up: bool) -> None:
    """Swap the field with its neighbour above (or below); positions are renumbered 0..n."""
    with transaction.atomic():
        form = row_locked(Form, field.form_id)
        fields = list(form.fields.all())
        at = next(i for i, each in enumerate(fields) if each.pk == field.pk)
        to = at - 1 if up else at + 1
        if 0 <= to < len(fields):
            fields[at], fields[to] = fields[to], fields[at]
        for position, each in enumerate(fields):
            if each.position != position:
                FormField.objects.filter(pk=each.pk).update(position=position)


def form_publish(*, form: Form, by) -> FormVersion:
    """Freeze the draft as the next version and serve it; an unchanged draft reuses the last."""
    with transaction.atomic():
        form = row_locked(Form, form.pk)
        specs = form.draft_specs()
        if not any(s["key"] == "email" and s["kind"] == FormField.Kind.EMAIL for s in specs):
            raise DomainError(
                "Add an e-mail field with the key email before publishing: leads are known "
                "by their e-mail address.",
                code="no_email_field",
            )
        version = form.current_version
        if version is None or (version.fields, version.consent_text) != (
            specs,
            form.consent_text,
        ):
            last = form.versions.aggregate(last=Max("number"))["last"] or 0
            version = FormVersion.objects.create(
                form=form,
                number=last + 1,
                fields=specs,
                consent_text=form.consent_text,
                published_by=by,
            )
        form.current_version = version
        form.status = Form.Status.PUBLISHED
        form.save(update_fields=["current_version", "status", "updated_at"])
    return version


def form_unpublish(*, form: Form) -> Form:
    """Back to draft: the public page and the API answer 404 until it is published again."""
    return _form_status(form, Form.Status.DRAFT)


def form_archive(*, form: Form) -> Form:
    """Out of the way and offline; its submissions, leads and versions are all kept."""
    return _form_status(form, Form.Status.ARCHIVED)


def _form_status(form: Form, status: str) -> Form:
    form.status = status
    form.save(update_fields=["status", "updated_at"])
    return form
