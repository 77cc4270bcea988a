"""Each operator, blanks, typed values and the compiled agreement: plain data, no database."""

from datetime import UTC, datetime, timedelta

import pytest

from scoring.engine import (
    FREE_MAIL_DOMAINS,
    MANDATORY,
    SCORING,
    Rule,
    compile_agreement,
    evaluate,
    number,
    pattern_problem,
    value_problem,
)

NOW = datetime(2026, 11, 25, 12, 0, tzinfo=UTC)


def rule(operator, value=None, *, attribute="field", kind=MANDATORY, points=0, blank_passes=False):
    return Rule(1, kind, attribute, operator, value, points, "Check", blank_passes)


def passes(r, value, **context) -> bool:
    plain = evaluate({r.attribute: value}, [r], 0, **context).outcomes[0].passed
    compiled = compile_agreement([r], 0, blanks=context.pop("blanks", ()))(
        {r.attribute: value}, **context
    )
    assert compiled.passed[0] == plain
    return plain


@pytest.mark.parametrize(
    ("operator", "expected", "value", "result"),
    [
        ("equals", "Enterprise", " enterprise ", True),
        ("equals", "Yes", "true", True),
        ("equals", "Yes", True, True),
        ("equals", "Yes", "1", True),
        ("equals", "50", "50.0", True),
        ("equals", "Yes", "no", False),
        ("not_equals", "Yes", "No", True),
        ("not_equals", "Yes", "YES", False),
        ("one_of", ["Brazil", "Portugal"], "portugal", True),
        ("one_of", ["Brazil", "Portugal"], ["Spain", "Brazil"], True),
        ("one_of", ["Brazil", "Portugal"], "Spain", False),
        ("not_one_of", ["student"], "Student", False),
        ("not_one_of", ["student"], "retail", True),
        ("contains", "sales", "Head of Sales", True),
        ("contains", "sales", "Engineer", False),
        ("at_least", 50, "1,200", True),
        ("at_least", 2.5, "2,5", True),
        ("at_least", 50, "49", False),
        ("at_least", 50, "lots", False),
        ("at_most", 1000, "1.000", True),
        ("at_most", 1000, "1,000.50", False),
        ("between", [10, 500], "10", True),
        ("between", [10, 500], "500", True),
        ("between", [10, 500], "501", False),
        ("matches", r"^[A-Z]{2}-\d+$", "br-123", True),
        ("matches", r"^[A-Z]{2}-\d+$", "BRA-123", False),
        ("free_mail", None, "Ana@GMail.com", True),
        ("free_mail", None, "ana@acme.example", False),
        ("not_free_mail", None, "ana@acme.example", True),
        ("not_free_mail", None, "ana@outlook.com", False),
        ("domain_in", ["acme.example"], "ana@ACME.example", True),
        ("domain_in", ["acme.example"], "ana@other.example", False),
        ("domain_not_in", ["gmail.com"], "ana@gmail.com", False),
        # Text without an "@" has no domain to judge: no e-mail criterion passes on it.
        ("not_free_mail", None, "acme.example", False),
        ("not_free_mail", None, "ana@", False),
        ("free_mail", None, "gmail.com", False),
        ("domain_in", ["acme.example"], "acme.example", False),
        ("domain_not_in", ["gmail.com"], "ana at acme", False),
        ("country_in", ["Brazil", "Portugal"], " brazil", True),
        ("country_in", ["Brazil", "Portugal"], "Chile", False),
    ],
)
def test_each_operator_judges_a_value(operator, expected, value, result):
    assert passes(rule(operator, expected), value) is result


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("2.5", 2.5),
        ("2,5", 2.5),
        ("1,200", 1200),
        ("12,345,678", 12_345_678),
        ("1,20", 1.2),
        ("1,2000", 1.2),
        ("1234,567", 1234.567),
        ("1.200.000", 1_200_000),
        ("1.200,50", 1200.5),
        ("1,200.50", 1200.5),
        (" 1 200 ", 1200),
        ("-3", -3),
        (7, 7),
        ("nan", None),
        ("inf", None),
        ("1,2,3", None),
        ("fifty", None),
        (True, None),
        (None, None),
    ],
)
def test_numbers_are_read_as_people_type_them(text, expected):
    assert number(text) == expected


def test_a_blank_fails_unless_the_criterion_lets_it_pass():
    strict = rule("not_equals", "Yes", attribute="do_not_email")
    lenient = rule("not_equals", "Yes", attribute="do_not_email", blank_passes=True)
    for blank in (None, "", "   ", []):
        assert not passes(strict, blank)
        assert passes(lenient, blank)


def test_the_reason_says_a_blank_passed_or_failed():
    lenient = rule("not_equals", "Yes", attribute="do_not_email", blank_passes=True)
    strict = rule("one_of", ["Brazil"], attribute="country")
    assert evaluate({}, [lenient], 0).outcomes[0].reason == (
        "Check passed: do not email is missing, which this criterion lets pass."
    )
    assert evaluate({"country": ""}, [strict], 0).outcomes[0].reason == (
        "Check failed: country is blank, which fails this criterion."
    )


def test_placeholders_the_form_declares_count_as_blank():
    country = rule("one_of", ["Select", "Brazil"], attribute="country")
    verdict = evaluate({"country": " select "}, [country], 0, blanks=["Select"])
    assert not verdict.qualified
    assert verdict.outcomes[0].reason == (
        "Check failed: country is “select”, which the form counts as blank, which fails this "
        "criterion."
    )
    assert compile_agreement([country], 0, blanks=["SELECT"])({"country": "Select"}).passed == [
        False
    ]
    assert passes(country, "Select")  # without the placeholder it is a value like any other


def test_is_given_and_answered_judge_the_blank_themselves():
    given = rule("present", attribute="phone")
    assert not passes(given, "")
    assert passes(given, "+55 11 5555")
    answered = rule("answered", attribute="phone")
    assert passes(answered, "", answered={"phone"})
    assert not passes(answered, "+55", answered={"email"})
    assert passes(answered, "+55")  # without the submission's keys: a value counts as answered


def test_submitted_within_reads_the_submission_time():
    recent = rule("submitted_within", 30, attribute="submitted_at")
    verdict = evaluate({}, [recent], 0, submitted_at=NOW - timedelta(days=3), now=NOW)
    assert verdict.outcomes[0].reason == (
        "Check passed: the lead was submitted 3 days ago, within 30."
    )
    old = evaluate({}, [recent], 0, submitted_at=NOW - timedelta(days=45), now=NOW)
    assert not old.qualified
    unknown = evaluate({}, [recent], 0)
    assert unknown.outcomes[0].reason == (
        "Check failed: the lead has no submission time, which fails this criterion."
    )
    compiled = compile_agreement([recent], 0)
    assert compiled({}, submitted_at=NOW - timedelta(days=3), now=NOW).qualified
    assert not compiled({}, submitted_at=NOW - timedelta(days=31), now=NOW).qualified


def test_a_scoring_criterion_that_lets_a_blank_pass_earns_its_points():
    r = rule("at_least", 50, kind=SCORING, points=10, blank_passes=True)
    verdict = evaluate({}, [r], 10)
    assert verdict.qualified and verdict.score == 10
    assert verdict.outcomes[0].reason == (
        "Check earned: field is missing, which this criterion still rewards."
    )


def test_a_value_that_cannot_be_read_fails_with_a_reason_instead_of_raising():
    class Unprintable:
        def __str__(self):
            raise RuntimeError("no")

    r = rule("equals", "x")
    verdict = compile_agreement([r], 0)({"field": Unprintable()})
    assert not verdict.qualified
    assert verdict.outcomes[0].reason.startswith("Check failed: field is")


def test_a_stored_criterion_whose_terms_no_longer_read_fails_instead_of_raising():
    verdict = evaluate({"field": "5"}, [rule("at_least", "fifty"), rule("gone_operator")], 0)
    assert [o.passed for o in verdict.outcomes] == [False, False]
    assert verdict.outcomes[1].reason == (
        "Check failed: field could not be judged: the criterion's terms cannot be read."
    )


def test_the_compiled_verdict_writes_its_sentences_only_when_read():
    rules = [rule("one_of", ["Brazil"], attribute="country")]
    verdict = compile_agreement(rules, 0)({"country": "Chile"})
    assert verdict.passed == [False]
    assert verdict.summary == "Disqualified. Check failed: country is Chile, not one of Brazil."


@pytest.mark.parametrize("pattern", ["(a+)+$", r"(\w+\s?)*$", r"(a)\1", "([", "", "x" * 201, 42])
def test_patterns_that_do_not_compile_or_could_run_for_ever_are_refused(pattern):
    assert pattern_problem(pattern)


def test_patterns_with_plain_repetition_are_accepted():
    assert pattern_problem(r"^[A-Z]{2}-\d+$") is None
    assert pattern_problem(r"(sales|marketing) (lead|manager)s?") is None


@pytest.mark.parametrize(
    ("operator", "value"),
    [
        ("between", [500, 10]),
        ("between", [10]),
        ("submitted_within", 0),
        ("submitted_within", "30"),
        ("free_mail", ["gmail.com"]),
        ("matches", "(a+)+"),
        ("contains", " "),
    ],
)
def test_values_that_do_not_fit_the_operator_are_refused(operator, value):
    assert value_problem(operator, value)


def test_the_shipped_free_mail_list_is_read():
    assert {"gmail.com", "outlook.com", "yahoo.com"} <= FREE_MAIL_DOMAINS
    assert all(domain == domain.strip().lower() for domain in FREE_MAIL_DOMAINS)


def test_a_value_without_an_at_sign_is_explained_as_not_an_email_address():
    outcome = evaluate(
        {"email": "ana.acme.example"}, [rule("not_free_mail", attribute="email")], 0
    ).outcomes[0]
    assert not outcome.passed
    assert "not an e-mail address" in outcome.reason
