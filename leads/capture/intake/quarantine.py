"""The spam quarantine's writes: hold a suspect post, release it into the normal flow, discard it.

Kept beside `services.py` rather than in it: that module is the capture service itself, and a
release goes through it exactly as any post does (`lead_capture`), so the lead is created or
updated and handed off on commit.
"""

from collections.abc import Iterable
from dataclasses import replace
from typing import Any

from django.db import transaction
from django.utils import timezone

from leads.capture.intake.spam import Finding, Signals, spam_findings
from leads.capture.models import Form, FormVersion, QuarantinedPost
from leads.capture.services import Provenance, lead_capture
from leads.events import event_released_from_quarantine
from leads.models import Submission
from portal.errors import Conflict, DomainError

Status = QuarantinedPost.Status


def quarantine_hold(
    *,
    form: Form,
    version: FormVersion,
    intake: str,
    payload: dict[str, Any],
    cleaned: dict[str, Any],
    provenance: Provenance,
    findings: Iterable[Finding],
    problems: list[dict[str, Any]] | None = None,
) -> QuarantinedPost:
    """Keep a suspect post, whole, out of the leads until a marketer decides.

    A repeat of a held post (the same Idempotency-Key and payload: a double click, a retry)
    is the same post: it is held once.
    """
    findings = list(findings)
    if provenance.idempotency_key:
        earlier = QuarantinedPost.objects.filter(
            form=form, idempotency_key=provenance.idempotency_key, payload=payload
        ).first()
        if earlier is not None:
            return earlier
    return QuarantinedPost.objects.create(
        form=form,
        form_version=version,
        intake=intake,
        payload=payload,
        cleaned=cleaned,
        problems=problems or [],
        email=str(cleaned.get("email", ""))[:320],
        reasons=[finding.reason for finding in findings],
        details=[finding.detail for finding in findings],
        page_url=provenance.page_url,
        utm=provenance.utm,
        idempotency_key=provenance.idempotency_key,
        ip_address=provenance.ip_address,
        user_agent=provenance.user_agent,
    )


def quarantine_release(*, post: QuarantinedPost, by, why: str) -> Submission:
    """Let the post through as if it had never been held: stored, deduplicated, handed off.

    Claimed with a conditional update that must change exactly one row, so two reviewers
    clicking at once release it once; the claim and the capture commit together.
    """
    why = why.strip()
    if not why:
        raise DomainError("Say why this post is not spam.", code="required", field="why")
    with transaction.atomic():
        _claim(post, Status.RELEASED, by=by, note=why)
        post.refresh_from_db()
        submission = lead_capture(
            form=post.form,
            version=post.form_version,
            payload=post.payload,
            cleaned=post.cleaned,
            provenance=Provenance(
                page_url=post.page_url,
                utm=post.utm,
                idempotency_key=post.idempotency_key,
                ip_address=post.ip_address,
                user_agent=post.user_agent,
                intake=post.intake,
            ),
            problems=post.problems,
        )
        event_released_from_quarantine(
            lead=submission.lead, submission=submission, by=by, why=why, reasons=post.reasons
        )
        post.submission = submission
        post.save(update_fields=["submission"])
    return submission


def quarantine_discard(*, post: QuarantinedPost, by, why: str = "") -> QuarantinedPost:
    """Mark the post as spam for good. It is kept (never deleted), just out of the review list."""
    with transaction.atomic():
        _claim(post, Status.DISCARDED, by=by, note=why.strip())
    post.refresh_from_db()
    return post


def _claim(post: QuarantinedPost, status: str, *, by, note: str) -> None:
    claimed = QuarantinedPost.objects.filter(pk=post.pk, status=Status.HELD).update(
        status=status, decided_by=by, decided_at=timezone.now(), decision_note=note
    )
    if claimed != 1:
        raise Conflict(
            "Someone has already decided on this post; it is no longer held.",
            code="already_decided",
        )


def intake_capture(
    *,
    form: Form,
    version: FormVersion,
    intake: str,
    payload: dict[str, Any],
    cleaned: dict[str, Any],
    provenance: Provenance,
    signals: Signals,
    problems: list[dict[str, Any]] | None = None,
) -> Submission | None:
    """What every public intake does with a valid post: hold it if it looks like spam (None),
    else capture it. The caller answers both alike, so a bot cannot tell them apart."""
    findings = spam_findings(form=form, cleaned=cleaned, signals=signals)
    if findings:
        quarantine_hold(
            form=form,
            version=version,
            intake=intake,
            payload=payload,
            cleaned=cleaned,
            provenance=provenance,
            findings=findings,
            problems=problems,
        )
        return None
    return lead_capture(
        form=form,
        version=version,
        payload=payload,
        cleaned=cleaned,
        provenance=replace(provenance, intake=intake),
        problems=problems,
    )
