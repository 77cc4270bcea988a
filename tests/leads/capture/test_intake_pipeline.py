"""The four public entry points share one intake pipeline (intake/pipeline.py): each counts its
post against the form's limits, takes the spam fields out and stores through the same steps,
and answers in its own format."""

import pytest

from leads.capture.intake import pipeline
from leads.models import Submission
from tests.factories import FormFactory
from tests.leads.capture.test_rate_limit import KINDS, send, send_to_no_form

pytestmark = pytest.mark.django_db


@pytest.fixture
def steps(monkeypatch):
    """Every rate-limit check and store the pipeline makes, recorded (and still made)."""
    seen = {"counted": [], "stored": []}
    check, capture = pipeline.check_rate_limit, pipeline.intake_capture

    def counted(request, form, ip=None):
        seen["counted"].append(form)
        return check(request, form, ip=ip)

    def stored(**kwargs):
        seen["stored"].append(kwargs)
        return capture(**kwargs)

    monkeypatch.setattr(pipeline, "check_rate_limit", counted)
    monkeypatch.setattr(pipeline, "intake_capture", stored)
    return seen


@pytest.mark.parametrize("kind", KINDS)
def test_every_entry_point_counts_and_stores_through_the_pipeline(client, steps, kind):
    form = FormFactory(thank_you_message="Thanks!")
    assert send(client, form, kind, 1).status_code in (200, 201, 302)
    assert steps["counted"] == [form]
    [stored] = steps["stored"]
    assert stored["intake"] == kind
    assert stored["version"] == form.current_version
    assert "lb_website" not in stored["payload"]
    assert Submission.objects.count() == 1


@pytest.mark.parametrize("kind", KINDS)
def test_every_entry_point_counts_a_made_up_form_through_the_pipeline(client, steps, kind):
    assert send_to_no_form(client, kind).status_code == 404
    assert steps["counted"] == [None]
    assert steps["stored"] == []
