"""A lead re-scored when a new version became active still shows, on its page, what the
version before said and why ("Earlier judgements")."""

import pytest
from playwright.sync_api import Page, expect

from leads.models import Lead, Stage
from portal.accounts.models import User
from portal.demo.services import DEMO_PASSWORD, demo_seed
from scoring.models import Agreement
from scoring.services import (
    agreement_draft_from,
    agreement_propose,
    agreement_sign,
    agreement_terms_set,
)

pytestmark = [
    pytest.mark.browser,
    pytest.mark.django_db(transaction=True, serialized_rollback=True),
]


def test_a_rescored_lead_shows_its_earlier_judgement(page: Page, snap):
    demo_seed(leads=40)  # v1 active; some of the 40 leads are disqualified by it
    marketing = User.objects.get(username="marketing.manager")
    sales = User.objects.get(username="sales.manager")
    v1 = Agreement.objects.active()
    v2 = agreement_draft_from(agreement=v1, by=marketing)
    agreement_terms_set(
        agreement=v2,
        by=marketing,
        summary=v1.summary,
        threshold=v1.threshold + 5,
        accept_within_minutes=v1.accept_within_minutes,
        contact_within_hours=v1.contact_within_hours,
    )
    agreement_propose(agreement=v2, by=marketing)
    agreement_sign(agreement=v2, by=sales, side="sales")
    agreement_sign(agreement=v2, by=marketing, side="marketing")  # re-scores on commit
    lead = Lead.objects.filter(
        stage=Stage.DISQUALIFIED, qualifications__superseded_at__isnull=False
    ).first()
    assert lead is not None

    page.goto("/login/")
    page.get_by_label("Username").fill("sales.manager")
    page.get_by_label("Password").fill(DEMO_PASSWORD)
    page.get_by_role("button", name="Log in").click()
    page.goto(lead.get_absolute_url())
    earlier = page.locator("#earlier-judgements")
    expect(earlier).to_contain_text("Earlier judgements (1)")
    earlier.locator("summary").click()
    expect(earlier).to_contain_text("Agreement v1")
    expect(page.locator("#qualification-heading").locator("..")).to_contain_text("Agreement v2")
    snap("lead-rescored-earlier-judgement")
