"""The agreement pages: everyone reads them; only the two managers draft, propose and sign."""

import pytest
from django.contrib.auth.models import Group
from django.urls import reverse

from portal.accounts.roles import Role
from scoring.models import Agreement, AgreementComment
from scoring.services import agreement_propose, agreement_sign
from tests.factories import CriterionFactory, FormFactory, UserFactory

pytestmark = pytest.mark.django_db

SALES, MARKETING = Agreement.Side.SALES, Agreement.Side.MARKETING


@pytest.fixture
def v1():
    """Active: company size at least 10 is mandatory; 20 points for 50+; threshold 10."""
    FormFactory()
    agreement = Agreement.objects.create(version=1, threshold=10, summary="Real companies.")
    CriterionFactory(agreement=agreement, value=10, position=0)
    CriterionFactory(
        agreement=agreement,
        label="Mid-size",
        kind="scoring",
        value=50,
        points=20,
        position=1,
    )
    agreement_propose(agreement=agreement, by=UserFactory(role=Role.ADMIN))
    agreement_sign(agreement=agreement, by=UserFactory(role=Role.SALES_MANAGER), side=SALES)
    agreement_sign(agreement=agreement, by=UserFactory(role=Role.MARKETING_MANAGER), side=MARKETING)
    return agreement


def logged_in(client, role):
    user = UserFactory(role=role)
    client.force_login(user)
    return user


def text(response) -> str:
    return " ".join(response.content.decode().split())


def url(name, **kwargs):
    return reverse(f"scoring:{name}", kwargs=kwargs)


@pytest.mark.parametrize("role", list(Role))
def test_everyone_with_a_login_reads_the_agreement_in_plain_language(client, v1, role):
    logged_in(client, role)
    page = client.get(url("agreement"))
    assert page.status_code == 200
    html = text(page)
    assert "A lead qualifies when:" in html
    assert "the company size is at least 10;" in html
    assert "and it scores at least <strong>10 points</strong> from:" in html
    assert "the company size is at least 50" in html
    assert 'Accept or reject a routed lead within</dt><dd class="col-sm-6">4 hours' in html
    assert "Signed</span> for marketing by" in html
    assert client.get(url("version", version=1)).status_code == 200
    assert ("scoring:agreement", "Agreement") in page.context["nav"]


def test_a_visitor_is_sent_to_log_in(client, v1):
    assert client.get(url("agreement"))["Location"].startswith(reverse("login"))


@pytest.mark.parametrize("role", [Role.MARKETER, Role.SALES_REP])
def test_a_marketer_or_a_rep_cannot_draft_propose_sign_or_send_back(client, v1, role):
    logged_in(client, role)
    draft = Agreement.objects.create(version=2)
    CriterionFactory(agreement=draft)
    page = client.get(url("agreement"))
    assert "New draft" not in text(page)
    assert "Sign for" not in text(client.get(url("version", version=2)))
    refused = [
        client.post(url("new"), {"source": 1}),
        client.get(url("edit", version=2)),
        client.post(url("criterion_add", version=2), {}),
        client.get(url("propose", version=2)),
        client.post(url("propose", version=2)),
        client.post(url("send_back", version=2), {"comment": "no"}),
        client.post(url("sign", version=2, side="sales")),
        client.post(url("sign", version=2, side="marketing")),
    ]
    assert [response.status_code for response in refused] == [403] * len(refused)
    draft.refresh_from_db()
    assert draft.status == "draft"
    assert Agreement.objects.count() == 2


@pytest.mark.parametrize("role", [Role.MARKETING_MANAGER, Role.SALES_MANAGER])
def test_either_manager_drafts_from_the_active_version_edits_and_proposes(client, v1, role):
    manager = logged_in(client, role)
    response = client.post(url("new"), {"source": 1})
    assert response["Location"] == url("edit", version=2)
    edit = client.get(url("edit", version=2))
    assert edit.status_code == 200

    terms = {
        "terms-summary": "Real companies, bigger.",
        "terms-threshold": 20,
        "terms-accept_within_minutes": 120,
        "terms-contact_within_hours": 24,
        "terms-business_days": ["0", "1", "2", "3", "4"],
        "terms-business_opens": "09:00",
        "terms-business_closes": "17:00",
        "terms-time_zone": "UTC",
    }
    assert client.post(url("edit", version=2), terms).status_code == 302
    added = client.post(
        url("criterion_add", version=2),
        {
            "criterion-label": "Territory",
            "criterion-kind": "mandatory",
            "criterion-attribute": "country",
            "criterion-operator": "one_of",
            "criterion-value": "Brazil,\nGermany",
            "criterion-points": 0,
        },
    )
    assert added.status_code == 302
    assert client.get(url("propose", version=2)).status_code == 200
    assert client.post(url("propose", version=2))["Location"] == url("version", version=2)

    v2 = Agreement.objects.get(version=2)
    assert (v2.status, v2.proposed_by, v2.threshold) == ("proposed", manager, 20)
    assert v2.criteria.last().value == ["Brazil", "Germany"]
    page = text(client.get(url("version", version=2)))
    assert "What changed since Agreement v1" in page
    assert "<strong>Threshold</strong>: <del" in page
    assert "Territory: the country is one of Brazil or Germany (mandatory)" in page


@pytest.mark.parametrize(
    "value, operator, attribute, field, says",
    [
        ("fifty", "at_least", "company_size", "value", "“fifty” is not a number"),
        ("", "one_of", "country", "value", "“is one of” needs a list of values"),
        ("", "rhymes_with", "country", "operator", "“rhymes_with” is not an operator"),
        ("5", "at_least", "shoe_size", "attribute", "No form asks for “shoe_size”"),
        ("500, 10", "between", "company_size", "value", "the lowest number first"),
        ("10", "between", "company_size", "value", "“is between” needs two numbers"),
        ("(a+)+$", "matches", "country", "value", "repeats a part that itself repeats"),
        ("([", "matches", "country", "value", "is not a pattern Python can read"),
        ("gmail.com", "not_free_mail", "email", "value", "takes no value"),
    ],
)
def test_the_editor_refuses_a_criterion_naming_the_field(
    client, v1, value, operator, attribute, field, says
):
    logged_in(client, Role.MARKETING_MANAGER)
    client.post(url("new"), {"source": 1})
    response = client.post(
        url("criterion_add", version=2),
        {
            "criterion-label": "Bad",
            "criterion-kind": "scoring",
            "criterion-attribute": attribute,
            "criterion-operator": operator,
            "criterion-value": value,
            "criterion-points": 5,
        },
    )
    assert response.status_code == 400
    form = response.context["criterion_form"]
    assert says in " ".join(form.errors[field])
    assert says in response.content.decode().replace("&quot;", '"')
    assert Agreement.objects.get(version=2).criteria.count() == 2


def test_the_editor_saves_whether_a_blank_passes_and_the_agreement_says_it(client, v1):
    logged_in(client, Role.MARKETING_MANAGER)
    client.post(url("new"), {"source": 1})
    added = client.post(
        url("criterion_add", version=2),
        {
            "criterion-label": "Scale",
            "criterion-kind": "scoring",
            "criterion-attribute": "company_size",
            "criterion-operator": "between",
            "criterion-value": "50, 5000",
            "criterion-points": 5,
            "criterion-blank_passes": "on",
        },
    )
    assert added.status_code == 302
    criterion = Agreement.objects.get(version=2).criteria.last()
    assert (criterion.value, criterion.blank_passes) == ([50, 5000], True)
    page = text(client.get(url("edit", version=2)))
    assert "the company size is between 50 and 5,000, or it is left blank" in page


def proposed_v2(v1) -> Agreement:
    draft = Agreement.objects.create(version=2, threshold=30)
    CriterionFactory(agreement=draft)
    return agreement_propose(agreement=draft, by=UserFactory(role=Role.ADMIN))


def test_the_managers_sign_on_the_page_and_the_new_version_replaces_the_old(client, v1):
    v2 = proposed_v2(v1)
    logged_in(client, Role.SALES_MANAGER)
    page = text(client.get(url("version", version=2)))
    assert "Sign for sales…" in page and "Sign for marketing" not in page
    assert client.get(url("sign", version=2, side="sales")).status_code == 200
    client.post(url("sign", version=2, side="sales"))
    logged_in(client, Role.MARKETING_MANAGER)
    done = client.post(url("sign", version=2, side="marketing"), follow=True)
    assert "Both sides have signed: it is active now." in text(done)
    v1.refresh_from_db()
    v2.refresh_from_db()
    assert (v1.status, v2.status) == ("retired", "active")


def test_one_person_signing_both_sides_is_told_why_with_a_403(client, v1):
    proposed_v2(v1)
    both = logged_in(client, Role.SALES_MANAGER)
    both.groups.add(Group.objects.get(name=Role.MARKETING_MANAGER))
    client.post(url("sign", version=2, side="sales"))
    response = client.post(url("sign", version=2, side="marketing"))
    assert response.status_code == 403
    assert "someone else must sign for marketing" in text(response)
    assert Agreement.objects.get(version=2).marketing_signed_at is None


def test_a_signature_after_the_proposal_went_back_is_a_409_not_a_500(client, v1):
    v2 = proposed_v2(v1)
    logged_in(client, Role.MARKETING_MANAGER)
    assert client.get(url("send_back", version=2)).status_code == 200
    assert client.post(url("send_back", version=2), {"comment": ""}).status_code == 400
    client.post(url("send_back", version=2), {"comment": "30 points is too many."})
    logged_in(client, Role.SALES_MANAGER)
    response = client.post(url("sign", version=2, side="sales"))  # the page was stale
    assert response.status_code == 409
    assert "Agreement v2 is a draft" in text(response)
    assert "30 points is too many." in text(response)
    v2.refresh_from_db()
    assert (v2.status, v2.sales_signed_at) == ("draft", None)
    assert AgreementComment.objects.get().sent_back


def test_editing_or_proposing_a_version_proposed_meanwhile_is_a_409(client, v1):
    proposed_v2(v1)
    logged_in(client, Role.SALES_MANAGER)
    assert client.post(url("propose", version=2)).status_code == 409
    terms = {
        "terms-threshold": 1,
        "terms-accept_within_minutes": 1,
        "terms-contact_within_hours": 1,
    }
    response = client.post(url("edit", version=2), terms)
    assert response.status_code == 409
    assert "is proposed and can no longer change" in text(response)
    assert client.get(url("edit", version=2))["Location"] == url("version", version=2)
    assert Agreement.objects.get(version=2).threshold == 30


def test_the_diff_compares_with_any_version_asked_for(client, v1):
    proposed_v2(v1)
    Agreement.objects.create(version=3, threshold=30)
    logged_in(client, Role.SALES_REP)
    page = client.get(url("version", version=3), {"against": 1})
    assert page.context["against"] == v1
    assert "What changed since Agreement v1" in text(page)


def test_a_manager_comments_on_a_proposal_and_the_comment_stays_after_it_goes_back(client, v1):
    proposed_v2(v1)
    manager = logged_in(client, Role.SALES_MANAGER)
    assert client.post(url("comment", version=2), {"text": ""}).status_code == 400
    client.post(url("comment", version=2), {"text": "Can we keep 10 employees?"})
    client.post(url("send_back", version=2), {"comment": "Back, as discussed."})
    page = text(client.get(url("version", version=2)))
    assert "Can we keep 10 employees?" in page
    assert "sent it back to draft" in page
    assert [c.author for c in AgreementComment.objects.all()] == [manager, manager]


@pytest.mark.parametrize("role", [Role.MARKETER, Role.SALES_REP])
def test_a_marketer_or_a_rep_reads_comments_but_cannot_write_one(client, v1, role):
    proposed_v2(v1)
    logged_in(client, role)
    assert 'id="comment-form"' not in text(client.get(url("version", version=2)))
    assert client.post(url("comment", version=2), {"text": "Hi"}).status_code == 403
    assert not AgreementComment.objects.exists()
