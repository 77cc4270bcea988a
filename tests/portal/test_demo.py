import pytest
from django.core.management import call_command
from django.utils import timezone

from leads.models import ContactChannel, Lead, LeadEvent, LostReason, Stage
from leads.routing.models import Assignment
from portal.accounts.models import User
from portal.demo.services import DEMO_USERS
from portal.integrations.webhooks.models import Endpoint
from portal.notifications.models import Notification
from scoring.models import Agreement

pytestmark = pytest.mark.django_db


def test_seed_demo_builds_a_working_quarter(capsys):
    call_command("seed_demo", leads=60)
    assert User.objects.count() == len(DEMO_USERS)
    assert Agreement.objects.active().version == 1
    assert Lead.objects.count() == 60
    stages = set(Lead.objects.values_list("stage", flat=True))
    assert {Stage.DISQUALIFIED, Stage.ROUTED, Stage.ACCEPTED} <= stages
    # Every lead's history starts with its capture and ends in its current stage.
    for lead in Lead.objects.prefetch_related("events"):
        events = [event for event in lead.events.all() if event.to_stage]
        assert events[0].to_stage == Stage.CAPTURED
        assert events[-1].to_stage == lead.stage
        assert [e.at for e in events] == sorted(e.at for e in events)
    assert LeadEvent.objects.filter(actor__isnull=False).exists()
    output = capsys.readouterr().out
    assert "rep.ana" in output and "leadbridge-demo" in output


def test_the_demo_shows_a_webhook_endpoint_that_sends_nothing(capsys):
    call_command("seed_demo", leads=5)
    (endpoint,) = Endpoint.objects.all()
    assert not endpoint.is_active, "an example address: nothing leaves the demo"
    assert endpoint.url.startswith("https://crm.example.com/")
    assert not endpoint.deliveries.exists()
    call_command("seed_demo", leads=0)
    assert Endpoint.objects.count() == 1


def test_demo_leads_are_worked_through_every_arrow(capsys):
    call_command("seed_demo", leads=150)
    Kind = LeadEvent.Kind
    events = LeadEvent.objects.all()
    contacts = [e for e in events if e.kind == Kind.CONTACT_LOGGED or e.to_stage == Stage.CONTACTED]
    assert any(e.kind == Kind.CONTACT_LOGGED for e in contacts)
    assert {e.data["channel"] for e in contacts} <= set(ContactChannel.values)
    lost = events.filter(to_stage=Stage.LOST)
    assert lost.exists()
    assert set(lost.values_list("reason_code", flat=True)) <= set(LostReason.values)
    recycled = Lead.objects.filter(stage=Stage.RECYCLED)
    assert recycled.exists()
    assert all(lead.nurture_until > timezone.localdate() for lead in recycled)
    assert events.filter(kind=Kind.NOTE).exists()
    assert events.filter(kind=Kind.REASSIGNED).count() == (
        Assignment.objects.exclude(assigned_by=None).count()
    )
    assert events.filter(kind=Kind.REASSIGNED).exists()
    assert Lead.objects.filter(stage=Stage.WON).exists()
    # People take their time: none of their moves on a lead land at the same instant (as
    # when a long story starting recently was squeezed against now), and none after now.
    for lead in Lead.objects.prefetch_related("events"):
        moves = [e.at for e in lead.events.all() if e.actor_id and e.to_stage]
        assert len(set(moves)) == len(moves), lead
        assert all(at <= timezone.now() for at in moves)


def test_seed_demo_twice_adds_nothing(capsys):
    call_command("seed_demo", leads=5)
    call_command("seed_demo", leads=5)
    assert Lead.objects.count() == 5
    assert "already there" in capsys.readouterr().out


def test_a_demo_notice_is_dated_by_its_event_listed_newest_first_and_old_ones_read(capsys):
    call_command("seed_demo", leads=60)
    notices = list(Notification.objects.select_related("lead").order_by("-id"))
    assert notices
    for notice in notices:
        if notice.lead:
            assert notice.created_at in {event.at for event in notice.lead.events.all()}
    times = [notice.created_at for notice in notices]
    assert times == sorted(times, reverse=True)  # the list's order (-id) is newest first
    for user in User.objects.all():
        mine = [notice for notice in notices if notice.recipient_id == user.pk]
        assert all(notice.read_at is None for notice in mine[:5]), user
        assert all(notice.read_at > notice.created_at for notice in mine[5:]), user
    call_command("seed_demo", leads=60)
    assert list(Notification.objects.order_by("-id")) == notices
