"""Marketing reviews the spam quarantine: releases a post into the normal flow or discards it."""

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from leads.capture.intake.quarantine import quarantine_discard, quarantine_release
from leads.capture.intake.spam import HONEYPOT_FIELD
from leads.capture.models import QuarantinedPost
from leads.models import Lead, LeadEvent, Stage, Submission
from portal.accounts.roles import Role
from portal.errors import Conflict, DomainError
from tests.factories import AgreementFactory, FormFactory, UserFactory, queue_with_reps

pytestmark = pytest.mark.django_db


@pytest.fixture
def form():
    return FormFactory()


@pytest.fixture
def marketer():
    return UserFactory(role=Role.MARKETER, first_name="Mia", last_name="Marketer")


def hold(client, form, email="ana@acme.example", **values) -> QuarantinedPost:
    """A post with a filled honeypot, through the hosted page: held."""
    data = {"email": email, "company": "Acme", "company_size": "80", HONEYPOT_FIELD: "x"}
    client.post(reverse("capture:form", args=[form.slug]), {**data, **values})
    return QuarantinedPost.objects.latest("pk")


def test_a_released_post_becomes_a_lead_that_is_qualified_and_routed(
    client, form, marketer, django_capture_on_commit_callbacks
):
    AgreementFactory()
    rep = UserFactory(role=Role.SALES_REP)
    queue_with_reps(rep)
    post = hold(client, form, utm_source="ads")
    assert not Lead.objects.exists()

    with django_capture_on_commit_callbacks(execute=True):
        submission = quarantine_release(post=post, by=marketer, why="A real buyer; I know Ana.")

    lead = Lead.objects.get()
    assert (lead.email, lead.stage, lead.owner) == ("ana@acme.example", Stage.ROUTED, rep)
    assert submission.lead == lead
    assert submission.payload == post.payload
    assert submission.utm == {"utm_source": "ads"}
    assert submission.ip_address == "127.0.0.1"
    post.refresh_from_db()
    assert (post.status, post.decided_by, post.submission) == ("released", marketer, submission)
    assert post.decision_note == "A real buyer; I know Ana."
    assert post.decided_at is not None
    note = lead.events.get(kind=LeadEvent.Kind.NOTE)
    assert note.actor == marketer
    assert note.reason == (
        f"Released from the spam quarantine by {marketer}: A real buyer; I know Ana."
    )
    assert note.data == {"submission": submission.pk, "quarantine_reasons": ["honeypot"]}


def test_a_release_of_a_known_person_updates_their_lead(client, form, marketer):
    client.post(reverse("capture:form", args=[form.slug]), {"email": "ana@acme.example"})
    post = hold(client, form, email="ANA@acme.example", first_name="Ana")
    quarantine_release(post=post, by=marketer, why="Known customer")
    lead = Lead.objects.get()
    assert lead.first_name == "Ana"
    assert lead.submissions.count() == 2


def test_a_release_needs_a_reason(client, form, marketer):
    post = hold(client, form)
    with pytest.raises(DomainError) as refused:
        quarantine_release(post=post, by=marketer, why="   ")
    assert refused.value.field == "why"
    post.refresh_from_db()
    assert post.status == "held"
    assert not Submission.objects.exists()


def test_a_post_is_released_or_discarded_once(client, form, marketer):
    post = hold(client, form)
    quarantine_release(post=post, by=marketer, why="Real")
    with pytest.raises(Conflict):
        quarantine_release(post=post, by=marketer, why="Real")
    with pytest.raises(Conflict):
        quarantine_discard(post=post, by=marketer)
    assert Submission.objects.count() == 1


def test_a_discarded_post_is_kept_but_never_becomes_a_lead(client, form, marketer):
    post = hold(client, form)
    quarantine_discard(post=post, by=marketer, why="Bot")
    post.refresh_from_db()
    assert (post.status, post.decided_by, post.decision_note) == ("discarded", marketer, "Bot")
    with pytest.raises(Conflict):
        quarantine_release(post=post, by=marketer, why="Oops")
    assert not Lead.objects.exists()


# The pages.


def test_the_list_shows_held_posts_with_their_reasons(client, form, marketer):
    hold(client, form, email="bot@acme.example")
    client.force_login(marketer)
    response = client.get(reverse("capture:quarantine_list"))
    assert response.status_code == 200
    assert b"bot@acme.example" in response.content
    assert b"Filled the hidden field" in response.content
    assert b"1 post" in response.content


def test_the_list_searches_and_filters_by_form_reason_and_status(client, marketer, settings):
    first, second = FormFactory(name="Demo"), FormFactory(name="Webinar")
    second.stop_phrases = ["casino"]
    second.save(update_fields=["stop_phrases"])
    hold(client, first, email="one@acme.example")
    hold(client, second, email="two@acme.example")
    client.post(
        reverse("capture:form", args=[second.slug]),
        {"email": "three@acme.example", "company": "Casino"},
    )
    released = hold(client, first, email="four@acme.example")
    quarantine_release(post=released, by=marketer, why="Real")
    client.force_login(marketer)

    def emails(**query):
        response = client.get(reverse("capture:quarantine_list"), query)
        assert response.status_code == 200
        return {post.email for post in response.context["page"].object_list}

    assert emails() == {"one@acme.example", "two@acme.example", "three@acme.example"}
    assert emails(form=second.pk) == {"two@acme.example", "three@acme.example"}
    assert emails(reason="stop_phrase") == {"three@acme.example"}
    assert emails(reason="honeypot", form=second.pk) == {"two@acme.example"}
    assert emails(q="ONE@") == {"one@acme.example"}
    assert emails(q="Casino") == {"three@acme.example"}
    assert emails(status="released") == {"four@acme.example"}
    assert len(emails(status="")) == 4
    assert emails(reason="no-such-reason") == emails()


def test_the_list_pages_and_keeps_its_filters(client, form, marketer):
    for n in range(23):
        hold(client, form, email=f"bot{n}@acme.example")
    client.force_login(marketer)
    response = client.get(reverse("capture:quarantine_list"), {"reason": "honeypot", "q": "bot"})
    assert len(response.context["page"].object_list) == 20
    assert b"Page 1 of 2" in response.content
    assert b'href="?reason=honeypot&amp;q=bot&amp;page=2"' in response.content
    second = client.get(reverse("capture:quarantine_list"), {"reason": "honeypot", "page": 2})
    assert len(second.context["page"].object_list) == 3


def test_the_list_says_when_nothing_is_held(client, marketer):
    client.force_login(marketer)
    response = client.get(reverse("capture:quarantine_list"))
    assert b"Nothing is held" in response.content
    filtered = client.get(reverse("capture:quarantine_list"), {"q": "nobody"})
    assert b"No post matches this filter" in filtered.content


def test_releasing_from_the_page_records_who_and_opens_the_lead(client, form, marketer):
    post = hold(client, form)
    client.force_login(marketer)
    detail = client.get(reverse("capture:quarantine_post", args=[post.pk]))
    assert b"Release into the normal flow" in detail.content
    assert b"Work e-mail" in detail.content  # the version's labels
    response = client.post(
        reverse("capture:quarantine_release", args=[post.pk]), {"why": "Real person"}
    )
    lead = Lead.objects.get()
    assert response.status_code == 302
    assert response["Location"] == lead.get_absolute_url()
    assert lead.events.filter(kind=LeadEvent.Kind.NOTE, actor=marketer).exists()


def test_releasing_without_a_reason_shows_the_page_again_with_the_error(client, form, marketer):
    post = hold(client, form)
    client.force_login(marketer)
    response = client.post(reverse("capture:quarantine_release", args=[post.pk]), {"why": ""})
    assert response.status_code == 400
    assert b'role="alert"' in response.content
    assert b"Say why this post is not spam." in response.content
    assert not Lead.objects.exists()


def test_discarding_asks_first_then_discards(client, form, marketer):
    post = hold(client, form)
    client.force_login(marketer)
    url = reverse("capture:quarantine_discard", args=[post.pk])
    confirm = client.get(url)
    assert confirm.status_code == 200
    assert b"Yes, discard" in confirm.content
    post.refresh_from_db()
    assert post.status == "held"
    response = client.post(url, {"why": "Obvious bot"})
    assert response["Location"] == reverse("capture:quarantine_list")
    post.refresh_from_db()
    assert (post.status, post.decision_note) == ("discarded", "Obvious bot")


def test_a_second_decision_on_the_page_says_it_was_already_made(client, form, marketer):
    post = hold(client, form)
    quarantine_discard(post=post, by=marketer)
    client.force_login(marketer)
    response = client.post(
        reverse("capture:quarantine_release", args=[post.pk]), {"why": "Real"}, follow=True
    )
    assert b"Someone has already decided on this post" in response.content
    assert not Lead.objects.exists()


def test_a_reps_inbox_never_shows_quarantined_posts(client, form):
    rep = UserFactory(role=Role.SALES_REP)
    hold(client, form, email="held@acme.example")
    client.force_login(rep)
    inbox = client.get(reverse("inbox:list"))
    assert b"held@acme.example" not in inbox.content
    assert "Spam quarantine" not in [label for _url, label in inbox.context["nav"]]
    assert client.get(reverse("capture:quarantine_list")).status_code == 403


def test_marketing_sees_the_quarantine_in_the_menu(client):
    client.force_login(UserFactory(role=Role.MARKETING_MANAGER))
    nav = client.get(reverse("inbox:list")).context["nav"]
    assert ("capture:quarantine_list", "Spam quarantine") in nav


@pytest.mark.parametrize("role", [Role.SALES_REP, Role.SALES_MANAGER])
def test_sales_cannot_release_or_discard(client, form, role):
    post = hold(client, form)
    client.force_login(UserFactory(role=role))
    release = reverse("capture:quarantine_release", args=[post.pk])
    assert client.post(release, {"why": "Mine"}).status_code == 403
    discard = reverse("capture:quarantine_discard", args=[post.pk])
    assert client.post(discard).status_code == 403
    post.refresh_from_db()
    assert post.status == "held"
    assert not Lead.objects.exists()


def test_the_list_reads_a_fixed_number_of_queries_however_many_posts(client, marketer):
    forms = [FormFactory(), FormFactory()]
    client.force_login(marketer)

    def queries() -> int:
        with CaptureQueriesContext(connection) as captured:
            assert client.get(reverse("capture:quarantine_list")).status_code == 200
        return len(captured)

    for n in range(3):
        hold(client, forms[n % 2], email=f"bot{n}@acme.example")
    few = queries()
    for n in range(3, 20):
        hold(client, forms[n % 2], email=f"bot{n}@acme.example")
    assert queries() == few


def test_a_repeated_held_post_is_held_once(client, form):
    url = reverse("capture:api_submission_create", args=[form.slug])
    body = {"email": "ana@acme.example", HONEYPOT_FIELD: "x"}
    for _ in range(2):
        response = client.post(
            url, body, content_type="application/json", headers={"Idempotency-Key": "k-1"}
        )
        assert response.status_code == 201
    assert QuarantinedPost.objects.count() == 1
    changed = {**body, "company": "Other"}
    client.post(url, changed, content_type="application/json", headers={"Idempotency-Key": "k-1"})
    assert QuarantinedPost.objects.count() == 2


def test_releasing_a_post_whose_key_was_stored_since_answers_that_submission(
    client, form, marketer
):
    url = reverse("capture:api_submission_create", args=[form.slug])
    values = {"email": "ana@acme.example"}
    key = {"Idempotency-Key": "k-2"}
    client.post(url, {**values, HONEYPOT_FIELD: "x"}, content_type="application/json", headers=key)
    stored = client.post(url, values, content_type="application/json", headers=key)
    assert stored.status_code == 201
    submission = quarantine_release(
        post=QuarantinedPost.objects.get(), by=marketer, why="Same post"
    )
    assert submission.pk == stored.json()["submission"]
    assert Submission.objects.count() == 1
