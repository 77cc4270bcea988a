import pytest
from django.apps import apps
from django.contrib.auth.models import Group
from django.urls import reverse

from portal.accounts.grants import permission_granted
from portal.accounts.roles import Role
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db


def test_the_migration_creates_every_role():
    assert set(Group.objects.values_list("name", flat=True)) >= {role.value for role in Role}


def test_a_migrations_grant_gives_roles_a_permission_and_takes_it_back_reversed():
    exporters = [Role.MARKETER.value, Role.SALES_MANAGER.value]
    grant = permission_granted(("leads", "export_leads"), exporters)

    def holders() -> set[str]:
        return set(
            Group.objects.filter(permissions__codename="export_leads").values_list(
                "name", flat=True
            )
        )

    assert holders() >= set(exporters)  # the migrations granted it
    grant.reverse_code(apps, None)
    assert not holders() & set(exporters)
    assert Role.MARKETING_MANAGER.value in holders()  # a role the grant does not name keeps it
    grant.code(apps, None)
    assert holders() >= set(exporters)


@pytest.mark.parametrize(
    ("role", "may", "may_not"),
    [
        (Role.SALES_REP, {"leads.work_lead", "leads.view_dashboard"}, {"leads.view_all_leads"}),
        (
            Role.SALES_MANAGER,
            {"leads.view_dashboard", "leads.view_all_leads", "scoring.sign_for_sales"},
            {"scoring.sign_for_marketing"},
        ),
        (
            Role.MARKETING_MANAGER,
            {"leads.view_dashboard", "scoring.sign_for_marketing", "capture.add_form"},
            {"scoring.sign_for_sales", "leads.work_lead"},
        ),
        (Role.MARKETER, {"capture.add_form", "leads.view_dashboard"}, {"leads.work_lead"}),
    ],
)
def test_each_role_holds_its_permissions(role, may, may_not):
    user = UserFactory(role=role)
    assert all(user.has_perm(p) for p in may)
    assert not any(user.has_perm(p) for p in may_not)


@pytest.mark.parametrize(
    ("role", "shown", "hidden"),
    [
        (Role.SALES_REP, ["My inbox", "Dashboard"], ["Forms", "Queues"]),
        (Role.SALES_MANAGER, ["Leads", "Dashboard", "Queues"], ["My inbox"]),
        (Role.MARKETER, ["Leads", "Dashboard", "Forms"], ["My inbox", "Queues"]),
    ],
)
def test_navigation_shows_each_role_what_it_may_use(client, role, shown, hidden):
    client.force_login(UserFactory(role=role))
    nav = [label for _url, label in client.get(reverse("inbox:list")).context["nav"]]
    assert all(label in nav for label in shown)
    assert not any(label in nav for label in hidden)


@pytest.mark.parametrize(
    ("role", "landing"),
    [
        (Role.SALES_REP, "inbox:list"),
        (Role.SALES_MANAGER, "dashboard"),
        (Role.MARKETER, "dashboard"),
    ],
)
def test_home_sends_each_role_to_its_start_page(client, role, landing):
    client.force_login(UserFactory(role=role))
    assert client.get(reverse("home"))["Location"] == reverse(landing)


def test_rep_sees_the_shared_dashboard_but_not_the_forms(client):
    client.force_login(UserFactory(role=Role.SALES_REP))
    assert client.get(reverse("dashboard")).status_code == 200
    assert client.get(reverse("capture:form_list")).status_code == 403


def test_login_page_logs_a_user_in(client):
    UserFactory(username="ana", role=Role.SALES_REP)
    response = client.post(reverse("login"), {"username": "ana", "password": "pw"})
    assert response.status_code == 302
    assert client.get(reverse("inbox:list")).status_code == 200


def test_logout_is_a_post(client):
    client.force_login(UserFactory(role=Role.SALES_REP))
    assert client.post(reverse("logout")).status_code == 302
    assert client.get(reverse("inbox:list")).status_code == 302


def test_logout_says_so_on_the_login_page(client):
    client.force_login(UserFactory(role=Role.SALES_REP))
    response = client.post(reverse("logout"), follow=True)
    assert b"You have logged out." in response.content


def test_a_page_outside_ones_scope_is_a_friendly_404(client):
    client.force_login(UserFactory(role=Role.SALES_REP))
    response = client.get(reverse("inbox:lead", args=[999999]))
    assert response.status_code == 404
    assert b"not yours to see" in response.content
