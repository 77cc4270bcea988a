from datetime import date, timedelta

import pytest
from django.utils import timezone

from leads.models import Lead, Stage
from portal.accounts.roles import Role
from portal.dashboard.facts import facts_fresh
from portal.dashboard.forms import DashboardFilterForm, filters_from
from portal.dashboard.selectors import Filters, campaigns, leads_for
from tests.factories import FormFactory, LeadFactory, QueueFactory, UserFactory
from tests.portal.dashboard.helpers import lead_imported_as, submitted

pytestmark = pytest.mark.django_db


def _filters(**params) -> Filters:
    return filters_from(DashboardFilterForm(params), today=date(2026, 3, 10))


def _ids(filters: Filters) -> set[int]:
    return set(leads_for(filters).values_list("pk", flat=True))


def test_no_parameters_mean_the_last_ninety_days_from_local_midnight():
    filters = _filters()
    assert timezone.localtime(filters.since).date() == date(2026, 3, 10) - timedelta(days=89)
    assert timezone.localtime(filters.since).time().hour == 0
    assert filters.until is None


def test_custom_dates_include_the_end_day_and_win_over_a_preset():
    filters = _filters(period="30", start="2025-01-01", end="2025-01-31")
    assert timezone.localtime(filters.since).date() == date(2025, 1, 1)
    assert timezone.localtime(filters.until).date() == date(2025, 2, 1)


def test_an_imported_lead_is_counted_by_its_own_date_not_the_import_day():
    old = lead_imported_as(Stage.WON, days_ago=500)
    recent = LeadFactory()
    day = timezone.localtime(old.created_at).date()
    assert _ids(_filters(period="custom", start=day.isoformat(), end=day.isoformat())) == {old.pk}
    assert _ids(filters_from(DashboardFilterForm({"period": "90"}))) == {recent.pk}
    assert _ids(filters_from(DashboardFilterForm({"period": "all"}))) == {old.pk, recent.pk}


def test_form_campaign_queue_and_rep_each_narrow_the_leads():
    form, rep, queue = FormFactory(), UserFactory(role=Role.SALES_REP), QueueFactory()
    by_form = LeadFactory(source_form=form)
    by_campaign = LeadFactory(campaign="Spring")
    in_queue = LeadFactory(queue=queue, owner=rep, stage=Stage.ROUTED)
    LeadFactory()
    everything = {"period": "all"}
    assert _ids(_filters(**everything, form=form.pk)) == {by_form.pk}
    assert _ids(_filters(**everything, campaign="Spring")) == {by_campaign.pk}
    assert _ids(_filters(**everything, queue=queue.pk)) == {in_queue.pk}
    assert _ids(_filters(**everything, rep=rep.pk)) == {in_queue.pk}


def test_source_is_the_first_utm_source_else_the_imported_origin():
    tagged = LeadFactory()
    submitted(tagged, utm_source="google")
    submitted(tagged, utm_source="newsletter", at=timezone.now() + timedelta(minutes=5))
    olist = LeadFactory(attributes={"origin": "paid_search"})
    LeadFactory(attributes={"origin": "organic_search"})
    assert _ids(_filters(period="all", source="google")) == {tagged.pk}
    assert _ids(_filters(period="all", source="newsletter")) == set()
    assert _ids(_filters(period="all", source="paid_search")) == {olist.pk}


def test_a_filter_it_cannot_read_is_dropped_and_said(client):
    LeadFactory()
    client.force_login(UserFactory(role=Role.MARKETER))
    response = client.get("/dashboard/", {"start": "2025-13-45", "form": "999999", "period": "all"})
    assert response.status_code == 200
    assert response.context["filters"].form is None
    assert "Some filters were not used" in response.content.decode()
    assert response.context["tables"]["funnel"].rows[0][1] == Lead.objects.count()


def test_end_before_start_is_refused():
    form = DashboardFilterForm({"start": "2025-02-01", "end": "2025-01-01"})
    assert not form.is_valid()
    assert "end" in form.errors


def test_without_a_period_the_select_shows_the_default_it_counts(client):
    client.force_login(UserFactory(role=Role.MARKETER))
    form = client.get("/dashboard/").context["form"]
    assert form["period"].value() == "90"


def test_the_campaigns_offered_are_those_of_the_leads_in_order(django_assert_num_queries):
    for campaign in ("Spring", "", "Autumn", "Spring", "Winter"):
        LeadFactory(campaign=campaign)
    facts_fresh()  # what the set-up marked, folded
    with django_assert_num_queries(2):  # the check that nothing is left to fold, the skip
        assert campaigns() == ["Autumn", "Spring", "Winter"]
