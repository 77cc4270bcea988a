"""The qualification rules engine. Plain data in, plain data out: no Django here.

`evaluate` judges one lead's attributes against an agreement's criteria and returns one
outcome per criterion, each with a sentence a rep or a marketer can read.
"""

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

MANDATORY = "mandatory"
SCORING = "scoring"


@dataclass(frozen=True, slots=True)
class Rule:
    id: int
    kind: str
    attribute: str
    operator: str
    value: Any
    points: int
    label: str


@dataclass(frozen=True, slots=True)
class Outcome:
    rule_id: int
    mandatory: bool
    passed: bool
    points: int
    reason: str


@dataclass(frozen=True, slots=True)
class Verdict:
    qualified: bool
    score: int
    threshold: int
    outcomes: tuple[Outcome, ...]

    @property
    def summary(self) -> str:
        if self.qualified:
            return (
                f"Qualified: every mandatory criterion passed and the score {self.score} "
                f"reaches the threshold {self.threshold}."
            )
        failures = [o.reason for o in self.outcomes if o.mandatory and not o.passed]
        if failures:
            return "Disqualified. " + " ".join(failures)
        return f"Disqualified: the score {self.score} is below the threshold {self.threshold}."


def _number(value: Any) -> float | None:
    try:
        return float(str(value).replace(",", "").strip())
    except ValueError:
        return None


def _fold(value: Any) -> str:
    return str(value).strip().casefold()


def _present(value: Any, _expected: Any) -> tuple[bool, str]:
    if value is None or str(value).strip() == "":
        return False, "is missing"
    return True, f"is given ({value})"


def _equals(value: Any, expected: Any) -> tuple[bool, str]:
    if _fold(value) == _fold(expected):
        return True, f"is {value}"
    return False, f"is {value}, not {expected}"


def _one_of(value: Any, expected: Any) -> tuple[bool, str]:
    allowed = ", ".join(map(str, expected))
    if _fold(value) in {_fold(v) for v in expected}:
        return True, f"is {value}, one of {allowed}"
    return False, f"is {value}, not one of {allowed}"


def _not_one_of(value: Any, expected: Any) -> tuple[bool, str]:
    passed, _ = _one_of(value, expected)
    if passed:
        return False, f"is {value}, which is excluded"
    return True, f"is {value}, not excluded"


def _at_least(value: Any, expected: Any) -> tuple[bool, str]:
    number = _number(value)
    if number is None:
        return False, f"is {value}, not a number"
    if number >= float(expected):
        return True, f"is {value}, at least {expected}"
    return False, f"is {value}, below {expected}"


def _at_most(value: Any, expected: Any) -> tuple[bool, str]:
    number = _number(value)
    if number is None:
        return False, f"is {value}, not a number"
    if number <= float(expected):
        return True, f"is {value}, at most {expected}"
    return False, f"is {value}, above {expected}"


def _domain_not_in(value: Any, expected: Any) -> tuple[bool, str]:
    domain = _fold(value).rpartition("@")[2]
    if domain in {_fold(d) for d in expected}:
        return False, f"is at {domain}, a free-mail domain"
    return True, f"is at {domain}, a company domain"


OPERATORS: dict[str, Callable[[Any, Any], tuple[bool, str]]] = {
    "present": _present,
    "equals": _equals,
    "one_of": _one_of,
    "not_one_of": _not_one_of,
    "at_least": _at_least,
    "at_most": _at_most,
    "domain_not_in": _domain_not_in,
}


def judge(rule: Rule, attributes: Mapping[str, Any]) -> Outcome:
    value = attributes.get(rule.attribute)
    if rule.operator != "present" and (value is None or str(value).strip() == ""):
        passed, how = False, "is missing"
    else:
        passed, how = OPERATORS[rule.operator](value, rule.value)
    points = rule.points if passed and rule.kind == SCORING else 0
    # A scoring criterion only adds points: missing them is "not earned", never a failure.
    if rule.kind == SCORING:
        verdict = "earned" if passed else "not earned"
    else:
        verdict = "passed" if passed else "failed"
    reason = f"{rule.label} {verdict}: {rule.attribute.replace('_', ' ')} {how}."
    return Outcome(
        rule_id=rule.id,
        mandatory=rule.kind == MANDATORY,
        passed=passed,
        points=points,
        reason=reason,
    )


def evaluate(attributes: Mapping[str, Any], rules: Sequence[Rule], threshold: int) -> Verdict:
    outcomes = tuple(judge(rule, attributes) for rule in rules)
    mandatory_passed = all(outcome.passed for outcome in outcomes if outcome.mandatory)
    score = sum(outcome.points for outcome in outcomes)
    return Verdict(
        qualified=mandatory_passed and score >= threshold,
        score=score,
        threshold=threshold,
        outcomes=outcomes,
    )
