"""The qualification panel on the lead page: failures in red, points not earned in grey."""

from html.parser import HTMLParser

import pytest

from leads.capture.services import Provenance, lead_capture
from portal.accounts.roles import Role
from scoring.models import Criterion
from scoring.services import submission_qualify
from tests.factories import AgreementFactory, CriterionFactory, FormFactory, UserFactory

pytestmark = pytest.mark.django_db

BADGE_COLOURS = {"text-bg-success", "text-bg-danger", "text-bg-secondary"}


class Badges(HTMLParser):
    """Each result badge on a page as (text, colour class)."""

    def __init__(self, html: str):
        super().__init__()
        self.found: list[tuple[str, str]] = []
        self._colour: str | None = None
        self.feed(html)

    def handle_starttag(self, tag, attrs):
        classes = set((dict(attrs).get("class") or "").split())
        if tag == "span" and "badge" in classes and classes & BADGE_COLOURS:
            self._colour = (classes & BADGE_COLOURS).pop()

    def handle_data(self, data):
        if self._colour:
            self.found.append((data.strip(), self._colour))
            self._colour = None


def scoring_criterion(agreement, label, points, position):
    CriterionFactory(
        agreement=agreement,
        label=label,
        kind=Criterion.Kind.SCORING,
        attribute=label.lower().replace(" ", "_"),
        operator=Criterion.Operator.PRESENT,
        value=None,
        points=points,
        position=position,
    )


def judged_lead(**cleaned):
    email = "ana@acme.example"
    submission = lead_capture(
        form=FormFactory(),
        payload={"email": email, **cleaned},
        cleaned={"email": email, **cleaned},
        provenance=Provenance(),
    )
    submission_qualify(submission_id=submission.pk)
    return submission.lead


def lead_page(client, lead) -> str:
    client.force_login(UserFactory(role=Role.SALES_MANAGER))
    response = client.get(lead.get_absolute_url())
    assert response.status_code == 200
    return response.content.decode()


@pytest.fixture
def agreement():
    """Company size at least 50 is mandatory; a job title scores 10; threshold 0."""
    agreement = AgreementFactory()
    scoring_criterion(agreement, "Job title", points=10, position=1)
    return agreement


def test_a_qualified_lead_shows_an_unearned_scoring_criterion_as_not_earned(client, agreement):
    lead = judged_lead(company_size=80)
    assert lead.qualifications.get().qualified

    html = lead_page(client, lead)

    assert Badges(html).found == [
        ("Passed", "text-bg-success"),
        ("Not earned", "text-bg-secondary"),
    ]
    assert "Failed" not in html


def test_a_failed_mandatory_criterion_is_still_shown_failed_in_red(client, agreement):
    lead = judged_lead(company_size=12, job_title="CEO")

    html = lead_page(client, lead)

    assert Badges(html).found == [("Failed", "text-bg-danger"), ("Passed", "text-bg-success")]


def test_more_results_on_the_panel_take_no_more_queries(
    client, agreement, django_assert_max_num_queries
):
    lead = judged_lead(company_size=80)
    client.force_login(UserFactory(role=Role.SALES_MANAGER))
    with django_assert_max_num_queries(50) as few:
        client.get(lead.get_absolute_url())

    more = AgreementFactory()
    for position in range(1, 6):
        scoring_criterion(more, f"Extra {position}", points=1, position=position)
    lead = judged_lead(company_size=80)  # judged again, now by six criteria instead of two
    assert lead.qualifications.first().results.count() == 6
    with django_assert_max_num_queries(len(few.captured_queries)):
        client.get(lead.get_absolute_url())
