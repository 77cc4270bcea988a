"""What holds for any lead and any agreement: hypothesis draws both."""

from datetime import UTC, datetime, timedelta
from decimal import Decimal

from hypothesis import given, settings
from hypothesis import strategies as st

from scoring.engine import MANDATORY, OPERATORS, SCORING, Rule, compile_agreement, evaluate

ATTRIBUTES = ["email", "country", "company_size", "job_title", "consent"]
NOW = datetime(2026, 11, 25, tzinfo=UTC)

scalars = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(),
    st.floats(allow_nan=True, allow_infinity=True),
    st.decimals(allow_nan=True, allow_infinity=True),
    st.text(max_size=30),
    st.sampled_from(["", " ", "Yes", "no", "1,200", "2,5", "ana@gmail.com", "N/A", "Brazil"]),
)
values = st.recursive(
    scalars,
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=5), inner),
    max_leaves=6,
)
leads = st.dictionaries(st.sampled_from(ATTRIBUTES), values)

# Well-formed terms for each operator, and sometimes terms a criterion should never hold.
terms_of = {
    "present": st.none(),
    "answered": st.none(),
    "free_mail": st.none(),
    "not_free_mail": st.none(),
    "equals": st.sampled_from(["Yes", "50", "Enterprise"]),
    "not_equals": st.sampled_from(["Yes", "no"]),
    "contains": st.sampled_from(["sales", "@"]),
    "one_of": st.lists(st.sampled_from(["Brazil", "Yes", "10", "x"]), min_size=1),
    "not_one_of": st.lists(st.sampled_from(["student", "No"]), min_size=1),
    "domain_in": st.just(["acme.example"]),
    "domain_not_in": st.just(["gmail.com", "yahoo.com"]),
    "country_in": st.just(["Brazil", "Portugal"]),
    "at_least": st.integers(-5, 2000),
    "at_most": st.floats(-5, 2000),
    "between": st.tuples(st.integers(0, 50), st.integers(50, 900)).map(list),
    "matches": st.sampled_from([r"^\d+$", "sales|ceo", "gmail"]),
    "submitted_within": st.integers(1, 90),
}


@st.composite
def rules(draw):
    operator = draw(st.sampled_from([*OPERATORS, "no_such_operator"]))
    value = draw(terms_of.get(operator, st.none()) | st.just("unreadable"))
    kind = draw(st.sampled_from([MANDATORY, SCORING]))
    points = draw(st.integers(0, 50)) if kind == SCORING else 0
    rule_id = draw(st.integers(1, 10_000))
    return Rule(
        rule_id,
        kind,
        draw(st.sampled_from(ATTRIBUTES)),
        operator,
        value,
        points,
        "Criterion",
        draw(st.booleans()),
    )


agreements = st.lists(rules(), max_size=12)
contexts = st.fixed_dictionaries(
    {
        "blanks": st.lists(st.sampled_from(["N/A", "Select", "-"]), max_size=2),
        "submitted_at": st.none() | st.integers(0, 200).map(lambda d: NOW - timedelta(days=d)),
        "answered": st.none() | st.sets(st.sampled_from(ATTRIBUTES)),
    }
)


@settings(max_examples=300, deadline=None)
@given(lead=leads, agreement=agreements, threshold=st.integers(0, 100), context=contexts)
def test_any_lead_is_judged_without_raising_and_both_ways_agree(
    lead, agreement, threshold, context
):
    blanks = context["blanks"]
    plain = evaluate(lead, agreement, threshold, now=NOW, **context)
    function = compile_agreement(agreement, threshold, blanks=blanks)
    given = {"now": NOW, "submitted_at": context["submitted_at"], "answered": context["answered"]}
    compiled = function(lead, **given)
    assert len(plain.outcomes) == len(compiled.outcomes) == len(agreement)
    assert function.flags(lead, **given) == tuple(o.passed for o in plain.outcomes)
    assert (compiled.qualified, compiled.score) == (plain.qualified, plain.score)
    assert [o.passed for o in compiled.outcomes] == [o.passed for o in plain.outcomes]
    assert [o.reason for o in compiled.outcomes] == [o.reason for o in plain.outcomes]
    assert compiled.summary == plain.summary


def stored_rows(verdict) -> list[tuple]:
    return [(o.rule_id, o.passed, o.points, o.reason) for o in verdict.outcomes]


# Values equal to each other that print differently: a sentence remembered for one of them
# must not be given to another.
LOOKALIKES = [1, 1.0, True, "1", Decimal("1.0"), Decimal("1"), 0, 0.0, -0.0, False, None, ""]


@settings(max_examples=200, deadline=None)
@given(
    many=st.lists(
        leads | st.sampled_from([{a: v for a in ATTRIBUTES} for v in LOOKALIKES]), max_size=8
    ),
    agreement=agreements,
    threshold=st.integers(0, 100),
)
def test_one_compiled_agreement_writes_each_leads_own_sentences_however_many_it_judged(
    many, agreement, threshold
):
    # Its results and summary, read without the outcomes (as the stored rows are), equal the
    # plain evaluation's, lead after lead: the sentences it remembers never leak across.
    function = compile_agreement(agreement, threshold)
    for lead in [*many, *many]:
        plain = evaluate(lead, agreement, threshold, now=NOW)
        compiled = function(lead, now=NOW)
        assert list(compiled.results) == stored_rows(plain)
        assert compiled.summary == plain.summary
        assert list(compiled.reasons) == [o.reason for o in plain.outcomes]


def test_equal_values_that_print_differently_get_their_own_sentences():
    rules = [Rule(1, MANDATORY, "company_size", "at_least", 1, 0, "Size")]
    function = compile_agreement(rules, 0)
    for value in LOOKALIKES * 2:
        expected = evaluate({"company_size": value}, rules, 0).outcomes[0].reason
        assert function({"company_size": value}).reasons == (expected,)
    assert function({"company_size": 1.0}).reasons == (
        "Size passed: company size is 1.0, at least 1.",
    )


@settings(max_examples=300, deadline=None)
@given(lead=leads, agreement=agreements, threshold=st.integers(0, 100))
def test_the_score_is_the_sum_of_the_points_earned(lead, agreement, threshold):
    for verdict in (
        evaluate(lead, agreement, threshold),
        compile_agreement(agreement, threshold)(lead),
    ):
        earned = [o for o in verdict.outcomes if o.passed and not o.mandatory]
        assert verdict.score == sum(o.rule.points for o in earned)
        assert all(o.points == 0 for o in verdict.outcomes if not o.passed or o.mandatory)


@settings(max_examples=300, deadline=None)
@given(lead=leads, agreement=agreements, threshold=st.integers(0, 100))
def test_a_failed_mandatory_criterion_always_disqualifies(lead, agreement, threshold):
    for verdict in (
        evaluate(lead, agreement, threshold),
        compile_agreement(agreement, threshold)(lead),
    ):
        failed = any(o.mandatory and not o.passed for o in verdict.outcomes)
        if failed:
            assert not verdict.qualified
            assert verdict.summary.startswith("Disqualified. ")
        else:
            assert verdict.qualified == (verdict.score >= threshold)


@settings(max_examples=200, deadline=None)
@given(junk=values, agreement=agreements)
def test_attributes_that_are_not_a_mapping_never_raise(junk, agreement):
    compiled = compile_agreement(agreement, 0)
    verdict = compiled(junk)
    assert verdict.qualified == evaluate(junk, agreement, 0).qualified
    assert compiled.flags(junk) == tuple(o.passed for o in verdict.outcomes)
    assert all(isinstance(o.reason, str) for o in verdict.outcomes)


# Few attributes and few texts: many criteria read the same attribute, and the same texts come
# back lead after lead, so one compiled agreement answers most of them from what it remembers.
few_texts = st.sampled_from(["", " ", "N/A", "Yes", "no", "10", "1,200", "Brazil", "a@gmail.com"])
repeated_leads = st.lists(
    st.dictionaries(st.sampled_from(ATTRIBUTES[:2]), few_texts | values), min_size=1, max_size=8
)
shared_attribute_agreements = st.lists(
    rules().map(
        lambda rule: Rule(
            rule.id,
            rule.kind,
            rule.attribute if rule.attribute in ATTRIBUTES[:2] else ATTRIBUTES[0],
            rule.operator,
            rule.value,
            rule.points,
            rule.label,
            rule.blank_passes,
        )
    ),
    min_size=2,
    max_size=12,
)


@settings(max_examples=300, deadline=None)
@given(
    batch=repeated_leads,
    agreement=shared_attribute_agreements,
    threshold=st.integers(0, 60),
    blanks=st.lists(st.sampled_from(["N/A", "Select", "-"]), max_size=2),
)
def test_one_compiled_agreement_judges_lead_after_lead_as_judging_each_afresh_does(
    batch, agreement, threshold, blanks
):
    compiled = compile_agreement(agreement, threshold, blanks=blanks)
    for lead in batch * 2:
        plain = evaluate(lead, agreement, threshold, blanks=blanks, now=NOW)
        flags = tuple(o.passed for o in plain.outcomes)
        verdict = compiled(lead, now=NOW)
        assert compiled.flags(lead, now=NOW) == flags
        assert (verdict.qualified, verdict.score, tuple(verdict.passed)) == (
            plain.qualified,
            plain.score,
            flags,
        )
        assert [o.reason for o in verdict.outcomes] == [o.reason for o in plain.outcomes]
