"""A form's light branding: a logo (an https address) and an accent colour (#rrggbb), set in
the builder's settings and shown on the hosted page, the thank-you page and the embed, with
nothing a marketer types able to leave the style rule or the img src."""

import pytest
from django.urls import reverse

from leads.capture.models import Form
from portal.accounts.roles import Role
from tests.factories import FormFactory, UserFactory

pytestmark = pytest.mark.django_db

LOGO = "https://cdn.acme.example/logo.png"


@pytest.fixture
def form():
    return FormFactory()


def settings_post(client, form, **changes):
    client.force_login(UserFactory(role=Role.MARKETER))
    data = {
        "name": form.name,
        "slug": form.slug,
        "thank_you_message": form.thank_you_message,
        "phone_region": "US",
        **changes,
    }
    return client.post(reverse("capture:form_edit", args=[form.pk]), data)


def test_marketer_sets_the_logo_and_the_accent_colour(client, form):
    response = settings_post(client, form, logo_url=LOGO, accent_color="#AA3300")
    assert response.status_code == 302, response.content
    form.refresh_from_db()
    assert (form.logo_url, form.accent_color) == (LOGO, "#aa3300")
    html = client.get(reverse("capture:builder", args=[form.pk])).content.decode()
    assert "<code>#aa3300</code>" in html
    assert f'src="{LOGO}"' in html


@pytest.mark.parametrize(
    "colour",
    ["red", "#abc", "#12345g", "#000000;}body{display:none", "#000000</style><script>", "1234567"],
)
def test_only_a_six_digit_hex_colour_is_taken(client, form, colour):
    response = settings_post(client, form, accent_color=colour)
    assert response.status_code == 400
    assert response.context["bound"].errors["accent_color"]
    form.refresh_from_db()
    assert form.accent_color == ""


@pytest.mark.parametrize("logo", ["http://cdn.acme.example/logo.png", "javascript:alert(1)"])
def test_the_logo_must_be_an_https_address(client, form, logo):
    response = settings_post(client, form, logo_url=logo)
    assert response.status_code == 400
    assert response.context["bound"].errors["logo_url"]
    form.refresh_from_db()
    assert form.logo_url == ""


def test_the_hosted_and_thank_you_pages_wear_the_brand(client, form):
    Form.objects.filter(pk=form.pk).update(logo_url=LOGO, accent_color="#ffcc00")
    for name in ("capture:form", "capture:thanks"):
        html = client.get(reverse(name, kwargs={"slug": form.slug})).content.decode()
        # A light accent gets dark text on its buttons.
        assert "--lb-accent:#ffcc00;--lb-accent-text:#000000" in html, name
        assert f'<img src="{LOGO}" alt="{form.name}"' in html, name
        assert "lb-branded" in html, name


def test_a_dark_accent_gets_white_text(form):
    form.accent_color = "#1a237e"
    assert form.accent_text == "#ffffff"


def test_an_unbranded_form_has_no_style_rule_nor_logo(client, form):
    html = client.get(reverse("capture:form", kwargs={"slug": form.slug})).content.decode()
    assert "--lb-accent" not in html
    assert 'id="form-logo"' not in html


def test_a_value_written_around_the_validation_never_reaches_the_page(client, form):
    # e.g. by a script or the database shell: the pages check the values again.
    Form.objects.filter(pk=form.pk).update(
        accent_color="red}*{x", logo_url='http://x.example/"onerror="alert(1)'
    )
    html = client.get(reverse("capture:form", kwargs={"slug": form.slug})).content.decode()
    assert "red}" not in html
    assert "onerror" not in html
    url = reverse("capture:api_form_definition", kwargs={"slug": form.slug})
    definition = client.get(url).json()
    assert (definition["accent_color"], definition["logo_url"]) == ("", "")


def test_the_embed_definition_carries_the_brand(client, form):
    Form.objects.filter(pk=form.pk).update(logo_url=LOGO, accent_color="#aa3300")
    url = reverse("capture:api_form_definition", kwargs={"slug": form.slug})
    definition = client.get(url).json()
    assert (definition["accent_color"], definition["logo_url"]) == ("#aa3300", LOGO)
