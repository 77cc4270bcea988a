"""An agreement in words, and what changed between two versions: plain data, no database."""

from scoring.engine import MANDATORY, SCORING, Rule
from scoring.explain import Change, Terms, describe, diff, hours_words, minutes_words

FREE_MAIL = ["gmail.com", "yahoo.com"]


def rule(label, kind, attribute, operator, value=None, points=0, id=0) -> Rule:
    return Rule(id, kind, attribute, operator, value, points, label)


V1_RULES = (
    rule("Work e-mail", MANDATORY, "email", "domain_not_in", FREE_MAIL),
    rule("Sales territory", MANDATORY, "country", "one_of", ["Brazil", "Portugal", "Mexico"]),
    rule("Company size", MANDATORY, "company_size", "at_least", 10),
    rule("Mid-size company", SCORING, "company_size", "at_least", 50, 20),
    rule("Job title given", SCORING, "job_title", "present", None, 10),
)
V1 = Terms(1, "Work address, our territory.", 10, 240, 24, V1_RULES)


def test_the_agreement_reads_as_one_sentence():
    assert describe(V1.rules, V1.threshold).sentence == (
        "A lead qualifies when: the e-mail is a company address (not at gmail.com or "
        "yahoo.com); the country is one of Brazil, Portugal or Mexico; the company size is at "
        "least 10; and it scores at least 10 points: the company size is at least 50 (+20), "
        "the job title is given (+10)."
    )


def test_without_a_threshold_the_mandatory_criteria_are_the_whole_sentence():
    rules = (rule("Big", MANDATORY, "company_size", "at_most", 1000.0),)
    assert (
        describe(rules, 0).sentence == "A lead qualifies when: the company size is at most 1,000."
    )
    assert describe((), 0).sentence == "Every lead qualifies."


def test_service_levels_read_in_days_hours_and_minutes():
    assert [minutes_words(m) for m in (1440, 240, 90, 1)] == [
        "1 day",
        "4 hours",
        "1 hour 30 minutes",
        "1 minute",
    ]


def test_first_contact_reads_in_hours_never_days():
    assert [hours_words(h) for h in (1, 24, 72)] == ["1 hour", "24 hours", "72 hours"]


def test_the_diff_says_what_changed_added_and_removed():
    v2 = Terms(
        2,
        "Work address, our territory.",
        20,
        120,
        8,
        (
            V1_RULES[0],
            rule("Sales territory", MANDATORY, "country", "one_of", ["Brazil", "Portugal"]),
            rule("Minimum size", MANDATORY, "company_size", "at_least", 20),  # renamed
            V1_RULES[3],
            rule("Phone given", SCORING, "phone", "present", None, 5),
        ),
    )

    assert diff(V1, v2) == [
        Change("terms", "Threshold", "10 points", "20 points"),
        Change("terms", "Accept or reject within", "4 hours", "2 hours"),
        Change("terms", "First contact within", "24 hours", "8 hours"),
        Change("removed", "Job title given: the job title is given (+10 points)"),
        Change(
            "changed",
            "Sales territory",
            "the country is one of Brazil, Portugal or Mexico (mandatory)",
            "the country is one of Brazil or Portugal (mandatory)",
        ),
        Change(
            "changed",
            "Minimum size",
            "Company size: the company size is at least 10 (mandatory)",
            "Minimum size: the company size is at least 20 (mandatory)",
        ),
        Change("added", "Phone given: the phone is given (+5 points)"),
    ]


def test_the_same_terms_make_no_diff_and_the_first_version_is_all_added():
    assert diff(V1, V1) == []
    assert [change.kind for change in diff(None, V1)] == ["added"] * 5


def test_each_new_operator_reads_as_a_clause_and_a_blank_that_passes_is_said():
    rules = (
        Rule(0, MANDATORY, "do_not_email", "not_equals", "Yes", 0, "May e-mail", True),
        Rule(0, MANDATORY, "email", "not_free_mail", None, 0, "Work e-mail"),
        Rule(0, MANDATORY, "country", "country_in", ["Brazil", "Chile"], 0, "Territory"),
        Rule(0, MANDATORY, "submitted_at", "submitted_within", 30, 0, "Recent"),
        Rule(0, SCORING, "company_size", "between", [50, 5000], 20, "Mid-size"),
        Rule(0, SCORING, "job_title", "matches", "ceo|cto", 10, "Decision maker"),
        Rule(0, SCORING, "message", "contains", "demo", 5, "Demo"),
        Rule(0, SCORING, "phone", "answered", None, 5, "Phone", True),
    )
    assert describe(rules, 20).sentence == (
        "A lead qualifies when: the do not email is not “Yes”, or it is left blank; the "
        "e-mail is a company address (not at a free-mail domain); the country is one of "
        "Brazil or Chile; the lead was submitted within the last 30 days; and it scores at "
        "least 20 points: the company size is between 50 and 5,000 (+20), the job title "
        "matches the pattern “ceo|cto” (+10), the message contains “demo” (+5), the phone "
        "was answered on the form (+5)."
    )


def test_letting_a_blank_pass_is_a_change_the_diff_shows():
    strict = rule("Territory", MANDATORY, "country", "one_of", ["Brazil"])
    lenient = Rule(0, MANDATORY, "country", "one_of", ["Brazil"], 0, "Territory", True)
    before = Terms(1, "", 0, 240, 1440, (strict,))
    after = Terms(2, "", 0, 240, 1440, (lenient,))
    assert diff(before, after) == [
        Change(
            "changed",
            "Territory",
            "the country is one of Brazil (mandatory)",
            "the country is one of Brazil, or it is left blank (mandatory)",
        )
    ]
