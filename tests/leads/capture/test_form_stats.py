"""A form's statistics on its builder page: views, submissions, conversion, and the stages
its leads reached, checked against a fixture whose every number is known."""

import datetime

import pytest
from django.db import connection, transaction
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from leads.capture.intake.counters import form_viewed
from leads.capture.models import FormDailyViews
from leads.capture.selectors import form_stats
from leads.lifecycle import lead_move
from leads.models import Lead, Stage, Submission
from portal.accounts.roles import Role
from tests.factories import FormFactory, UserFactory

pytestmark = pytest.mark.django_db

PATH = [Stage.QUALIFIED, Stage.ROUTED, Stage.ACCEPTED, Stage.CONTACTED, Stage.OPPORTUNITY]


LISTED = "https://www.acme.example"


@pytest.fixture
def form():
    return FormFactory(allowed_origins=[LISTED])


def page(form):
    return reverse("capture:form", kwargs={"slug": form.slug})


def send(client, form, email):
    response = client.post(page(form), {"email": email})
    assert response.status_code == 302, response.content


def move(email, *stages):
    with transaction.atomic():
        lead = Lead.objects.select_for_update().get(email=email)
        for stage in stages:
            lead_move(lead=lead, to=stage, reason="test")


@pytest.fixture
def known(client, form):
    """8 views (5 hosted, 2 embed, 1 yesterday), 5 submissions by 4 leads, of whom 3
    qualified, 2 were accepted and 1 won; another form's posts and views count for it only."""
    other = FormFactory()
    for _ in range(5):
        assert client.get(page(form)).status_code == 200
    for _ in range(2):
        url = reverse("capture:api_form_definition", kwargs={"slug": form.slug})
        assert client.get(url, HTTP_ORIGIN=LISTED).status_code == 200
    form_viewed(form=form, day=datetime.date(2026, 1, 1))
    client.get(page(other))
    for email in ["ana@acme.example", "bo@acme.example", "cy@acme.example", "di@acme.example"]:
        send(client, form, email)
    send(client, form, "ana@acme.example")  # again: one more submission, the same lead
    send(client, other, "bo@acme.example")  # bo's later post elsewhere is not this form's
    send(client, other, "eve@acme.example")  # eve never sent this form
    move("ana@acme.example", *PATH, Stage.WON)
    move("bo@acme.example", *PATH[:3])
    move("cy@acme.example", Stage.QUALIFIED)
    move("eve@acme.example", *PATH[:3])
    return form


def test_stats_count_views_submissions_and_the_stages_reached(known):
    stats = form_stats(form=known)
    assert (stats.views, stats.submissions, stats.leads) == (8, 5, 4)
    assert (stats.qualified, stats.accepted, stats.won) == (3, 2, 1)
    assert stats.conversion_rate == pytest.approx(5 / 8)
    assert stats.conversion_percent == "62.5 %"


def test_api_posts_imports_and_seeded_submissions_have_no_view_and_do_not_convert(known, client):
    """24 more submissions that no view preceded (the demo's seeds, an API client, a CSV
    import): conversion stays 5 page posts ÷ 8 views, not 29 ÷ 8."""
    url = reverse("capture:api_submission_create", kwargs={"slug": known.slug})
    for i in range(4):
        response = client.post(
            url, {"email": f"api{i}@acme.example"}, content_type="application/json"
        )
        assert response.status_code in (200, 201, 202), response.content
    seeded = [
        Submission(form=known, lead=Lead.objects.get(email="ana@acme.example"), payload={})
        for _ in range(20)
    ]
    Submission.objects.bulk_create(seeded)
    stats = form_stats(form=known)
    assert (stats.views, stats.submissions, stats.from_views) == (8, 29, 5)
    assert stats.conversion_percent == "62.5 %"
    assert set(Submission.objects.filter(form=known).values_list("intake", flat=True)) == {
        "page",
        "api",
        "",
    }


def test_stats_are_read_in_three_queries_however_many_leads(known):
    with CaptureQueriesContext(connection) as queries:
        form_stats(form=known)
    assert len(queries) == 3


def test_a_form_never_shown_has_no_conversion_rate(form):
    stats = form_stats(form=form)
    assert stats.views == 0
    assert stats.conversion_rate is None
    assert stats.conversion_percent == ""


def test_posts_and_error_pages_are_not_views(client, form):
    client.post(page(form), {"email": "not an address"})
    send(client, form, "ana@acme.example")
    url = reverse("capture:api_submission_create", kwargs={"slug": form.slug})
    client.post(url, {"email": "bo@acme.example"}, content_type="application/json")
    assert not FormDailyViews.objects.filter(form=form).exists()


def test_views_of_one_day_are_one_row(client, form):
    for _ in range(3):
        client.get(page(form))
    assert list(FormDailyViews.objects.filter(form=form).values_list("views", flat=True)) == [3]


def test_a_hidden_or_missing_form_counts_no_view(client):
    draft = FormFactory(publish=False)
    assert client.get(page(draft)).status_code == 404
    assert not FormDailyViews.objects.exists()


def test_the_builder_page_shows_the_stats(client, known):
    client.force_login(UserFactory(role=Role.MARKETER))
    html = client.get(reverse("capture:builder", args=[known.pk])).content.decode()
    for stat, value in [
        ("views", "8"),
        ("submissions", "5"),
        ("conversion", "62.5 %"),
        ("leads", "4"),
        ("qualified", "3"),
        ("accepted", "2"),
        ("won", "1"),
    ]:
        assert f'data-stat="{stat}">{value}</dd>' in html


def views_of(form) -> int:
    return sum(FormDailyViews.objects.filter(form=form).values_list("views", flat=True))


def definition(form):
    return reverse("capture:api_form_definition", kwargs={"slug": form.slug})


def test_the_embed_counts_a_view_only_for_a_listed_site(client, form):
    assert client.get(definition(form), HTTP_ORIGIN=LISTED).status_code == 200
    assert client.get(definition(form), HTTP_ORIGIN="https://elsewhere.example").status_code == 200
    assert client.get(definition(form)).status_code == 200  # no Origin: a server, not an embed

    assert views_of(form) == 1


def test_the_hosted_page_counts_unless_framed_by_a_site_it_does_not_list(client, form):
    def framed(referer: str = ""):
        headers = {"HTTP_SEC_FETCH_DEST": "iframe"}
        if referer:
            headers["HTTP_REFERER"] = referer
        assert client.get(page(form), **headers).status_code == 200

    assert client.get(page(form)).status_code == 200  # opened as a page
    assert client.get(page(form), HTTP_SEC_FETCH_DEST="document").status_code == 200
    framed(f"{LISTED}/pricing")
    framed()  # the framing site hid its address; only a listed site can show the form
    framed("https://elsewhere.example/page")  # the browser will not show it there

    assert views_of(form) == 4


def test_a_form_that_lists_no_site_counts_no_framed_view(client):
    form = FormFactory(allowed_origins=[])
    assert client.get(page(form), HTTP_SEC_FETCH_DEST="iframe").status_code == 200
    assert client.get(definition(form), HTTP_ORIGIN=LISTED).status_code == 200
    assert client.get(page(form)).status_code == 200

    assert views_of(form) == 1
