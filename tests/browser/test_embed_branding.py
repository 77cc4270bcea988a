"""The embed wears the form's brand on another site: its accent on the button and its logo."""

import pytest
from playwright.sync_api import Page, expect

from leads.capture.models import Form
from tests.browser.test_embed import site_factory, sites  # noqa: F401 - fixtures
from tests.browser.test_form_stats_and_repeats import _png

pytestmark = [
    pytest.mark.browser,
    pytest.mark.django_db(transaction=True, serialized_rollback=True),
]

LOGO = "https://cdn.acme.example/logo.png"


def test_the_embed_shows_the_accent_and_the_logo(page: Page, snap, sites):  # noqa: F811
    form, listed, _unlisted = sites
    Form.objects.filter(pk=form.pk).update(accent_color="#ffcc00", logo_url=LOGO)
    page.route(LOGO, lambda route: route.fulfill(content_type="image/png", body=_png()))
    page.goto(f"{listed}/embed.html")
    embedded = page.locator(f'[data-leadbridge-form="{form.slug}"]')
    button = embedded.get_by_role("button", name="Send")
    expect(button).to_have_css("background-color", "rgb(255, 204, 0)")
    # A light accent gets dark text, so the button stays readable.
    expect(button).to_have_css("color", "rgb(0, 0, 0)")
    expect(embedded.get_by_role("img", name=form.name)).to_be_visible()
    snap("embed-branded")
