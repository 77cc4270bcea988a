"""Every page of every role carries the Content-Security-Policy, and no page holds a script
the policy would refuse: no <script> body, no on* attribute, no javascript: address."""

from html.parser import HTMLParser

import pytest
from django.test import Client
from django.urls import reverse

from tests.factories import FormFactory
from tests.portal import test_authorization as matrix
from tests.portal.test_authorization import (
    AGREEMENT_GET,
    ANON,
    GET,
    MOVES_GET,
    WHO,
    _agreement_url,
    _url,
)

# The authorization matrix's fixtures: the same users, form, lead and draft agreement.
world = matrix.world
draft_agreement = matrix.draft_agreement

pytestmark = pytest.mark.django_db

DATA_SCRIPTS = {"application/json", "application/ld+json"}
URL_ATTRIBUTES = {"href", "src", "action", "formaction"}


class InlineScripts(HTMLParser):
    """What in a page would run as an inline script."""

    def __init__(self):
        super().__init__()
        self.found: list[str] = []

    def handle_starttag(self, tag, attrs):
        attributes = dict(attrs)
        script_type = (attributes.get("type") or "").lower()
        if tag == "script" and not attributes.get("src") and script_type not in DATA_SCRIPTS:
            self.found.append(self.get_starttag_text())
        for name, value in attrs:
            if name.startswith("on"):
                self.found.append(f"<{tag} {name}=...>")
            if name in URL_ATTRIBUTES and (value or "").strip().lower().startswith("javascript:"):
                self.found.append(f"<{tag} {name}={value}>")


def inline_scripts(html: str) -> list[str]:
    parser = InlineScripts()
    parser.feed(html)
    return parser.found


def directives(response) -> dict[str, str]:
    header = response["Content-Security-Policy"]
    parts = (part.strip().split(" ", 1) for part in header.split(";") if part.strip())
    return {name: (rest[0] if rest else "") for name, *rest in parts}


def assert_protected(response):
    policy = directives(response)
    assert policy["script-src"] == "'self'", policy
    assert policy["object-src"] == "'none'"
    assert policy["base-uri"] == "'self'"
    if "text/html" in response.get("Content-Type", ""):
        assert inline_scripts(response.content.decode()) == []


def _client(world, who) -> Client:
    users, _form, _lead = world
    client = Client()
    if who != ANON:
        client.force_login(users[who])
    return client


@pytest.mark.parametrize("name", sorted(GET))
@pytest.mark.parametrize("who", WHO)
def test_every_page_carries_the_policy_and_no_inline_script(world, who, name):
    _users, form, lead = world
    assert_protected(_client(world, who).get(_url(name, form, lead)))


@pytest.mark.parametrize("name", sorted(MOVES_GET))
@pytest.mark.parametrize("who", WHO)
def test_every_move_page_carries_the_policy_and_no_inline_script(world, who, name):
    _users, form, lead = world
    assert_protected(_client(world, who).get(_url(f"inbox:{name}", form, lead)))


@pytest.mark.parametrize("name", sorted(AGREEMENT_GET))
@pytest.mark.parametrize("who", WHO)
def test_every_agreement_page_carries_the_policy(world, draft_agreement, who, name):
    assert_protected(_client(world, who).get(_agreement_url(name, draft_agreement)))


def test_the_error_pages_carry_the_policy(client):
    assert_protected(client.get("/no-such-page/"))
    assert_protected(client.get("/api/v1/no-such-endpoint/"))


def test_no_page_may_be_framed_but_a_hosted_form_by_its_listed_sites(client):
    assert directives(client.get(reverse("login")))["frame-ancestors"] == "'none'"
    unlisted = FormFactory()
    page = client.get(reverse("capture:form", kwargs={"slug": unlisted.slug}))
    assert directives(page)["frame-ancestors"] == "'none'"
    listed = FormFactory()
    listed.allowed_origins = ["https://www.acme.example"]
    listed.save(update_fields=["allowed_origins"])
    for name in ("capture:form", "capture:thanks"):
        page = client.get(reverse(name, kwargs={"slug": listed.slug}))
        assert_protected(page)
        assert directives(page)["frame-ancestors"] == "https://www.acme.example"


def test_the_parser_finds_what_the_policy_refuses():
    assert inline_scripts("<script>alert(1)</script>") == ["<script>"]
    assert inline_scripts('<button onclick="go()">') == ["<button onclick=...>"]
    assert inline_scripts('<a href="javascript:history.back()">') != []
    assert inline_scripts('<script src="/static/x.js" defer></script>') == []
    assert inline_scripts('<script type="application/json">{}</script>') == []


def test_the_policy_follows_the_setting(client, settings):
    assert directives(client.get(reverse("login")))["img-src"] == "'self' data: https:"
    settings.CONTENT_SECURITY_POLICY = {"DIRECTIVES": {"default-src": ["'self'"]}}
    assert client.get(reverse("login"))["Content-Security-Policy"] == "default-src 'self'"
