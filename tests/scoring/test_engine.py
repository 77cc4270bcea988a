"""The rules engine on plain data: no database."""

from scoring.engine import MANDATORY, SCORING, Rule, evaluate

FREE_MAIL = ["gmail.com", "yahoo.com"]


def rule(id, kind, attribute, operator, value=None, points=0, label=None):
    return Rule(id, kind, attribute, operator, value, points, label or attribute)


RULES = [
    rule(1, MANDATORY, "email", "domain_not_in", FREE_MAIL, label="Work e-mail"),
    rule(2, MANDATORY, "country", "one_of", ["Brazil", "Portugal"], label="Territory"),
    rule(3, SCORING, "company_size", "at_least", 50, points=20, label="Mid-size"),
    rule(4, SCORING, "job_title", "present", points=10, label="Job title"),
]


def test_lead_passing_every_mandatory_criterion_and_threshold_qualifies():
    verdict = evaluate(
        {
            "email": "ana@acme.example",
            "country": "brazil",
            "company_size": "120",
            "job_title": "CEO",
        },
        RULES,
        threshold=30,
    )
    assert verdict.qualified
    assert verdict.score == 30
    assert [o.passed for o in verdict.outcomes] == [True, True, True, True]


def test_one_failed_mandatory_criterion_disqualifies_whatever_the_score():
    verdict = evaluate(
        {"email": "ana@gmail.com", "country": "Brazil", "company_size": 900, "job_title": "CEO"},
        RULES,
        threshold=0,
    )
    assert not verdict.qualified
    assert verdict.score == 30
    assert verdict.outcomes[0].reason == (
        "Work e-mail failed: email is at gmail.com, a free-mail domain."
    )
    assert verdict.summary == "Disqualified. " + verdict.outcomes[0].reason


def test_score_below_threshold_disqualifies_and_says_so():
    verdict = evaluate({"email": "a@acme.example", "country": "Portugal"}, RULES, threshold=10)
    assert not verdict.qualified
    assert verdict.summary == "Disqualified: the score 0 is below the threshold 10."


def test_missing_attribute_fails_its_criterion_with_a_reason():
    verdict = evaluate({"email": "a@acme.example"}, RULES, threshold=0)
    territory = verdict.outcomes[1]
    assert not territory.passed
    assert territory.reason == "Territory failed: country is missing, which fails this criterion."


def test_every_criterion_gets_one_outcome_with_its_points():
    verdict = evaluate({"company_size": "49", "job_title": "Buyer"}, RULES, threshold=0)
    assert [(o.rule_id, o.passed, o.points) for o in verdict.outcomes] == [
        (1, False, 0),
        (2, False, 0),
        (3, False, 0),
        (4, True, 10),
    ]
    assert verdict.outcomes[2].reason == "Mid-size not earned: company size is 49, below 50."


def test_non_numeric_value_fails_a_numeric_criterion():
    verdict = evaluate({"company_size": "lots"}, [RULES[2]], threshold=0)
    assert verdict.outcomes[0].reason == "Mid-size not earned: company size is lots, not a number."


def test_not_one_of_at_most_and_equals():
    rules = [
        rule(1, MANDATORY, "segment", "not_one_of", ["student"]),
        rule(2, MANDATORY, "company_size", "at_most", 1000),
        rule(3, MANDATORY, "plan", "equals", "Enterprise"),
    ]
    ok = evaluate({"segment": "retail", "company_size": 1000, "plan": "enterprise"}, rules, 0)
    assert ok.qualified
    bad = evaluate({"segment": "Student", "company_size": 1001, "plan": "free"}, rules, 0)
    assert [o.passed for o in bad.outcomes] == [False, False, False]


def test_a_scoring_criterion_is_earned_or_not_earned_never_failed():
    verdict = evaluate({"company_size": "49", "job_title": "Buyer"}, RULES, threshold=0)
    scoring = [o.reason for o in verdict.outcomes if not o.mandatory]
    assert scoring == [
        "Mid-size not earned: company size is 49, below 50.",
        "Job title earned: job title is given (Buyer).",
    ]
    assert not any("failed" in reason or "passed" in reason for reason in scoring)
