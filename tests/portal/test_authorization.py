"""Every page and endpoint, opened by every role, on a lead of their own and of someone else.

Posting every move in every stage as each role is tested in tests/leads/inbox/test_actions.py.
The tables must name every URL the project serves (the admin aside): a new page without a
row fails `test_every_url_is_in_the_table`, so nobody adds a page without saying who may
open it.
"""

import pytest
from django.test import Client
from django.urls import URLPattern, URLResolver, get_resolver, reverse
from django.utils import timezone

from leads.capture.builder.tokens import hubspot_account_token_issue
from leads.capture.imports.models import LeadImport
from leads.capture.models import QuarantinedPost
from leads.models import Stage
from leads.routing.models import Absence
from portal.accounts.roles import Role
from portal.dashboard.services import review_freeze
from portal.integrations.api.services import token_create
from portal.notifications.models import Kind, Notification
from portal.notifications.services import Notice, notices_send
from scoring.models import Agreement
from scoring.progress import RescoreRun
from tests.factories import (
    CriterionFactory,
    DeliveryFactory,
    EndpointFactory,
    FormFactory,
    LeadFactory,
    QueueFactory,
    UserFactory,
)

pytestmark = pytest.mark.django_db

ANON, REP, OTHER_REP, MARKETER, MKT_MGR, SALES_MGR = (
    "anonymous",
    "rep (own lead)",
    "rep (another's lead)",
    "marketer",
    "marketing manager",
    "sales manager",
)
WHO = [ANON, REP, OTHER_REP, MARKETER, MKT_MGR, SALES_MGR]
LOGIN = "login"  # a redirect to the login page


def statuses(anon, rep, other_rep, marketer, mkt_mgr, sales_mgr) -> dict[str, object]:
    return dict(zip(WHO, [anon, rep, other_rep, marketer, mkt_mgr, sales_mgr], strict=True))


PUBLIC = statuses(200, 200, 200, 200, 200, 200)
# What a GET answers, per URL name. Lead pages take the routed lead owned by REP.
GET = {
    "home": statuses(LOGIN, 302, 302, 302, 302, 302),
    "healthz": PUBLIC,
    "login": statuses(200, 302, 302, 302, 302, 302),
    "password_change": statuses(LOGIN, 200, 200, 200, 200, 200),
    "password_change_done": statuses(LOGIN, 200, 200, 200, 200, 200),
    # The shared dashboard: the same team-wide numbers for every login, reps too (issue 20).
    "dashboard": statuses(LOGIN, 200, 200, 200, 200, 200),
    "dashboard_csv": statuses(LOGIN, 200, 200, 200, 200, 200),
    "dashboard_print": statuses(LOGIN, 200, 200, 200, 200, 200),
    # Recomputes the figures for everyone: a POST (the page's Refresh button).
    "dashboard_refresh": statuses(LOGIN, 405, 405, 405, 405, 405),
    # The handoff review: read by every login; each side's manager writes its notes.
    "review_list": statuses(LOGIN, 200, 200, 200, 200, 200),
    "review": statuses(LOGIN, 200, 200, 200, 200, 200),
    "review_csv": statuses(LOGIN, 200, 200, 200, 200, 200),
    "inbox:list": statuses(LOGIN, 200, 200, 200, 200, 200),
    "inbox:lead": statuses(LOGIN, 200, 404, 200, 200, 200),
    # Marketing and the managers take lists away as CSV; a rep works leads in the portal.
    "inbox:export": statuses(LOGIN, 403, 403, 200, 200, 200),
    "inbox:repeats_seen": statuses(LOGIN, 405, 405, 405, 405, 405),
    "capture:submissions_export": statuses(LOGIN, 403, 403, 200, 200, 200),
    "capture:hubspot_token": statuses(LOGIN, 403, 403, 200, 200, 403),
    "capture:form_list": statuses(LOGIN, 403, 403, 200, 200, 200),
    # The sales queues: the sales manager (and an admin) sets them up; nobody else sees them.
    "routing:queue_list": statuses(LOGIN, 403, 403, 403, 403, 200),
    "routing:queue_new": statuses(LOGIN, 403, 403, 403, 403, 200),
    "routing:queue_edit": statuses(LOGIN, 403, 403, 403, 403, 200),
    "routing:queue_pool": statuses(LOGIN, 403, 403, 403, 403, 200),
    "routing:queue_fairness": statuses(LOGIN, 403, 403, 403, 403, 200),
    "routing:simulator": statuses(LOGIN, 403, 403, 403, 403, 200),
    "routing:rep_list": statuses(LOGIN, 403, 403, 403, 403, 200),
    # Each rep sets their own availability; the sales manager sets any rep's.
    "routing:my_availability": statuses(LOGIN, 200, 200, 403, 403, 200),
    "routing:rep_availability": statuses(LOGIN, 403, 403, 403, 403, 200),
    # REP's days away: REP and the sales manager may remove them; to anyone else, none such.
    "routing:absence_delete": statuses(LOGIN, 200, 404, 403, 403, 200),
    # The form builder: marketing builds; a sales manager may look; a rep never sees it.
    "capture:form_new": statuses(LOGIN, 403, 403, 200, 200, 403),
    "capture:builder": statuses(LOGIN, 403, 403, 200, 200, 200),
    "capture:form_preview": statuses(LOGIN, 403, 403, 200, 200, 200),
    "capture:form_edit": statuses(LOGIN, 403, 403, 200, 200, 403),
    "capture:field_new": statuses(LOGIN, 403, 403, 200, 200, 403),
    "capture:field_edit": statuses(LOGIN, 403, 403, 200, 200, 403),
    "capture:field_remove": statuses(LOGIN, 403, 403, 405, 405, 403),
    "capture:field_move": statuses(LOGIN, 403, 403, 405, 405, 403),
    "capture:publish": statuses(LOGIN, 403, 403, 200, 200, 403),
    "capture:unpublish": statuses(LOGIN, 403, 403, 200, 200, 403),
    "capture:archive": statuses(LOGIN, 403, 403, 200, 200, 403),
    # CSV imports: the marketing manager's (and an admin's) alone.
    "capture:import_list": statuses(LOGIN, 403, 403, 403, 200, 403),
    "capture:import_new": statuses(LOGIN, 403, 403, 403, 200, 403),
    "capture:import_detail": statuses(LOGIN, 403, 403, 403, 200, 403),
    "capture:import_start": statuses(LOGIN, 403, 403, 403, 405, 403),
    "capture:import_progress": statuses(LOGIN, 403, 403, 403, 200, 403),
    "capture:import_report": statuses(LOGIN, 403, 403, 403, 200, 403),
    "capture:form": PUBLIC,
    "capture:thanks": PUBLIC,
    "capture:api_submission_create": statuses(405, 405, 405, 405, 405, 405),
    # The embed script reads the published form's fields; the compatible endpoints take posts.
    "capture:api_form_definition": PUBLIC,
    "capture:hubspot_submit": statuses(405, 405, 405, 405, 405, 405),
    # Without the form's bearer token, nothing at all (also a GET): 401 in HubSpot's shape.
    "capture:hubspot_secure_submit": statuses(401, 401, 401, 401, 401, 401),
    "capture:hubspot_v2_submit": statuses(405, 405, 405, 405, 405, 405),
    # Account-wide HubSpot tokens: the marketing manager's (and an admin's) alone.
    "capture:account_tokens": statuses(LOGIN, 403, 403, 403, 200, 403),
    "capture:account_token_revoke": statuses(LOGIN, 403, 403, 403, 200, 403),
    "capture:web_to_lead": statuses(405, 405, 405, 405, 405, 405),
    "capture:web_to_lead_servlet": statuses(405, 405, 405, 405, 405, 405),
    # The spam quarantine (a held post): marketing reviews and decides; sales never sees it.
    "capture:quarantine_list": statuses(LOGIN, 403, 403, 200, 200, 403),
    "capture:quarantine_post": statuses(LOGIN, 403, 403, 200, 200, 403),
    "capture:quarantine_release": statuses(LOGIN, 403, 403, 405, 405, 403),
    "capture:quarantine_discard": statuses(LOGIN, 403, 403, 200, 200, 403),
    # Notifications: everyone with a login has their own; reading one off is only ever posted.
    "notifications:list": statuses(LOGIN, 200, 200, 200, 200, 200),
    "notifications:read": statuses(LOGIN, 405, 405, 405, 405, 405),
    "notifications:read_all": statuses(LOGIN, 405, 405, 405, 405, 405),
    "notifications:preferences": statuses(LOGIN, 200, 200, 200, 200, 200),
    # Webhooks: both sides' managers; marketers and reps never (every lead's details leave
    # LeadBridge through an endpoint, and its page shows the signing secret).
    "webhooks:list": statuses(LOGIN, 403, 403, 403, 200, 200),
    "webhooks:new": statuses(LOGIN, 403, 403, 403, 200, 200),
    "webhooks:endpoint": statuses(LOGIN, 403, 403, 403, 200, 200),
    "webhooks:edit": statuses(LOGIN, 403, 403, 403, 200, 200),
    "webhooks:deliveries_csv": statuses(LOGIN, 403, 403, 403, 200, 200),
    "webhooks:disable": statuses(LOGIN, 403, 403, 403, 200, 200),
    "webhooks:enable": statuses(LOGIN, 403, 403, 403, 200, 200),
    "webhooks:secret": statuses(LOGIN, 403, 403, 403, 200, 200),
    "webhooks:test": statuses(LOGIN, 403, 403, 403, 405, 405),
    "webhooks:redeliver": statuses(LOGIN, 403, 403, 403, 405, 405),
    # The profile page and its API tokens: everyone with a login has their own. Revoking
    # takes REP's token: its own confirmation page to REP; to anyone else it does not exist.
    "profile": statuses(LOGIN, 200, 200, 200, 200, 200),
    "token_new": statuses(LOGIN, 405, 405, 405, 405, 405),
    "token_revoke": statuses(LOGIN, 200, 404, 404, 404, 404),
    # The REST API's schema and its readers are public, like any API's reference; the API
    # itself (api:*) has its own matrix, tests/portal/integrations/test_api_authorization.py.
    "schema": PUBLIC,
    "docs": PUBLIC,
    "redoc": PUBLIC,
}
LOGOUT_GET = statuses(405, 405, 405, 405, 405, 405)


def _names(resolver=None, namespace="") -> set[str]:
    names = set()
    for entry in (resolver or get_resolver()).url_patterns:
        if isinstance(entry, URLResolver):
            if entry.namespace == "admin":
                continue
            inner = f"{namespace}{entry.namespace}:" if entry.namespace else namespace
            names |= _names(entry, inner)
        elif isinstance(entry, URLPattern) and entry.name:
            names.add(f"{namespace}{entry.name}")
    return names


def test_every_url_is_in_the_table():
    moves = {f"inbox:{name}" for name in MOVES_GET}
    api = {name for name in _names() if name.startswith("api:")}
    assert api, "the REST API's URLs are in their own matrix"
    assert _names() == set(GET) | moves | set(AGREEMENT_GET) | {"logout"} | api


@pytest.fixture
def world():
    rep, other_rep = UserFactory.create_batch(2, role=Role.SALES_REP)
    users = {
        REP: rep,
        OTHER_REP: other_rep,
        MARKETER: UserFactory(role=Role.MARKETER),
        MKT_MGR: UserFactory(role=Role.MARKETING_MANAGER),
        SALES_MGR: UserFactory(role=Role.SALES_MANAGER),
    }
    form = FormFactory()
    lead = LeadFactory(stage=Stage.ROUTED, owner=rep, source_form=form)
    QuarantinedPost.objects.create(
        form=form,
        form_version=form.current_version,
        intake="page",
        payload={"email": "bot@spam.example"},
        cleaned={"email": "bot@spam.example"},
        reasons=[QuarantinedPost.Reason.HONEYPOT],
    )
    return users, form, lead


def _url(name: str, form, lead) -> str:
    if name in (
        "capture:form",
        "capture:thanks",
        "capture:api_submission_create",
        "capture:api_form_definition",
    ):
        return reverse(name, kwargs={"slug": form.slug})
    if name in (
        "capture:hubspot_submit",
        "capture:hubspot_secure_submit",
        "capture:hubspot_v2_submit",
    ):
        return reverse(name, kwargs={"portal_id": "123", "guid": form.guid})
    if name == "capture:account_token_revoke":
        account_token, _token = hubspot_account_token_issue(name="Website", by=None)
        return reverse(name, kwargs={"pk": account_token.pk})
    if name in ("capture:web_to_lead", "capture:web_to_lead_servlet", "capture:submissions_export"):
        return reverse(name)
    if name.startswith("capture:quarantine_") and name != "capture:quarantine_list":
        return reverse(name, kwargs={"pk": QuarantinedPost.objects.get().pk})
    if name.startswith("capture:import_") and name not in (
        "capture:import_list",
        "capture:import_new",
    ):
        lead_import = LeadImport.objects.create(
            form=form, source="test", file_name="t.csv", content="email\na@b.example\n"
        )
        return reverse(name, kwargs={"pk": lead_import.pk})
    if name == "token_revoke":
        return reverse(name, kwargs={"pk": token_create(user=lead.owner, name="CRM")[0].pk})
    if name == "notifications:read":
        return reverse(name, kwargs={"pk": _rep_notification(lead).pk})
    if name == "webhooks:redeliver":
        return reverse(name, kwargs={"pk": DeliveryFactory().pk})
    if name.startswith("webhooks:") and name not in ("webhooks:list", "webhooks:new"):
        return reverse(name, kwargs={"pk": EndpointFactory().pk})
    if name in ("routing:queue_edit", "routing:queue_pool", "routing:queue_fairness"):
        return reverse(name, kwargs={"pk": QueueFactory().pk})
    if name == "routing:rep_availability":
        return reverse(name, kwargs={"pk": lead.owner_id})
    if name == "routing:absence_delete":
        absence = Absence.objects.create(
            rep_id=lead.owner_id, first_day=timezone.localdate(), last_day=timezone.localdate()
        )
        return reverse(name, kwargs={"pk": absence.pk})
    if name == "dashboard_csv":
        return reverse(name, kwargs={"panel": "funnel"})
    if name in ("review", "review_csv"):
        review = review_freeze()
        panel = {"panel": "funnel"} if name == "review_csv" else {}
        return reverse(name, kwargs={"pk": review.pk, **panel})
    if name.startswith("inbox:") and name not in ("inbox:list", "inbox:export"):
        return reverse(name, kwargs={"pk": lead.pk})
    if name.startswith("capture:field_") and name != "capture:field_new":
        return reverse(name, kwargs={"pk": form.pk, "field_pk": form.fields.get(key="company").pk})
    if name.startswith("capture:") and name not in (
        "capture:form_list",
        "capture:form_new",
        "capture:quarantine_list",
        "capture:import_list",
        "capture:import_new",
        "capture:account_tokens",
    ):
        return reverse(name, kwargs={"pk": form.pk})
    return reverse(name)


def _rep_notification(lead) -> Notification:
    """A notification of REP's (the owner of the world's lead)."""
    notice = Notice(recipient_id=lead.owner_id, kind=Kind.LEAD_ASSIGNED, title="Yours")
    notices_send([notice])
    return Notification.objects.filter(recipient_id=lead.owner_id).latest("id")


def _answer(response) -> object:
    if response.status_code == 302 and response["Location"].startswith(reverse("login")):
        return LOGIN
    return response.status_code


def _open(world, who, name):
    users, form, lead = world
    client = Client()
    if who != ANON:
        client.force_login(users[who])
    return _answer(client.get(_url(name, form, lead)))


@pytest.mark.parametrize("name", sorted(GET))
@pytest.mark.parametrize("who", WHO)
def test_each_role_opens_exactly_the_pages_it_may(world, who, name):
    assert _open(world, who, name) == GET[name][who]


@pytest.mark.parametrize("who", WHO)
def test_logout_takes_no_get(world, who):
    assert _open(world, who, "logout") == LOGOUT_GET[who]


# Reading a notification off (POST): only its recipient; to anyone else it does not exist.
READ_POST = statuses(LOGIN, 302, 404, 404, 404, 404)


@pytest.mark.parametrize("who", WHO)
def test_only_its_recipient_reads_a_notification_off(world, who):
    users, _form, lead = world
    notification = _rep_notification(lead)
    client = Client()
    if who != ANON:
        client.force_login(users[who])
    url = reverse("notifications:read", kwargs={"pk": notification.pk})
    assert _answer(client.post(url)) == READ_POST[who]
    notification.refresh_from_db()
    assert (notification.read_at is not None) == (READ_POST[who] == 302)


# A GET on a move, on a routed lead: its form or confirmation page to the owner when the move
# is open from this stage (reject), back to the lead when it is not (win, lose), 405 for moves
# that are only ever posted; never anything to a rep who does not own the lead.
MOVES_GET = {
    "accept": statuses(LOGIN, 405, 404, 403, 403, 403),
    "reject": statuses(LOGIN, 200, 404, 403, 403, 403),
    "contact": statuses(LOGIN, 405, 404, 403, 403, 403),
    "convert": statuses(LOGIN, 405, 404, 403, 403, 403),
    "win": statuses(LOGIN, 302, 404, 403, 403, 403),
    "lose": statuses(LOGIN, 302, 404, 403, 403, 403),
    "recycle": statuses(LOGIN, 405, 404, 403, 403, 403),
    "reassign": statuses(LOGIN, 403, 403, 403, 403, 405),
    "note": statuses(LOGIN, 405, 404, 405, 405, 405),
    # "Should not have qualified": asked on the lead page itself, only by the lead's rep.
    "flag": statuses(LOGIN, 405, 404, 403, 403, 403),
}


def test_every_move_is_in_the_table():
    from leads.inbox.actions import ACTIONS

    assert set(ACTIONS) == set(MOVES_GET)


@pytest.mark.parametrize("name", sorted(MOVES_GET))
@pytest.mark.parametrize("who", WHO)
def test_each_role_opens_exactly_the_moves_it_may(world, who, name):
    assert _open(world, who, f"inbox:{name}") == MOVES_GET[name][who]


# The inbox's tabs and filters, and its polling (htmx asks for the rows alone): a list of
# one's own leads to a rep, of every lead to those who see them all; never a lead of another
# rep's to a rep.
@pytest.mark.parametrize("tab", ["needs_action", "rejected", "won", "lost", "nurture", "all"])
@pytest.mark.parametrize("polled", [False, True])
@pytest.mark.parametrize("who", WHO)
def test_each_role_sees_its_own_inbox_in_every_tab(world, who, tab, polled):
    users, _form, lead = world
    client = Client()
    if who != ANON:
        client.force_login(users[who])
    headers = {"HX-Request": "true"} if polled else {}
    response = client.get(reverse("inbox:list"), {"tab": tab}, headers=headers)
    assert _answer(response) == GET["inbox:list"][who]
    if response.status_code == 200:
        shown = f'data-lead="{lead.pk}"' in response.content.decode()
        assert shown == (tab in ("needs_action", "all") and who != OTHER_REP)


# Accepting from the list takes the list's page back (`next`); it never opens the move to
# anyone the lead page would refuse it to.
@pytest.mark.parametrize("who", WHO)
def test_accepting_from_the_list_is_the_owners_alone(world, who):
    users, _form, lead = world
    client = Client()
    if who != ANON:
        client.force_login(users[who])
    response = client.post(reverse("inbox:accept", args=[lead.pk]), {"next": "/leads/"})
    expected = statuses(LOGIN, 302, 404, 403, 403, 403)[who]
    assert _answer(response) == expected
    lead.refresh_from_db()
    assert (lead.stage == Stage.ACCEPTED) == (who == REP)


# The agreement pages, on a draft (v1, one criterion): everyone with a login reads it; only
# the two managers open the editor and the confirmation pages; what is only ever posted
# answers 405. A draft has nothing to sign or send back, so a manager goes back to it (302).
EVERYONE = statuses(LOGIN, 200, 200, 200, 200, 200)
MANAGERS = statuses(LOGIN, 403, 403, 403, 200, 200)
POSTED = statuses(405, 405, 405, 405, 405, 405)
AGREEMENT_GET = {
    "scoring:agreement": EVERYONE,
    "scoring:version": EVERYONE,
    "scoring:new": POSTED,
    "scoring:edit": MANAGERS,
    "scoring:criterion_add": MANAGERS,
    "scoring:criterion_edit": MANAGERS,
    "scoring:criterion_remove": POSTED,
    "scoring:criterion_up": POSTED,
    "scoring:criterion_down": POSTED,
    "scoring:comment": POSTED,
    "scoring:propose": MANAGERS,
    "scoring:sign": statuses(LOGIN, 403, 403, 403, 403, 302),  # for sales
    "scoring:send_back": statuses(LOGIN, 403, 403, 403, 302, 302),
    "scoring:forms": POSTED,
    "scoring:rebase": POSTED,
    # The re-scoring's progress (JSON), polled by the agreement page that everyone reads.
    "scoring:rescore_progress": EVERYONE,
    # The reps' flags, by criterion: for those who hold the agreement (the managers).
    "scoring:flags": MANAGERS,
}


@pytest.fixture
def draft_agreement():
    draft = Agreement.objects.create(version=1)
    CriterionFactory(agreement=draft)
    return draft


def _agreement_url(name: str, draft) -> str:
    if name in ("scoring:agreement", "scoring:new", "scoring:flags"):
        return reverse(name)
    if name == "scoring:rescore_progress":
        return reverse(name, kwargs={"pk": RescoreRun.objects.create(agreement=draft).pk})
    kwargs = {"version": draft.version}
    if name.startswith("scoring:criterion_") and name != "scoring:criterion_add":
        kwargs["pk"] = draft.criteria.get().pk
    if name == "scoring:sign":
        kwargs["side"] = "sales"
    return reverse(name, kwargs=kwargs)


@pytest.mark.parametrize("name", sorted(AGREEMENT_GET))
@pytest.mark.parametrize("who", WHO)
def test_each_role_opens_exactly_the_agreement_pages_it_may(world, draft_agreement, who, name):
    users, _form, _lead = world
    client = Client()
    if who != ANON:
        client.force_login(users[who])
    response = client.get(_agreement_url(name, draft_agreement))
    assert _answer(response) == AGREEMENT_GET[name][who]


# Signing a proposal, for each side: its confirmation page (GET) and the signature (POST).
# Only the side's manager signs it. A superuser without a manager's role is refused on both
# sides: their rights draft and propose, but a signature is the role's own (issue 18).
SUPERUSER = "superuser (no role)"
SIGNERS = [*WHO, SUPERUSER]
SIGN_GET = {
    "marketing": dict(zip(SIGNERS, [LOGIN, 403, 403, 403, 200, 403, 403], strict=True)),
    "sales": dict(zip(SIGNERS, [LOGIN, 403, 403, 403, 403, 200, 403], strict=True)),
}
SIGN_POST = {
    "marketing": dict(zip(SIGNERS, [LOGIN, 403, 403, 403, 302, 403, 403], strict=True)),
    "sales": dict(zip(SIGNERS, [LOGIN, 403, 403, 403, 403, 302, 403], strict=True)),
}


@pytest.fixture
def proposal():
    proposed = Agreement.objects.create(version=1)
    CriterionFactory(agreement=proposed)
    Agreement.objects.filter(pk=proposed.pk).update(proposed_at=timezone.now())
    proposed.refresh_from_db()
    return proposed


def _signer(world, who):
    users, _form, _lead = world
    client = Client()
    if who == SUPERUSER:
        client.force_login(UserFactory(is_superuser=True, is_staff=True))
    elif who != ANON:
        client.force_login(users[who])
    return client


@pytest.mark.parametrize("side", sorted(SIGN_GET))
@pytest.mark.parametrize("who", SIGNERS)
def test_only_the_sides_manager_opens_its_signature(world, proposal, who, side):
    url = reverse("scoring:sign", kwargs={"version": proposal.version, "side": side})
    assert _answer(_signer(world, who).get(url)) == SIGN_GET[side][who]


@pytest.mark.parametrize("side", sorted(SIGN_POST))
@pytest.mark.parametrize("who", SIGNERS)
def test_only_the_sides_manager_signs_it(world, proposal, who, side):
    url = reverse("scoring:sign", kwargs={"version": proposal.version, "side": side})
    response = _signer(world, who).post(url)
    assert _answer(response) == SIGN_POST[side][who]
    proposal.refresh_from_db()
    assert proposal.signed_for(side) == (SIGN_POST[side][who] == 302)
    if who == SUPERUSER:
        assert "rights are not a signature" in response.content.decode()


# The queue page's escalation ladder (docs/routing.md): posted by each role, only the sales
# manager's post changes it; the manager offered is a sales manager, never a rep.
LADDER_POST = statuses(LOGIN, 403, 403, 403, 403, 302)


@pytest.mark.parametrize("who", WHO)
def test_only_the_sales_manager_sets_a_queues_ladder(world, who):
    from leads.routing.models import Queue

    users, _, _ = world
    queue = QueueFactory()
    client = Client()
    if who != ANON:
        client.force_login(users[who])
    ladder = {
        "manager": users[SALES_MGR].pk,
        "remind_percent": 25,
        "max_reassignments": 3,
        "escalate_off_hours": "on",
    }
    answer = client.post(
        reverse("routing:queue_edit", kwargs={"pk": queue.pk}),
        {"name": queue.name, "priority": 5, "is_active": "on", **ladder},
    )

    assert _answer(answer) == LADDER_POST[who]
    saved = Queue.objects.values(*ladder).get(pk=queue.pk)
    if who == SALES_MGR:
        assert saved == {**ladder, "escalate_off_hours": True}
    else:
        assert saved == {
            "manager": None,
            "remind_percent": 50,
            "max_reassignments": 2,
            "escalate_off_hours": False,
        }


def test_a_rep_cannot_be_named_the_queues_manager(world, client):
    users, _, _ = world
    queue = QueueFactory()
    client.force_login(users[SALES_MGR])

    answer = client.post(
        reverse("routing:queue_edit", kwargs={"pk": queue.pk}),
        {"name": queue.name, "priority": 5, "manager": users[REP].pk},
    )

    assert answer.status_code == 400
    assert "manager" in answer.context["bound"].errors


# The webhook acts that change something (posted): the two managers alone; nothing changes
# for anyone else.
WEBHOOK_POSTS = statuses(LOGIN, 403, 403, 403, 302, 302)


@pytest.mark.parametrize("act", ["test", "disable", "enable", "secret"])
@pytest.mark.parametrize("who", WHO)
def test_only_the_managers_act_on_an_endpoint(world, who, act):
    users, _form, _lead = world
    endpoint = EndpointFactory()
    secret = endpoint.secret
    client = Client()
    if who != ANON:
        client.force_login(users[who])
    response = client.post(reverse(f"webhooks:{act}", kwargs={"pk": endpoint.pk}))
    assert _answer(response) == WEBHOOK_POSTS[who]
    endpoint.refresh_from_db()
    changed = {
        "test": endpoint.deliveries.exists(),
        "disable": not endpoint.is_active,
        "enable": False,
        "secret": endpoint.secret != secret,
    }[act]
    if act != "enable":
        assert changed == (WEBHOOK_POSTS[who] == 302)


@pytest.mark.parametrize("who", WHO)
def test_only_the_managers_send_a_delivery_again(world, who):
    users, _form, _lead = world
    delivery = DeliveryFactory(status="failed", next_attempt_at=None)
    client = Client()
    if who != ANON:
        client.force_login(users[who])
    response = client.post(reverse("webhooks:redeliver", kwargs={"pk": delivery.pk}))
    assert _answer(response) == WEBHOOK_POSTS[who]
    delivery.refresh_from_db()
    assert (delivery.status == "pending") == (WEBHOOK_POSTS[who] == 302)
