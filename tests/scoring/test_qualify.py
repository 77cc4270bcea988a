import pytest
from django.utils import timezone

from leads.capture.services import Provenance, lead_capture
from leads.models import Stage
from scoring.models import Agreement, Criterion, CriterionResult
from scoring.services import submission_qualify
from tests.factories import AgreementFactory, CriterionFactory, FormFactory

pytestmark = pytest.mark.django_db


def capture(email="ana@acme.example", **cleaned):
    return lead_capture(
        form=FormFactory(),
        payload={"email": email, **cleaned},
        cleaned={"email": email, **cleaned},
        provenance=Provenance(),
    )


def test_qualified_lead_records_version_score_and_a_reason_per_criterion(
    django_capture_on_commit_callbacks,
):
    agreement = AgreementFactory(version=3)
    CriterionFactory(
        agreement=agreement,
        label="Has a job title",
        kind=Criterion.Kind.SCORING,
        attribute="job_title",
        operator=Criterion.Operator.PRESENT,
        value=None,
        points=15,
        position=1,
    )
    with django_capture_on_commit_callbacks(execute=True):
        submission = capture(company_size=80, job_title="CEO")
    lead = submission.lead
    lead.refresh_from_db()
    qualification = lead.qualifications.get()
    assert qualification.agreement == agreement
    assert qualification.submission == submission
    assert (qualification.qualified, qualification.score) == (True, 15)
    assert list(qualification.results.values_list("passed", "points", "reason")) == [
        (True, 0, "Company size passed: company size is 80, at least 50."),
        (True, 15, "Has a job title earned: job title is given (CEO)."),
    ]
    # Qualified with no queue to take it: it waits, qualified, for the sweeper.
    assert lead.stage == Stage.QUALIFIED
    assert lead.score == 15
    assert "agreement v3" in lead.events.get(to_stage=Stage.QUALIFIED).reason


def test_failed_mandatory_criterion_disqualifies_with_the_reason(
    django_capture_on_commit_callbacks,
):
    agreement = AgreementFactory()
    with django_capture_on_commit_callbacks(execute=True):
        submission = capture(company_size=12)
    lead = submission.lead
    lead.refresh_from_db()
    assert lead.stage == Stage.DISQUALIFIED
    event = lead.events.get(to_stage=Stage.DISQUALIFIED)
    assert event.reason == (
        "Disqualified. Company size failed: company size is 12, below 50. "
        f"(agreement v{agreement.version})"
    )


def test_scoring_a_submission_twice_judges_it_once():
    AgreementFactory()
    submission = capture(company_size=80)
    assert submission_qualify(submission_id=submission.pk) is not None
    assert submission_qualify(submission_id=submission.pk) is None
    assert submission.lead.qualifications.count() == 1
    assert CriterionResult.objects.count() == 1


def test_without_an_active_agreement_the_lead_waits_captured():
    AgreementFactory(activated_at=None)
    submission = capture(company_size=80)
    assert submission_qualify(submission_id=submission.pk) is None
    submission.lead.refresh_from_db()
    assert submission.lead.stage == Stage.CAPTURED


def test_nurture_lead_comes_back_when_a_new_submission_qualifies(
    django_capture_on_commit_callbacks,
):
    AgreementFactory()
    with django_capture_on_commit_callbacks(execute=True):
        capture(company_size=5)
    with django_capture_on_commit_callbacks(execute=True):
        submission = capture(company_size=500)
    stages = list(submission.lead.events.exclude(to_stage="").values_list("to_stage", flat=True))
    assert stages == [Stage.CAPTURED, Stage.DISQUALIFIED, Stage.QUALIFIED]


def test_placeholders_the_form_version_declares_are_blank_and_the_reason_says_so(
    django_capture_on_commit_callbacks,
):
    from leads.capture.models import FormVersion

    agreement = AgreementFactory()
    CriterionFactory(
        agreement=agreement,
        label="Has a job title",
        kind=Criterion.Kind.SCORING,
        attribute="job_title",
        operator=Criterion.Operator.PRESENT,
        value=None,
        points=15,
        position=1,
    )
    CriterionFactory(
        agreement=agreement,
        label="Recent",
        kind=Criterion.Kind.MANDATORY,
        attribute="submitted_at",
        operator=Criterion.Operator.SUBMITTED_WITHIN,
        value=30,
        points=0,
        position=2,
    )
    form = FormFactory()
    version = FormVersion.objects.create(
        form=form,
        number=2,
        fields=[
            *form.versions.get().fields,
            {"key": "job_title", "kind": "text", "label": "Job title", "blank_values": ["N/A"]},
        ],
    )
    payload = {"email": "ana@acme.example", "company_size": 80, "job_title": " n/a "}
    with django_capture_on_commit_callbacks(execute=True):
        submission = lead_capture(
            form=form, payload=payload, cleaned=payload, provenance=Provenance(), version=version
        )
    reasons = list(
        submission.qualifications.current()
        .get()
        .results.order_by("criterion__position")
        .values_list("reason", flat=True)
    )
    assert reasons == [
        "Company size passed: company size is 80, at least 50.",
        "Has a job title not earned: job title is “n/a”, which the form counts as blank.",
        "Recent passed: the lead was submitted 0 days ago, within 30.",
    ]


def test_a_version_compiles_to_the_verdicts_evaluate_gives():
    from scoring.engine import evaluate

    agreement = AgreementFactory(threshold=0)
    compiled = agreement.compiled()
    for attributes in ({"company_size": "80"}, {"company_size": "1,2"}, {}):
        plain = evaluate(attributes, agreement.rules(), agreement.threshold)
        verdict = compiled(attributes)
        assert (verdict.qualified, verdict.summary) == (plain.qualified, plain.summary)


def test_a_proposed_version_is_compiled_once_per_process(django_assert_num_queries):
    from scoring.services import _compiled, _frozen_compiled

    agreement = AgreementFactory()
    Agreement.objects.filter(pk=agreement.pk).update(proposed_at=timezone.now())
    agreement.refresh_from_db()
    _frozen_compiled.cache_clear()
    first = _compiled(agreement, frozenset())
    with django_assert_num_queries(0):
        assert _compiled(agreement, frozenset()) is first
    draft = AgreementFactory(activated_at=None)
    with django_assert_num_queries(1):
        _compiled(draft, frozenset())
