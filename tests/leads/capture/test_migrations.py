"""Forms published before versions existed serve their fields as version 1, their posts too."""

import pytest

from tests.migrations import migrate, scratch_database

pytestmark = pytest.mark.django_db

BEFORE = [("capture", "0001_initial"), ("leads", "0002_initial")]
AFTER = [("capture", "0003_remove_form_is_published"), ("leads", "0003_submission_form_version")]


def test_published_forms_become_version_one_with_their_submissions():
    with scratch_database():
        apps = migrate(BEFORE)
        Form = apps.get_model("capture", "Form")
        FormField = apps.get_model("capture", "FormField")
        Lead = apps.get_model("leads", "Lead")
        Submission = apps.get_model("leads", "Submission")
        live = Form.objects.create(name="Live", slug="live", is_published=True)
        FormField.objects.create(form=live, key="email", label="Work e-mail", kind="email")
        FormField.objects.create(form=live, key="company", label="Company", position=1)
        draft = Form.objects.create(name="Draft", slug="draft", is_published=False)
        lead = Lead.objects.create(email="a@acme.example", source_form=live)
        Submission.objects.create(form=live, lead=lead, payload={"email": "a@acme.example"})
        apps = migrate(AFTER)
        Form = apps.get_model("capture", "Form")
        Submission = apps.get_model("leads", "Submission")
        live, draft = Form.objects.get(slug="live"), Form.objects.get(slug="draft")
        assert (live.status, live.current_version.number) == ("published", 1)
        assert [spec["label"] for spec in live.current_version.fields] == [
            "Work e-mail",
            "Company",
        ]
        assert live.current_version.fields[0]["required"] is True
        assert (draft.status, draft.current_version) == ("draft", None)
        assert Submission.objects.get().form_version_id == live.current_version_id


def test_forms_made_before_embedding_get_a_guid_each_and_no_embedding_sites():
    with scratch_database():
        apps = migrate([("capture", "0003_remove_form_is_published")])
        Form = apps.get_model("capture", "Form")
        for slug in ("one", "two", "three"):
            Form.objects.create(name=slug, slug=slug)
        apps = migrate([("capture", "0005_form_guid_unique")])
        Form = apps.get_model("capture", "Form")
        guids = set(Form.objects.values_list("guid", flat=True))
        assert len(guids) == 3
        assert None not in guids
        assert list(Form.objects.values_list("allowed_origins", flat=True)) == [[], [], []]
