"""Forms through the API take the builder's settings as JSON, aliases included."""

from django.test import Client
from django.urls import reverse

from leads.capture.models import Form
from tests.portal.integrations.conftest import MARKETER


def test_a_form_is_made_with_field_aliases_given_as_an_object(world):
    body = {"name": "Partners", "slug": "partners", "field_aliases": {"firstname": "first_name"}}

    response = Client().post(
        reverse("api:form-list"), body, "application/json", headers=world.headers(MARKETER)
    )

    assert response.status_code == 201, response.content[:300]
    assert Form.objects.get(name="Partners").field_aliases == {"firstname": "first_name"}


def test_a_bad_alias_is_a_400_naming_the_field(world):
    body = {"name": "Partners", "slug": "partners", "field_aliases": {"firstname": ""}}

    response = Client().post(
        reverse("api:form-list"), body, "application/json", headers=world.headers(MARKETER)
    )

    assert response.status_code == 400
    assert response.json()["errors"].keys() == {"field_aliases"}
