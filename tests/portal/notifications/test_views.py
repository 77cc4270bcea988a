"""The bell's pages: every user sees, reads off and sets only their own."""

import pytest
from django.urls import reverse

from portal.notifications.models import Delivery, Kind, Notification
from portal.notifications.services import Notice, notices_send

pytestmark = pytest.mark.django_db


def tell(user, count=1, title="Ana was assigned to you"):
    notices_send(
        Notice(recipient_id=user.pk, kind=Kind.LEAD_ASSIGNED, title=f"{title} {n}", url="/leads/")
        for n in range(count)
    )


def test_the_bell_on_every_page_counts_ones_own_unread(client, rep, other_rep):
    tell(rep, 3)
    tell(other_rep, 5)
    client.force_login(rep)
    for url in (reverse("inbox:list"), reverse("scoring:agreement"), reverse("notifications:list")):
        page = client.get(url).content.decode()
        assert 'id="bell-count">3<span class="visually-hidden"> unread</span>' in page
    Notification.objects.filter(recipient=rep).update(read_at="2025-01-01T00:00Z")
    assert 'id="bell-count"' not in client.get(reverse("inbox:list")).content.decode()


def test_the_bell_stops_counting_at_99_plus(client, rep):
    tell(rep, 120)
    client.force_login(rep)
    page = client.get(reverse("inbox:list")).content.decode()
    assert 'id="bell-count">99+<span class="visually-hidden"> unread</span>' in page
    some = Notification.objects.filter(recipient=rep).values_list("pk", flat=True)[:21]
    Notification.objects.filter(pk__in=list(some)).update(read_at="2025-01-01T00:00Z")
    page = client.get(reverse("inbox:list")).content.decode()
    assert 'id="bell-count">99<span class="visually-hidden"> unread</span>' in page


def test_the_list_shows_only_ones_own_newest_first_in_pages(client, rep, other_rep):
    tell(rep, 30)
    tell(other_rep, 1, title="Secret")
    client.force_login(rep)
    page = client.get(reverse("notifications:list")).context["page"]
    assert page.paginator.count == 30
    assert [n.title for n in page.object_list][:2] == [
        "Ana was assigned to you 29",
        "Ana was assigned to you 28",
    ]
    second = client.get(reverse("notifications:list"), {"page": 2}).content.decode()
    assert "Ana was assigned to you 0" in second
    assert "Secret" not in second


def test_an_empty_list_says_what_will_come(client, rep):
    client.force_login(rep)
    page = client.get(reverse("notifications:list")).content.decode()
    assert "No notifications yet." in page
    assert 'id="mark-all-read"' not in page


def test_marking_one_read_is_a_post_and_returns_to_the_list(client, rep):
    tell(rep, 2)
    client.force_login(rep)
    first = Notification.objects.filter(recipient=rep).first()
    url = reverse("notifications:read", kwargs={"pk": first.pk})
    assert client.get(url).status_code == 405
    response = client.post(url, {"next": "/notifications/?page=1"})
    assert (response.status_code, response["Location"]) == (302, "/notifications/?page=1")
    first.refresh_from_db()
    assert first.read_at is not None
    assert Notification.objects.filter(recipient=rep, read_at__isnull=True).count() == 1


def test_nobody_marks_anothers_notification_read(client, rep, other_rep):
    tell(other_rep)
    theirs = Notification.objects.get(recipient=other_rep)
    client.force_login(rep)
    response = client.post(reverse("notifications:read", kwargs={"pk": theirs.pk}))
    assert response.status_code == 404
    theirs.refresh_from_db()
    assert theirs.read_at is None


def test_an_outside_next_is_not_followed(client, rep):
    tell(rep)
    client.force_login(rep)
    response = client.post(reverse("notifications:read_all"), {"next": "https://evil.example/"})
    assert response["Location"] == reverse("notifications:list")


def test_mark_all_read_reads_only_ones_own(client, rep, other_rep):
    tell(rep, 2)
    tell(other_rep, 2)
    client.force_login(rep)
    response = client.post(reverse("notifications:read_all"), follow=True)
    assert "2 notifications marked read." in response.content.decode()
    assert not Notification.objects.filter(recipient=rep, read_at__isnull=True).exists()
    assert Notification.objects.filter(recipient=other_rep, read_at__isnull=True).count() == 2


def test_the_posts_need_the_csrf_token(rep):
    from django.test import Client

    client = Client(enforce_csrf_checks=True)
    client.force_login(rep)
    tell(rep)
    assert client.post(reverse("notifications:read_all")).status_code == 403


def test_the_settings_page_is_reached_from_the_user_menu_and_saves_each_choice(client, rep):
    client.force_login(rep)
    home = client.get(reverse("inbox:list")).content.decode()
    assert f'href="{reverse("notifications:preferences")}"' in home
    page = client.get(reverse("notifications:preferences"))
    assert page.status_code == 200
    choices = {kind: page.context["form"][kind].initial for kind in Kind.values}
    choices[Kind.LEAD_DUE_SOON] = Delivery.OFF
    choices[Kind.IMPORT_FINISHED] = Delivery.DIGEST
    response = client.post(reverse("notifications:preferences"), choices, follow=True)
    assert "Your notification preferences are saved." in response.content.decode()
    assert dict(rep.notification_preferences.values_list("kind", "delivery")) == {
        Kind.LEAD_DUE_SOON: Delivery.OFF,
        Kind.IMPORT_FINISHED: Delivery.DIGEST,
    }


def test_a_bad_choice_is_named_on_the_page(client, rep):
    client.force_login(rep)
    choices = {kind: Delivery.IMMEDIATE for kind in Kind.values}
    choices[Kind.LEAD_ASSIGNED] = "hourly"
    response = client.post(reverse("notifications:preferences"), choices)
    assert response.status_code == 200
    assert response.context["form"].errors[Kind.LEAD_ASSIGNED]
    assert rep.notification_preferences.count() == 0
