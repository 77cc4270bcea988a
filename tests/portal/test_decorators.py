"""Guarded pages: a stranger is asked to log in, a signed-in user without access is told so."""

import pytest
from django.urls import reverse

from portal.accounts.roles import Role
from tests.factories import LeadFactory, UserFactory

pytestmark = pytest.mark.django_db


def guarded_pages():
    lead = LeadFactory()
    return [
        ("get", reverse("dashboard")),
        ("get", reverse("capture:form_list")),
        ("post", reverse("inbox:accept", args=[lead.pk])),
        ("get", reverse("inbox:reject", args=[lead.pk])),
    ]


def test_signed_in_user_without_permission_gets_a_403_page_saying_so(client):
    client.force_login(UserFactory(username="ana", first_name="Ana", last_name="Silva"))
    for method, url in guarded_pages():
        response = getattr(client, method)(url)
        assert response.status_code == 403, url
        assert "You are signed in as <strong>Ana Silva</strong>" in response.content.decode()
        assert f'href="{reverse("home")}"' in response.content.decode()


def test_anonymous_visitor_is_sent_to_log_in(client):
    for method, url in guarded_pages():
        response = getattr(client, method)(url)
        assert response.status_code == 302, url
        assert response["Location"] == f"{reverse('login')}?next={url}"


def test_rep_sent_back_from_the_login_page_lands_on_the_403_not_in_a_loop(client):
    client.force_login(UserFactory(role=Role.SALES_REP))
    forms = reverse("capture:form_list")
    response = client.get(f"{reverse('login')}?next={forms}", follow=True)
    assert response.redirect_chain == [(forms, 302)]
    assert response.status_code == 403
    assert b"You do not have access to this page" in response.content


def test_user_with_the_permission_opens_the_page(client):
    client.force_login(UserFactory(role=Role.MARKETER))
    assert client.get(reverse("dashboard")).status_code == 200
    assert client.get(reverse("capture:form_list")).status_code == 200
