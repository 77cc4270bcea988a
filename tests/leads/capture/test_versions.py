"""A published form version never changes; every submission keeps the version it was made on."""

import pytest
from django.db import transaction
from django.urls import reverse

from leads.capture.builder.forms import submission_form_class
from leads.capture.models import FormField, FormVersion
from leads.capture.selectors import attribute_labels, form_stats, submission_answers
from leads.capture.services import form_field_update, form_publish
from leads.lifecycle import lead_move
from leads.models import Lead, Stage, Submission
from tests.factories import FormFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def form():
    return FormFactory()


def post(client, form, **data):
    return client.post(reverse("capture:form", kwargs={"slug": form.slug}), data)


def test_publishing_freezes_the_fields_as_version_one(form):
    version = form.current_version
    assert version.number == 1
    assert [spec["key"] for spec in version.fields] == [
        "email",
        "first_name",
        "company",
        "company_size",
        "country",
    ]


def test_editing_a_published_form_edits_the_draft_not_the_version(client, form):
    company = form.fields.get(key="company")
    form_field_update(field=company, label="Organisation")
    version = FormVersion.objects.get(pk=form.current_version_id)
    assert version.labels["company"] == "Company"
    assert b"Organisation" not in client.get(reverse("capture:form", args=[form.slug])).content


def test_a_published_version_cannot_be_edited_or_deleted(form):
    version = form.current_version
    version.fields = []
    with pytest.raises(ValueError, match="never changes"):
        version.save()
    with pytest.raises(ValueError, match="never deleted"):
        version.delete()


def test_publishing_the_edited_draft_makes_version_two_and_keeps_version_one(client, form):
    post(client, form, email="ana@acme.example", company="Acme")
    form_field_update(field=form.fields.get(key="company"), label="Organisation")
    second = form_publish(form=form, by=None)
    assert second.number == 2
    post(client, form, email="bob@acme.example", company="Bobco")
    first_post, second_post = Submission.objects.order_by("received_at", "pk")
    assert (first_post.form_version.number, second_post.form_version.number) == (1, 2)
    assert submission_answers(submission=first_post) == [
        ("Work e-mail", "ana@acme.example"),
        ("Company", "Acme"),
    ]
    assert ("Organisation", "Bobco") in submission_answers(submission=second_post)
    assert FormVersion.objects.get(form=form, number=1).labels["company"] == "Company"


def test_publishing_an_unchanged_draft_keeps_the_version(form):
    assert form_publish(form=form, by=None).pk == form.current_version_id


def test_the_json_api_serves_and_records_the_published_version(client, form):
    FormField.objects.create(form=form, key="phone", label="Phone", kind="phone", position=9)
    response = client.post(
        reverse("capture:api_submission_create", args=[form.slug]),
        {"email": "ana@acme.example", "phone": "not a phone"},
        content_type="application/json",
    )
    assert response.status_code == 201  # v1 has no phone field: kept as an extra value
    assert Submission.objects.get().form_version == form.current_version


def test_the_form_class_is_cached_per_version(form):
    first = submission_form_class(form.current_version)
    assert submission_form_class(FormVersion.objects.get(pk=form.current_version_id)) is first
    form_field_update(field=form.fields.get(key="company"), label="Organisation")
    second = form_publish(form=form, by=None)
    assert submission_form_class(second) is not first
    assert submission_form_class(second).base_fields["company"].label == "Organisation"


def test_a_version_id_that_comes_back_for_other_fields_gets_its_own_class(form):
    # After a migration test recreated the table, ids started again at 1: the cached class of
    # an earlier version with the same id judged posts by the wrong fields.
    first = submission_form_class(form.current_version)
    other = FormVersion(
        pk=form.current_version_id,
        form=form,
        number=1,
        fields=[s for s in form.current_version.fields if s["key"] == "email"],
    )
    assert "company" not in submission_form_class(other).base_fields
    assert submission_form_class(form.current_version) is first


def test_the_lead_page_labels_come_from_the_submissions_versions(client, form):
    post(client, form, email="ana@acme.example", company="Acme")
    lead = Lead.objects.get()
    form_field_update(field=form.fields.get(key="company"), label="Organisation")
    assert attribute_labels(lead=lead)["company"] == "Company"
    form_publish(form=form, by=None)
    post(client, form, email="ana@acme.example", company="Acme")
    assert attribute_labels(lead=lead)["company"] == "Organisation"


def test_statistics_count_leads_by_the_stages_they_reached(client, form):
    for email in ["a@acme.example", "b@acme.example", "c@acme.example"]:
        post(client, form, email=email)
    post(client, form, email="a@acme.example")
    a, b = Lead.objects.filter(email__in=["a@acme.example", "b@acme.example"]).order_by("email")
    with transaction.atomic():
        for stage in [Stage.QUALIFIED, Stage.ROUTED, Stage.ACCEPTED]:
            lead_move(lead=a, to=stage, reason="test")
        lead_move(lead=b, to=Stage.QUALIFIED, reason="test")
    stats = form_stats(form=form)
    assert (stats.submissions, stats.leads, stats.qualified, stats.accepted, stats.won) == (
        4,
        3,
        2,
        1,
        0,
    )


def test_forms_of_one_version_share_its_fields_and_keep_their_own_errors(form):
    cls = submission_form_class(form.current_version)
    bad, good = cls({"email": "not an address"}), cls({"email": "ana@acme.example"})
    # Validated with the version's fields, not a copy per post (Django deep-copies them
    # otherwise); a form copies them only when they are drawn (test_shared_fields.py).
    assert bad.shared_fields["email"] is good.shared_fields["email"] is cls.base_fields["email"]
    assert not bad.is_valid()
    assert good.is_valid(), good.errors
    assert "email" in bad.errors and "email" not in good.errors
    attrs = {name: dict(field.widget.attrs) for name, field in cls.base_fields.items()}
    bad.as_div()  # rendering a bound form with errors leaves the shared fields as they were
    assert {name: dict(field.widget.attrs) for name, field in cls.base_fields.items()} == attrs
    assert cls({"email": "bo@acme.example"}).is_valid()
