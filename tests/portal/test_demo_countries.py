"""Issue 18, item 7: a US lead from a NEW form qualifies under the demo agreement, however
the country is written, because forms, agreements and queues keep ISO codes."""

import pytest
from django.urls import reverse

from leads.capture.models import Form, FormField
from leads.capture.services import form_field_add, form_publish
from leads.models import Lead, Stage
from portal.accounts.models import User
from portal.demo.services import demo_seed
from scoring.models import Criterion

pytestmark = pytest.mark.django_db


@pytest.fixture
def new_form():
    demo_seed(leads=0)
    marketer = User.objects.get(username="marketer")
    form = Form.objects.create(name="Spring webinar", slug="spring-webinar", created_by=marketer)
    for key, label, kind in [
        ("email", "Work e-mail", FormField.Kind.EMAIL),
        ("company_size", "Employees", FormField.Kind.NUMBER),
        ("country", "Country", FormField.Kind.COUNTRY),
    ]:
        form_field_add(form=form, key=key, label=label, kind=kind, required=True)
    form_publish(form=form, by=marketer)
    return form


@pytest.mark.parametrize("written", ["United States of America", "USA", "United States"])
def test_a_us_lead_from_a_new_form_qualifies_under_the_demo_agreement(
    client, new_form, written, django_capture_on_commit_callbacks
):
    url = reverse("capture:form", kwargs={"slug": new_form.slug})
    with django_capture_on_commit_callbacks(execute=True):
        answer = client.post(
            url, {"email": "jo@bigco.example", "company_size": "800", "country": written}
        )
    assert answer.status_code == 302
    lead = Lead.objects.get(email="jo@bigco.example")
    assert lead.attributes["country"] == "US"
    assert lead.stage in (Stage.QUALIFIED, Stage.ROUTED)
    territory = lead.qualifications.get().results.get(criterion__label="Sales territory")
    assert territory.passed


def test_the_demo_territory_is_kept_as_codes_and_shown_by_name(client, new_form):
    territory = Criterion.objects.get(label="Sales territory")
    assert (territory.operator, territory.value) == ("country_in", ["BR", "US", "PT", "MX"])
    client.force_login(User.objects.get(username="sales.manager"))
    page = client.get(reverse("scoring:agreement")).content.decode()
    assert "the country is one of Brazil, United States of America, Portugal or Mexico" in page
