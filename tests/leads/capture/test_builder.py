"""The form builder: marketers and marketing managers build forms; sales never edits them."""

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from leads.capture.models import Form, FormField, FormVersion
from portal.accounts.roles import Role
from tests.factories import FormFactory, UserFactory

pytestmark = pytest.mark.django_db

BUILDERS = [Role.MARKETER, Role.MARKETING_MANAGER]


@pytest.fixture
def form():
    return FormFactory(name="Demo request", campaign="Spring")


def pages(form: Form) -> dict[str, str]:
    field = form.fields.get(key="company")
    return {
        "new": reverse("capture:form_new"),
        "settings": reverse("capture:form_edit", args=[form.pk]),
        "field_new": reverse("capture:field_new", args=[form.pk]),
        "field_edit": reverse("capture:field_edit", args=[form.pk, field.pk]),
        "publish": reverse("capture:publish", args=[form.pk]),
        "unpublish": reverse("capture:unpublish", args=[form.pk]),
        "archive": reverse("capture:archive", args=[form.pk]),
    }


def posts(form: Form) -> dict[str, str]:
    field = form.fields.get(key="company")
    return {
        "field_move": reverse("capture:field_move", args=[form.pk, field.pk]),
        "field_remove": reverse("capture:field_remove", args=[form.pk, field.pk]),
    }


@pytest.mark.parametrize("role", BUILDERS)
def test_marketers_and_marketing_managers_open_every_builder_page(client, form, role):
    client.force_login(UserFactory(role=role))
    for url in [
        reverse("capture:form_list"),
        reverse("capture:builder", args=[form.pk]),
        reverse("capture:form_preview", args=[form.pk]),
        *pages(form).values(),
    ]:
        assert client.get(url).status_code == 200, url


@pytest.mark.parametrize("role", [Role.SALES_REP, Role.SALES_MANAGER])
def test_sales_may_not_change_forms(client, form, role):
    client.force_login(UserFactory(role=role))
    for url in pages(form).values():
        assert client.get(url).status_code == 403, url
    for url in [*pages(form).values(), *posts(form).values()]:
        assert client.post(url, {"name": "x"}).status_code == 403, url
    form.refresh_from_db()
    assert (form.name, form.status, form.fields.count()) == ("Demo request", "published", 5)


def test_a_rep_never_sees_the_builder(client, form):
    client.force_login(UserFactory(role=Role.SALES_REP))
    for url in [
        reverse("capture:form_list"),
        reverse("capture:builder", args=[form.pk]),
        reverse("capture:form_preview", args=[form.pk]),
        *pages(form).values(),
    ]:
        assert client.get(url).status_code == 403, url


def test_a_sales_manager_sees_forms_and_their_statistics_but_no_edit_buttons(client, form):
    client.force_login(UserFactory(role=Role.SALES_MANAGER))
    response = client.get(reverse("capture:builder", args=[form.pk]))
    assert response.status_code == 200
    assert reverse("capture:form_edit", args=[form.pk]) not in response.content.decode()


def test_anonymous_visitors_are_sent_to_log_in(client, form):
    for url in [reverse("capture:form_list"), *pages(form).values(), *posts(form).values()]:
        response = client.post(url)
        assert response.status_code == 302, url
        assert response["Location"].startswith(reverse("login")), url


def test_marketer_creates_a_draft_that_asks_for_the_work_email(client):
    marketer = UserFactory(role=Role.MARKETER)
    client.force_login(marketer)
    response = client.post(
        reverse("capture:form_new"),
        {
            "name": "Webinar",
            "slug": "webinar",
            "campaign": "Webinar May",
            "campaign_brief": "Find teams of 50+ ready to buy this quarter.",
            "thank_you_message": "See you there!",
            "phone_region": "BR",
        },
    )
    form = Form.objects.get(slug="webinar")
    assert response["Location"] == reverse("capture:builder", args=[form.pk])
    assert (form.status, form.created_by, form.phone_region) == ("draft", marketer, "BR")
    assert form.campaign_brief == "Find teams of 50+ ready to buy this quarter."
    assert list(form.fields.values_list("key", "kind", "required")) == [("email", "email", True)]
    assert client.get(reverse("capture:form", args=["webinar"])).status_code == 404


def test_a_taken_address_is_refused_beside_its_field(client, form):
    client.force_login(UserFactory(role=Role.MARKETER))
    response = client.post(
        reverse("capture:form_new"), {"name": "Copy", "slug": form.slug, "phone_region": "US"}
    )
    assert response.status_code == 400
    assert "slug" in response.context["bound"].errors


def test_marketer_adds_a_choice_field_with_placeholders(client, form):
    client.force_login(UserFactory(role=Role.MARKETER))
    response = client.post(
        reverse("capture:field_new", args=[form.pk]),
        {
            "label": "Interest",
            "key": "interest",
            "kind": "multichoice",
            "choices": "Pricing\nDemo\n\nPricing",
            "blank_values": "Select\nN/A",
            "required": "on",
        },
    )
    assert response.status_code == 302
    field = form.fields.get(key="interest")
    assert (field.choices, field.blank_values, field.required) == (
        ["Pricing", "Demo"],
        ["Select", "N/A"],
        True,
    )
    assert field.position == 5


def test_a_key_is_unique_in_its_form_and_choices_are_required(client, form):
    client.force_login(UserFactory(role=Role.MARKETER))
    response = client.post(
        reverse("capture:field_new", args=[form.pk]),
        {"label": "Company again", "key": "company", "kind": "choice"},
    )
    assert response.status_code == 400
    errors = response.context["bound"].errors
    assert errors["key"] == ["Another field of this form has this key."]
    assert errors["choices"] == ["List the choices, one a line."]


def test_fields_move_up_and_down(client, form):
    client.force_login(UserFactory(role=Role.MARKETER))
    company = form.fields.get(key="company")
    client.post(reverse("capture:field_move", args=[form.pk, company.pk]), {"direction": "up"})
    assert list(form.fields.values_list("key", flat=True)) == [
        "email",
        "company",
        "first_name",
        "company_size",
        "country",
    ]
    client.post(reverse("capture:field_move", args=[form.pk, company.pk]), {"direction": "down"})
    client.post(reverse("capture:field_move", args=[form.pk, company.pk]), {"direction": "down"})
    assert list(form.fields.values_list("key", flat=True))[3] == "company"


def test_the_email_field_cannot_be_removed(client, form):
    client.force_login(UserFactory(role=Role.MARKETER))
    email = form.fields.get(key="email")
    client.post(reverse("capture:field_remove", args=[form.pk, email.pk]))
    assert form.fields.filter(key="email").exists()


def test_publish_unpublish_and_archive_each_ask_first(client, form):
    client.force_login(UserFactory(role=Role.MARKETING_MANAGER))
    public = reverse("capture:form", args=[form.slug])
    confirm = client.get(reverse("capture:unpublish", args=[form.pk]))
    assert b"Unpublish Demo request?" in confirm.content
    assert Form.objects.get(pk=form.pk).status == "published"
    client.post(reverse("capture:unpublish", args=[form.pk]))
    assert Form.objects.get(pk=form.pk).status == "draft"
    assert client.get(public).status_code == 404
    client.post(reverse("capture:publish", args=[form.pk]))
    assert Form.objects.get(pk=form.pk).status == "published"
    assert client.get(public).status_code == 200
    assert FormVersion.objects.filter(form=form).count() == 1  # nothing changed: same version
    client.post(reverse("capture:archive", args=[form.pk]))
    assert Form.objects.get(pk=form.pk).status == "archived"
    assert client.get(public).status_code == 404


def test_form_list_shows_status_and_submissions_searches_and_pages(client):
    client.force_login(UserFactory(role=Role.MARKETER))
    FormFactory(name="Spring webinar", campaign="Spring")
    FormFactory(name="Autumn fair", campaign="Autumn", publish=False)
    response = client.get(reverse("capture:form_list"), {"q": "spring"})
    assert [form.name for form in response.context["page"]] == ["Spring webinar"]
    assert response.context["page"][0].submission_count == 0
    drafts = client.get(reverse("capture:form_list"), {"status": "draft"}).context["page"]
    assert [form.name for form in drafts] == ["Autumn fair"]
    for n in range(25):
        FormFactory(name=f"Form {n:02d}", with_fields=False, publish=False)
    second = client.get(reverse("capture:form_list"), {"page": 2}).context["page"]
    assert second.number == 2
    assert len(second.object_list) == 7


def test_empty_form_list_invites_the_first_form(client):
    client.force_login(UserFactory(role=Role.MARKETER))
    assert b"Create the first one" in client.get(reverse("capture:form_list")).content


def test_form_page_shows_the_urls_and_statistics(client, form):
    client.force_login(UserFactory(role=Role.MARKETER))
    client.post(reverse("capture:form", args=[form.slug]), {"email": "ana@acme.example"})
    client.post(reverse("capture:form", args=[form.slug]), {"email": "ana@acme.example"})
    response = client.get(reverse("capture:builder", args=[form.pk]))
    page = response.content.decode()
    assert f"http://testserver/f/{form.slug}/" in page
    assert f"http://testserver/api/v1/forms/{form.slug}/submissions/" in page
    stats = response.context["stats"]
    assert (stats.submissions, stats.leads) == (2, 1)


def test_publishing_needs_an_email_field(client):
    client.force_login(UserFactory(role=Role.MARKETER))
    form = FormFactory(with_fields=False, publish=False)
    FormField.objects.create(form=form, key="name", label="Name")
    response = client.post(reverse("capture:publish", args=[form.pk]), follow=True)
    assert b"Add an e-mail field with the key email" in response.content
    assert Form.objects.get(pk=form.pk).status == "draft"


def test_form_list_and_form_page_queries_do_not_grow_with_forms_or_submissions(client):
    client.force_login(UserFactory(role=Role.MARKETER))
    form = FormFactory()

    def count(url: str) -> int:
        with CaptureQueriesContext(connection) as queries:
            assert client.get(url).status_code == 200
        return len(queries)

    urls = [reverse("capture:form_list"), reverse("capture:builder", args=[form.pk])]
    before = [count(url) for url in urls]
    for n in range(5):
        FormFactory()
        client.post(reverse("capture:form", args=[form.slug]), {"email": f"p{n}@acme.example"})
    assert [count(url) for url in urls] == before


def settings_post(client, form, **changes):
    page = client.get(reverse("capture:form_edit", args=[form.pk]))
    data = {**page.context["bound"].initial, "allowed_origins": "", **changes}
    data = {key: value for key, value in data.items() if value is not None}
    return client.post(reverse("capture:form_edit", args=[form.pk]), data)


@pytest.mark.parametrize(("debug", "refused"), [(False, True), (True, False)])
def test_a_redirect_url_over_http_is_refused_in_production(client, form, settings, debug, refused):
    settings.DEBUG = debug
    client.force_login(UserFactory(role=Role.MARKETER))
    response = settings_post(client, form, redirect_url="http://www.acme.example/thanks")
    form.refresh_from_db()
    if refused:
        assert response.status_code == 400
        errors = response.context["bound"].errors.as_data()["redirect_url"]
        assert [error.code for error in errors] == ["https_only"]
        assert b"Use an https address" in response.content
        assert form.redirect_url == ""
    else:
        assert response.status_code == 302, response.content
        assert form.redirect_url == "http://www.acme.example/thanks"


def test_a_redirect_url_over_https_is_kept(client, form):
    client.force_login(UserFactory(role=Role.MARKETER))
    response = settings_post(client, form, redirect_url="https://www.acme.example/thanks")
    assert response.status_code == 302, response.content
    form.refresh_from_db()
    assert form.redirect_url == "https://www.acme.example/thanks"
