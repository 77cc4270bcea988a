"""The embed on other sites, in Chromium: two more local servers play a listed and an unlisted site.

The portal is the live server (http://localhost:<port>); the sites are http://127.0.0.1 on
ports of their own, so every request between them is cross-origin and the browser enforces
CORS and frame-ancestors exactly as it would on the internet.
"""

import functools
import re
import threading
from collections.abc import Iterator
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest
from playwright.sync_api import Page, expect

from leads.capture.builder.views import FRAME_SCRIPT, IFRAME_SNIPPET
from leads.capture.intake.spam import HONEYPOT_FIELD
from leads.capture.models import QuarantinedPost
from leads.models import Submission
from portal.accounts.roles import Role
from tests.factories import FormFactory, UserFactory

pytestmark = [
    pytest.mark.browser,
    pytest.mark.django_db(transaction=True, serialized_rollback=True),
]


class QuietHandler(SimpleHTTPRequestHandler):
    def log_message(self, format, *args):
        pass


@pytest.fixture
def site_factory(tmp_path: Path, live_server) -> Iterator:
    """Start a static site on 127.0.0.1 serving a page with the snippet and one with the iframe."""
    servers = []

    def start(name: str, slug: str) -> str:
        root = tmp_path / name
        root.mkdir()
        portal = live_server.url
        (root / "embed.html").write_text(
            f"<!doctype html><title>{name} site</title><h1>{name} site</h1>"
            f'<div data-leadbridge-form="{slug}"></div>'
            f'<script src="{portal}/static/capture/embed.js" '
            f'data-leadbridge-api="{portal}" async></script>'
        )
        # The builder's own iframe snippet, as a marketer pastes it.
        iframe = IFRAME_SNIPPET.format(
            url=f"{portal}/f/{slug}/",
            name="form",
            frame_script=f"{portal}/static/{FRAME_SCRIPT}",
        )
        (root / "frame.html").write_text(
            f"<!doctype html><title>{name} frame</title><h1>{name} site, iframe</h1>{iframe}"
        )
        handler = functools.partial(QuietHandler, directory=str(root))
        server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
        threading.Thread(target=server.serve_forever, daemon=True).start()
        servers.append(server)
        return f"http://127.0.0.1:{server.server_port}"

    yield start
    for server in servers:
        server.shutdown()
        server.server_close()


@pytest.fixture
def sites(site_factory):
    form = FormFactory(name="Talk to sales", thank_you_message="Thanks! A specialist will call.")
    listed = site_factory("listed", form.slug)
    unlisted = site_factory("unlisted", form.slug)
    form.allowed_origins = [listed]
    form.save(update_fields=["allowed_origins"])
    return form, listed, unlisted


def test_the_embed_renders_and_posts_from_a_listed_site(page: Page, snap, sites):
    form, listed, _unlisted = sites
    page.goto(f"{listed}/embed.html")
    embedded = page.locator(f'[data-leadbridge-form="{form.slug}"]')
    expect(embedded.get_by_role("heading", name="Talk to sales")).to_be_visible()
    snap("embed-listed-rendered")

    embedded.get_by_label("Work e-mail").fill("not-an-address")
    embedded.get_by_role("button", name="Send").click()
    expect(embedded.locator(f"#lb-{form.slug}-email-error")).to_have_text(
        "Enter a valid email address."
    )
    expect(embedded.get_by_label("Work e-mail")).to_have_attribute("aria-invalid", "true")
    snap("embed-listed-field-errors")
    assert not Submission.objects.exists()

    embedded.get_by_label("Work e-mail").fill("ana@acme.example")
    embedded.get_by_label("Employees").fill("80")
    embedded.get_by_label("Country").select_option("Brazil")
    embedded.get_by_role("button", name="Send").click()
    expect(embedded.get_by_role("status")).to_have_text("Thanks! A specialist will call.")
    snap("embed-listed-thanks")
    submission = Submission.objects.get()
    assert submission.lead.attributes["company_size"] == 80
    assert submission.page_url == f"{listed}/embed.html"
    assert submission.idempotency_key


def test_the_embed_carries_the_honeypot_and_its_render_time(page: Page, sites, settings):
    """Sent sooner than the minimum fill time after the embed drew the form: held, thanked."""
    settings.SPAM_MIN_FILL_SECONDS = 600
    form, listed, _unlisted = sites
    page.goto(f"{listed}/embed.html")
    embedded = page.locator(f'[data-leadbridge-form="{form.slug}"]')
    trap = embedded.locator(f'input[name="{HONEYPOT_FIELD}"]')
    expect(trap).to_have_attribute("tabindex", "-1")
    expect(trap).not_to_be_in_viewport()
    embedded.get_by_label("Work e-mail").fill("ana@acme.example")
    embedded.get_by_role("button", name="Send").click()
    expect(embedded.get_by_role("status")).to_have_text("Thanks! A specialist will call.")
    assert not Submission.objects.exists()
    held = QuarantinedPost.objects.get()
    assert held.reasons == [QuarantinedPost.Reason.TOO_FAST]
    assert held.page_url == f"{listed}/embed.html"


def test_an_unlisted_site_can_neither_show_nor_post_the_form(page: Page, snap, sites, live_server):
    form, _listed, unlisted = sites
    page.goto(f"{unlisted}/embed.html")
    embedded = page.locator(f'[data-leadbridge-form="{form.slug}"]')
    expect(embedded).to_have_text("This form cannot be shown here.")
    snap("embed-unlisted-refused")

    # A script on that site posting straight to the intake: the browser's preflight is refused,
    # so the post is never sent.
    outcome = page.evaluate(
        """async (url) => {
            try {
                await fetch(url, {method: "POST", headers: {"Content-Type": "application/json"},
                                  body: JSON.stringify({email: "eve@evil.example"})});
                return "sent";
            } catch (error) { return "blocked: " + error.message; }
        }""",
        f"{live_server.url}/api/v1/forms/{form.slug}/submissions/",
    )
    assert outcome.startswith("blocked"), outcome
    assert not Submission.objects.exists()


def test_the_iframe_shows_on_a_listed_site_and_is_refused_on_another(page: Page, snap, sites):
    form, listed, unlisted = sites
    page.goto(f"{listed}/frame.html?utm_source=newsletter&utm_campaign=spring")
    framed = page.frame_locator("iframe")
    expect(framed.get_by_role("heading", name="Talk to sales")).to_be_visible()
    framed.get_by_label("Work e-mail").fill("bruno@acme.example")
    framed.get_by_role("button", name="Send").click()
    expect(framed.get_by_text(form.thank_you_message)).to_be_visible()
    snap("iframe-listed-sent")
    submission = Submission.objects.get()
    assert submission.lead.email == "bruno@acme.example"
    # The host page and its UTM tags, not LeadBridge's own page (frame.js).
    assert submission.page_url == f"{listed}/frame.html?utm_source=newsletter&utm_campaign=spring"
    assert submission.utm == {"utm_source": "newsletter", "utm_campaign": "spring"}

    refusals = []
    page.on("console", lambda message: refusals.append(message.text))
    page.goto(f"{unlisted}/frame.html")
    expect(page.get_by_role("heading", name="unlisted site, iframe")).to_be_visible()
    page.wait_for_timeout(500)
    frame = page.frames[1]
    assert frame.url.startswith("chrome-error://") or not frame.locator("form").count()
    assert any("frame-ancestors" in text for text in refusals), refusals
    snap("iframe-unlisted-refused")


def test_a_marketer_lists_a_site_and_copies_the_snippets(page: Page, snap, sites, live_server):
    form, listed, _unlisted = sites
    marketer = UserFactory(role=Role.MARKETER, password="pw-embed")
    page.goto("/login/")
    page.get_by_label("Username").fill(marketer.username)
    page.get_by_label("Password").fill("pw-embed")
    page.get_by_role("button", name="Log in").click()
    page.goto(f"/forms/{form.pk}/settings/")
    page.get_by_label("Sites that may embed it").fill(f"{listed}\nhttps://WWW.Partner.example/")
    page.get_by_role("button", name="Save").click()
    expect(page.locator("#allowed-origins")).to_have_text(f"{listed}, https://www.partner.example")
    snippet = page.locator("#embed-snippet")
    expect(snippet).to_have_value(re.compile(rf'data-leadbridge-form="{form.slug}"'))
    expect(page.locator("#iframe-snippet")).to_have_value(
        re.compile(rf'<iframe data-leadbridge-src="{live_server.url}/f/{form.slug}/"')
    )
    page.locator("#embed").get_by_role("button", name="Copy").first.click()
    expect(page.locator("#embed").get_by_role("button", name="Copied")).to_be_visible()
    page.locator("#embed").scroll_into_view_if_needed()
    snap("builder-embed-snippets")
