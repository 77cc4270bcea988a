"""A rep's "this should not have qualified": the move on the lead page (a row of ACTIONS),
its service and event, what marketing reads of the flags and the effectiveness's counts."""

from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from leads.inbox.selectors import FLAGGABLE
from leads.models import LeadEvent, Stage
from portal.accounts.roles import Role
from portal.errors import DomainError, PermissionDenied
from scoring.effectiveness import effectiveness
from scoring.flags import flags_by_criterion, lead_flag
from scoring.models import QualificationFlag
from tests.factories import AgreementFactory, CriterionFactory, LeadFactory, UserFactory, judged

pytestmark = pytest.mark.django_db


@pytest.fixture
def rep():
    return UserFactory(role=Role.SALES_REP)


@pytest.fixture
def agreement():
    agreement = AgreementFactory()
    CriterionFactory(
        agreement=agreement, label="Senior title", kind="scoring", attribute="title", points=10
    )
    return agreement


def qualified_lead(rep, agreement, stage=Stage.ACCEPTED):
    size, title = agreement.criteria.all()
    lead = LeadFactory(owner=rep, stage=stage)
    judged(lead, agreement, {size: 0}, failed=[title])
    return lead, size, title


def flag_url(lead):
    return reverse("inbox:flag", args=[lead.pk])


@pytest.mark.parametrize("stage", Stage.values)
def test_the_rep_is_offered_the_flag_on_a_qualified_lead_they_have(client, rep, agreement, stage):
    lead, _size, _title = qualified_lead(rep, agreement, stage)
    client.force_login(rep)
    moves = client.get(lead.get_absolute_url()).context["moves"]
    assert ("flag" in {panel.action.name for panel in moves}) == (stage in FLAGGABLE)


def test_the_flag_is_not_offered_on_a_lead_no_agreement_qualified(client, rep):
    lead = LeadFactory(owner=rep, stage=Stage.ACCEPTED)
    client.force_login(rep)
    moves = client.get(lead.get_absolute_url()).context["moves"]
    assert "flag" not in {panel.action.name for panel in moves}
    response = client.post(flag_url(lead), {"flag-criterion": "none", "flag-comment": "x"})
    assert response.status_code == 409
    assert not QualificationFlag.objects.exists()


def test_the_form_offers_the_criteria_the_lead_passed_and_none_fits(client, rep, agreement):
    lead, size, _title = qualified_lead(rep, agreement)
    client.force_login(rep)
    page = client.get(lead.get_absolute_url())
    flag = next(panel for panel in page.context["moves"] if panel.action.name == "flag")
    assert [label for _value, label in flag.form.fields["criterion"].choices] == [
        size.label,
        "None fits: the agreement lacks the rule that would have kept it out",
    ]


def test_a_rep_flags_a_criterion_and_the_lead_history_says_so(client, rep, agreement):
    lead, size, _title = qualified_lead(rep, agreement)
    client.force_login(rep)
    response = client.post(
        flag_url(lead), {"flag-criterion": str(size.pk), "flag-comment": "It is 3 people."}
    )
    assert response.status_code == 302
    flag = QualificationFlag.objects.get()
    assert (flag.lead, flag.criterion, flag.agreement, flag.flagged_by, flag.comment) == (
        lead,
        size,
        agreement,
        rep,
        "It is 3 people.",
    )
    event = lead.events.get()
    assert (event.kind, event.actor, event.data) == (
        LeadEvent.Kind.FLAGGED,
        rep,
        {"flag": flag.pk, "criterion": size.pk},
    )
    page = client.get(lead.get_absolute_url()).content.decode()
    assert "Flagged: should not have qualified" in page
    assert "the criterion “Company size”): It is 3 people." in page
    lead.refresh_from_db()
    assert lead.stage == Stage.ACCEPTED  # a flag changes no stage


def test_a_flag_needs_a_comment_and_a_criterion_the_lead_passed(client, rep, agreement):
    lead, _size, title = qualified_lead(rep, agreement)
    client.force_login(rep)
    response = client.post(flag_url(lead), {"flag-criterion": str(title.pk), "flag-comment": ""})
    assert response.status_code == 400
    flag = next(p for p in response.context["moves"] if p.action.name == "flag")
    assert set(flag.form.errors) == {"criterion", "comment"}
    assert not QualificationFlag.objects.exists()


def test_none_fits_is_a_flag_without_a_criterion(rep, agreement):
    lead, _size, _title = qualified_lead(rep, agreement)
    flag = lead_flag(lead=lead, by=rep, criterion=None, comment="A student.")
    assert (flag.criterion, flag.agreement) == (None, agreement)
    assert "no criterion fits" in lead.events.get().reason


@pytest.mark.parametrize("who", [Role.SALES_REP, Role.SALES_MANAGER, Role.MARKETING_MANAGER])
def test_only_the_leads_rep_flags_it(client, rep, agreement, who):
    lead, size, _title = qualified_lead(rep, agreement)
    with pytest.raises(PermissionDenied):
        lead_flag(lead=lead, by=UserFactory(role=who), criterion=size, comment="No.")
    client.force_login(UserFactory(role=who))
    response = client.post(flag_url(lead), {"flag-criterion": "none", "flag-comment": "No."})
    assert response.status_code in (403, 404)
    assert not QualificationFlag.objects.exists() and not lead.events.exists()


def test_the_service_refuses_a_criterion_the_lead_did_not_pass(rep, agreement):
    lead, _size, title = qualified_lead(rep, agreement)
    with pytest.raises(DomainError) as refused:
        lead_flag(lead=lead, by=rep, criterion=title, comment="Odd.")
    assert (refused.value.code, refused.value.field) == ("invalid_choice", "criterion")
    with pytest.raises(DomainError) as refused:
        lead_flag(lead=lead, by=rep, criterion=None, comment="  ")
    assert (refused.value.code, refused.value.field) == ("required", "comment")
    assert not QualificationFlag.objects.exists()


def test_managers_read_the_flags_grouped_by_criterion_most_flagged_first(client, rep, agreement):
    leads = [qualified_lead(rep, agreement) for _ in range(3)]
    size = leads[0][1]
    lead_flag(lead=leads[0][0], by=rep, criterion=size, comment="Three people.")
    lead_flag(lead=leads[1][0], by=rep, criterion=size, comment="A sole trader.")
    lead_flag(lead=leads[2][0], by=rep, criterion=None, comment="A student.")

    groups = flags_by_criterion()
    assert [(g.label, g.count) for g in groups] == [("Company size", 2), ("None fits", 1)]
    assert [f.comment for f in groups[0].latest] == ["A sole trader.", "Three people."]

    client.force_login(UserFactory(role=Role.MARKETING_MANAGER))
    html = client.get(reverse("scoring:flags")).content.decode()
    assert html.index("Company size") < html.index("None fits")
    assert "A sole trader." in html and "A student." in html


def test_the_flags_page_reads_in_a_fixed_number_of_queries(
    client, rep, agreement, django_assert_max_num_queries
):
    for _ in range(12):
        lead, size, _title = qualified_lead(rep, agreement)
        lead_flag(lead=lead, by=rep, criterion=size, comment="No.")
    client.force_login(UserFactory(role=Role.MARKETING_MANAGER))
    with django_assert_max_num_queries(10):
        client.get(reverse("scoring:flags"))


def test_effectiveness_counts_the_flags_on_each_criterion_and_none_fits(rep, agreement):
    lead, size, _title = qualified_lead(rep, agreement)
    lead_flag(lead=lead, by=rep, criterion=size, comment="Three people.")
    lead_flag(lead=lead, by=rep, criterion=None, comment="A student.")
    # The same rule in the next version keeps its flags; one older than the window does not.
    newer = AgreementFactory(criteria=False)
    CriterionFactory(agreement=newer)
    CriterionFactory(agreement=newer, label="Senior title", kind="scoring", attribute="title")
    old = lead_flag(lead=lead, by=rep, criterion=size, comment="Long ago.")
    QualificationFlag.objects.filter(pk=old.pk).update(
        created_at=timezone.now() - timedelta(days=100)
    )

    measured = effectiveness(agreement=newer, days=90)

    assert [(effect.label, effect.flags) for effect in measured.criteria] == [
        ("Company size", 1),
        ("Senior title", 0),
    ]
    assert measured.none_fits == 1
