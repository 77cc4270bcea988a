import functools
from dataclasses import dataclass, field
from typing import Any

from django.conf import settings
from django.db import DEFAULT_DB_ALIAS, IntegrityError, connection, connections, transaction
from django.db.models import Max

from leads.capture.models import Form, FormField, FormVersion
from leads.events import event_submission_received, events_record, new_submission_received
from leads.locks import key_locked, lead_locked_by_email, row_locked
from leads.models import Lead, LeadEvent, RepeatSubmissionNotice, Submission
from leads.signals import submission_stored
from portal.errors import Conflict, DomainError

LEAD_COLUMNS = ("first_name", "last_name", "company")


@dataclass(frozen=True)
class Provenance:
    """Where a submission came from, stored beside its payload."""

    page_url: str = ""
    utm: dict[str, str] = field(default_factory=dict)
    idempotency_key: str = ""
    ip_address: str | None = None
    user_agent: str = ""


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
) -> Submission:
    """Store a valid submission and create or update its lead, in one transaction.

    `payload` is what the caller sent, kept as received; `cleaned` is the validated values.
    What follows (scoring, routing) is the handoff's business, told by `submission_stored`.
    A post with an idempotency key claims the key first: a repeat (also one racing the
    first) gets the first submission back, and a different payload under the same key is
    refused.
    """
    version = version or form.current_version
    try:
        return _capture(
            form=form, version=version, payload=payload, cleaned=cleaned, provenance=provenance
        )
    except IntegrityError:
        # Without advisory locks (SQLite) two first posts can both pass the claim; the unique
        # constraint on (form, idempotency_key) stops the second, which answers like a repeat.
        key = provenance.idempotency_key
        earlier = _earlier_submission(form=form, key=key, payload=payload) if key else None
        if earlier is None:
            raise
        return earlier


def _capture(
    *,
    form: Form,
    version: FormVersion | None,
    payload: dict[str, Any],
    cleaned: dict[str, Any],
    provenance: Provenance,
) -> Submission:
    # A field left blank (also a multiple choice with nothing ticked) keeps what the lead
    # told us before.
    attributes = {key: value for key, value in cleaned.items() if value not in (None, "", [])}
    # The lead is known by the (maybe folded) key; its attributes keep the address as written.
    attributes["email"] = normalise_email(cleaned["email"], fold_plus=False)
    new_lead = Lead(
        email=normalise_email(cleaned["email"]),
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
        )
        if not _insert_new_lead(new_lead, submission):
            lead = lead_locked_by_email(new_lead.email)
            _merge_attributes(lead, attributes)
            submission.lead = lead
            submission.save()
            event_submission_received(lead=lead, submission=submission, created=False)
            if lead.owner_id is not None:
                # Already with a rep: they are told on the lead page and in their inbox.
                RepeatSubmissionNotice.objects.create(
                    lead=lead, submission=submission, created_at=submission.received_at
                )
        submission_stored.send(sender=Submission, submission=submission)
    return submission


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


def _insert_new_lead(lead: Lead, submission: Submission) -> bool:
    """Insert a new lead with its first submission and the event saying so; False, inserting
    nothing, if the e-mail is known.

    The intake's hot path. On PostgreSQL it is one statement (three INSERTs chained by a
    CTE), which took a post's CPU from ~7.5 to ~6 ms: the ORM's three `create` calls
    were a fifth of it (py-spy). `get_or_create` would add a SELECT, a savepoint and its
    release. A concurrent insert of the same e-mail waits for the other transaction and
    then finds the conflict, so the caller's fallback to a locked read is race-free.
    """
    submission.lead = lead  # its values are read below; the lead's id comes from the insert
    event = new_submission_received(lead=lead, submission=submission, created=True)
    if connection.vendor != "postgresql":  # SQLite (the demo): no INSERT inside WITH
        if not _insert_one(lead, conflict="email"):
            return False
        submission.lead = event.lead = lead
        submission.save()
        event.data["submission"] = submission.pk
        events_record([event])
        return True
    db = connections[DEFAULT_DB_ALIAS]  # not the proxy: it looks the connection up per use
    lead_values = _insert_values(lead, db)
    submission_values = _insert_values(submission, db, skip=frozenset({"lead_id"}))
    event_values = _insert_values(event, db, skip=frozenset({"lead_id", "data"}))
    data = LeadEvent._meta.get_field("data").get_db_prep_save(event.data, db)
    with db.cursor() as cursor:
        cursor.execute(_new_lead_sql(), [*lead_values, *submission_values, *event_values, data])
        row = cursor.fetchone()
    if row is None:
        return False
    lead.pk, submission.pk, event.pk = row
    _stored(db, lead, submission, event)
    submission.lead = event.lead = lead
    event.data["submission"] = submission.pk
    return True


@functools.cache
def _new_lead_sql() -> str:
    """The one statement of `_insert_new_lead` (PostgreSQL), written once per process."""
    lead_columns, lead_fields = _insert_columns(Lead, frozenset(), connection.vendor)
    submission_columns, submission_fields = _insert_columns(
        Submission, frozenset({"lead_id"}), connection.vendor
    )
    event_columns, event_fields = _insert_columns(
        LeadEvent, frozenset({"lead_id", "data"}), connection.vendor
    )
    quote = connection.ops.quote_name
    return (
        f"WITH new_lead AS (INSERT INTO {quote(Lead._meta.db_table)} ({lead_columns}) "  # noqa: S608 - names from the models, values bound
        f"VALUES ({_placeholders(lead_fields)}) ON CONFLICT (email) DO NOTHING RETURNING id), "
        f"new_submission AS (INSERT INTO {quote(Submission._meta.db_table)} "
        f"({submission_columns}, lead_id) SELECT {_placeholders(submission_fields)}, id "
        "FROM new_lead RETURNING id, lead_id) "
        f"INSERT INTO {quote(LeadEvent._meta.db_table)} ({event_columns}, lead_id, data) "
        f"SELECT {_placeholders(event_fields)}, lead_id, "
        "%s::jsonb || jsonb_build_object('submission', new_submission.id) FROM new_submission "
        "RETURNING lead_id, (data->>'submission')::bigint, id"
    )


def _insert_one(instance, *, conflict: str) -> bool:
    """INSERT ... ON CONFLICT DO NOTHING RETURNING id: False if the row was already there."""
    db = connections[DEFAULT_DB_ALIAS]
    columns, fields = _insert_columns(type(instance), frozenset(), db.vendor)
    quote = db.ops.quote_name
    sql = (
        f"INSERT INTO {quote(type(instance)._meta.db_table)} ({columns}) "  # noqa: S608 - names from the model, values bound
        f"VALUES ({_placeholders(fields)}) ON CONFLICT ({quote(conflict)}) DO NOTHING "
        "RETURNING id"
    )
    with db.cursor() as cursor:
        cursor.execute(sql, _insert_values(instance, db))
        row = cursor.fetchone()
    if row is None:
        return False
    instance.pk = row[0]
    _stored(db, instance)
    return True


def _insert_values(instance, db, *, skip: frozenset[str] = frozenset()) -> list:
    """The database values of an unsaved instance in `_insert_columns` order, as `save()`
    makes them."""
    _, fields = _insert_columns(type(instance), skip, db.vendor)
    return [field.get_db_prep_save(field.pre_save(instance, True), db) for field in fields]


@functools.cache
def _insert_columns(model, skip: frozenset[str], vendor: str) -> tuple[str, tuple]:
    """A model's quoted insert columns and their fields, worked out once per process (the
    quoting alone was 39 calls a post), per database vendor."""
    fields = tuple(
        field
        for field in model._meta.concrete_fields
        if not field.primary_key and field.attname not in skip
    )
    quote = connection.ops.quote_name
    return ", ".join(quote(field.column) for field in fields), fields


def _placeholders(values) -> str:
    return ", ".join(["%s"] * len(values))


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
