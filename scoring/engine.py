"""The qualification rules engine. Plain data in, plain data out: no Django here.

Two ways to judge a lead, which always agree:

- `evaluate(attributes, rules, threshold)` judges one lead rule by rule, reading each
  criterion's terms afresh: plain, for one submission and as the reference in the tests.
- `compile_agreement(rules, threshold)` turns an agreement into a function once; calling it
  judges one lead at a time, fast (the what-if and re-scoring judge many), and outcomes are
  only made when someone reads `verdict.outcomes`.

Either way an outcome's sentence is written when `outcome.reason` is read.

Besides the lead's attributes, two operators need the submission: "submitted within N days"
reads `submitted_at` (and `now`, by default the current time in UTC; give both aware or both
naive), and "answered on the form" reads `answered`, the keys the submission gave a
non-blank answer to (without it, an attribute that is not blank counts as answered).
`blanks` are the placeholders the form counts as blank ("Select", "N/A"), compared without
case or surrounding spaces.

Nothing a lead sends makes scoring fail: a value that cannot be read fails its criterion,
and the sentence says so.
"""

import math
import re
from collections.abc import Callable, Collection, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path
from typing import Any

try:  # Python 3.11+: the parser re itself uses, to refuse patterns that can take forever.
    from re import _parser as _re_parser  # type: ignore[attr-defined]
except ImportError:  # pragma: no cover
    import sre_parse as _re_parser  # type: ignore[no-redef]

MANDATORY = "mandatory"
SCORING = "scoring"

# What an operator compares the lead's value with, so the editor can ask for it.
NOTHING, TEXT, LIST, NUMBER, RANGE, PATTERN, DAYS = (
    "nothing",
    "text",
    "list",
    "number",
    "range",
    "pattern",
    "days",
)

# name: (what it takes, how the editor names it). The names are stored in criteria: never
# rename one.
OPERATORS: dict[str, tuple[str, str]] = {
    "present": (NOTHING, "is given"),
    "answered": (NOTHING, "was answered on the form"),
    "equals": (TEXT, "equals"),
    "not_equals": (TEXT, "does not equal"),
    "one_of": (LIST, "is one of"),
    "not_one_of": (LIST, "is not one of"),
    "contains": (TEXT, "contains"),
    "at_least": (NUMBER, "is at least"),
    "at_most": (NUMBER, "is at most"),
    "between": (RANGE, "is between"),
    "matches": (PATTERN, "matches the pattern"),
    "free_mail": (NOTHING, "e-mail is at a free-mail domain"),
    "not_free_mail": (NOTHING, "e-mail is a company address (not free-mail)"),
    "domain_in": (LIST, "e-mail domain is one of"),
    "domain_not_in": (LIST, "e-mail domain is not one of"),
    "country_in": (LIST, "country is one of"),
    "submitted_within": (DAYS, "was submitted within (days)"),
}
# These judge whether there is a value at all, so "a blank passes" means nothing to them.
BLANK_IS_JUDGED = frozenset({"present", "answered"})

_FREE_MAIL_FILE = Path(__file__).parent / "data" / "free_mail_domains.txt"
FREE_MAIL_DOMAINS = frozenset(
    line.strip().casefold()
    for line in _FREE_MAIL_FILE.read_text(encoding="utf-8").splitlines()
    if line.strip() and not line.lstrip().startswith("#")
)

_PATTERN_MAX = 200  # characters of a pattern
_SUBJECT_MAX = 1000  # characters of a value a pattern is matched against
_SHOWN_MAX = 80  # characters of a value quoted in a sentence
_MEMO = 4096  # texts each compiled criterion remembers its decision (and sentence) for
# The values whose sentences a compiled criterion remembers: equal ones always print alike.
_SAID_KINDS = frozenset({str, int, bool, type(None)})

# How an outcome came about: the value was judged, was blank, or could not be read.
JUDGED, BLANK, UNREADABLE = "judged", "blank", "unreadable"


@dataclass(frozen=True, slots=True)
class Rule:
    id: int
    kind: str
    attribute: str
    operator: str
    value: Any
    points: int
    label: str
    blank_passes: bool = False


@dataclass(frozen=True, slots=True)
class Outcome:
    """One criterion's judgement of one lead; its sentence is written when it is read."""

    rule: Rule
    passed: bool
    points: int
    value: Any  # what was judged: the attribute, or the age in days, or whether answered
    state: str = JUDGED

    @property
    def rule_id(self) -> int:
        return self.rule.id

    @property
    def mandatory(self) -> bool:
        return self.rule.kind == MANDATORY

    @property
    def reason(self) -> str:
        return reason(self)


class Verdict:
    """A lead's judgement: qualified or not, its score, and one outcome per criterion.

    A compiled agreement's verdict keeps the pass flags and the values judged, and makes its
    outcomes from them only when they are read (`compiled` is the agreement that judged).
    """

    __slots__ = (
        "_compiled",
        "_outcomes",
        "_reasons",
        "_values",
        "passed",
        "qualified",
        "score",
        "threshold",
    )

    def __init__(
        self,
        qualified: bool,
        score: int,
        threshold: int,
        outcomes: "Sequence[Outcome] | None" = None,
        passed: Sequence[bool] | None = None,
        values: Sequence[Any] | None = None,
        compiled: "CompiledAgreement | None" = None,
    ):
        # Positional, so that the compiled function's call per lead stays cheap.
        self.qualified = qualified
        self.score = score
        self.threshold = threshold
        self._outcomes = tuple(outcomes) if outcomes is not None else None
        self._values = values
        self._compiled = compiled
        self._reasons: tuple[str, ...] | None = None
        if passed is None and self._outcomes is not None:
            passed = [outcome.passed for outcome in self._outcomes]
        self.passed = passed  # one flag per criterion, in order: cheap to count

    @property
    def outcomes(self) -> tuple[Outcome, ...]:
        if self._outcomes is None:
            self._outcomes = self._compiled._outcomes(self.passed, self._values)
        return self._outcomes

    @property
    def reasons(self) -> tuple[str, ...]:
        """Each criterion's sentence, in order: the outcomes' `reason`, each written once."""
        if self._reasons is None:
            if self._compiled is not None and self._outcomes is None:
                self._reasons = self._compiled._reasons(self.passed, self._values)
            else:
                self._reasons = tuple(outcome.reason for outcome in self.outcomes)
        return self._reasons

    @property
    def results(self) -> tuple[tuple[int, bool, int, str], ...]:
        """One row per criterion, in order, as it is stored: (criterion id, passed, points
        earned, sentence); the same as the outcomes', without making them where it can."""
        if self._compiled is None or self._outcomes is not None:
            return tuple(
                (o.rule_id, o.passed, o.points, text)
                for o, text in zip(self.outcomes, self.reasons, strict=True)
            )
        return tuple(
            (rule_id, ok, points if ok else 0, text)
            for (rule_id, points, _), ok, text in zip(
                self._compiled._terms, self.passed, self.reasons, strict=True
            )
        )

    @property
    def summary(self) -> str:
        if self.qualified:
            return (
                f"Qualified: every mandatory criterion passed and the score {self.score} "
                f"reaches the threshold {self.threshold}."
            )
        if self._compiled is None or self._outcomes is not None:
            mandatory = [o.mandatory for o in self.outcomes]
        else:
            mandatory = [must for _, _, must in self._compiled._terms]
        failures = [
            text
            for text, ok, must in zip(self.reasons, self.passed, mandatory, strict=True)
            if must and not ok
        ]
        if failures:
            return "Disqualified. " + " ".join(failures)
        return f"Disqualified: the score {self.score} is below the threshold {self.threshold}."

    def __repr__(self) -> str:
        return f"Verdict(qualified={self.qualified}, score={self.score}, passed={self.passed})"


# Reading values ---------------------------------------------------------------------------

_WORDS = {"yes": 1.0, "y": 1.0, "true": 1.0, "on": 1.0, "no": 0.0, "n": 0.0, "false": 0.0}
_WORDS["off"] = 0.0
_NUMERAL = re.compile(r"[+-]?[0-9.,]*[0-9]")
_GROUPED = {",": re.compile(r"[+-]?\d{1,3}(,\d{3})+"), ".": re.compile(r"[+-]?\d{1,3}(\.\d{3})+")}
_THOUSANDS = re.compile(r"[0-9]{1,3}(?:,[0-9]{3})+")


def number(value: Any) -> float | None:
    """A number read the way people type it, or None.

    "2.5" and "2,5" are two and a half; "1,200" and "1.200.000" have thousands separators;
    "1.200,50" and "1,200.50" both mean 1200.5. Spaces inside are ignored. Booleans, NaN and
    infinities are not numbers.
    """
    kind = value.__class__
    if kind is int or kind is float or kind is Decimal:
        number = float(value)
        return number if math.isfinite(number) else None
    if kind is not str:
        return None
    text = value.strip()
    if text.isdigit() and text.isascii():
        return float(text)
    if _THOUSANDS.fullmatch(text):  # "12,345": what the general case below would make of it
        return float(text.replace(",", ""))
    text = text.replace(" ", "").replace("\u00a0", "").replace("'", "")
    if not _NUMERAL.fullmatch(text):
        return None
    commas, dots = text.count(","), text.count(".")
    if commas and dots:
        decimal = "," if text.rfind(",") > text.rfind(".") else "."
        grouping = "." if decimal == "," else ","
        if text.count(decimal) > 1:
            return None
        text = text.replace(grouping, "").replace(decimal, ".")
    elif commas or dots:
        mark = "," if commas else "."
        if _GROUPED[mark].fullmatch(text) and (mark == "," or dots > 1):
            text = text.replace(mark, "")
        elif commas + dots == 1:
            text = text.replace(mark, ".")
        else:
            return None
    try:
        return float(text)
    except ValueError:
        return None


def _key(value: Any) -> Any:
    """What two values are compared by: Yes, true and 1 are one; 50 and "50.0" are one."""
    if value is True or value is False:
        return float(value)
    text = str(value).strip().casefold()
    word = _WORDS.get(text)
    if word is not None:
        return word
    amount = number(text) if text[:1].isdigit() or text[:1] in "+-." else None
    return text if amount is None else amount


def _items(value: Any) -> list:
    """A multiple choice arrives as a list: each of its items is judged."""
    return list(value) if isinstance(value, list | tuple | set | frozenset) else [value]


def _domain(value: Any) -> str:
    """The part after the last "@"; "" for text that is no address (no e-mail test passes on it)."""
    local, at, domain = str(value).strip().casefold().rpartition("@")
    return domain if local and at else ""


def _blank(value: Any, blanks: Collection[str]) -> bool:
    if value is None:
        return True
    if value.__class__ is str:
        text = value.strip()
        return not text or (bool(blanks) and text.casefold() in blanks)
    if isinstance(value, list | tuple | set | frozenset | dict):
        return not value
    return False


def is_blank(value: Any, blanks: Collection[str] = frozenset()) -> bool:
    """Missing, empty, spaces only, or one of the form's placeholders (folded by
    `blank_placeholders`)."""
    return _blank(value, blanks)


def blank_placeholders(values: Collection[Any]) -> frozenset[str]:
    return frozenset(str(value).strip().casefold() for value in values if str(value).strip())


# The operators: each takes what the criterion stores and returns a test of a value that is
# not blank. A test may raise on a strange value; the callers turn that into a failure.


def _equals(expected: Any) -> Callable[[Any], bool]:
    want, text = _key(expected), str(expected).strip().casefold()

    def test(value: Any) -> bool:
        # The same text is the same value; only a different text needs reading as a number.
        if value.__class__ is str and value.strip().casefold() == text:
            return True
        return _key(value) == want

    return test


def _not_equals(expected: Any) -> Callable[[Any], bool]:
    equals = _equals(expected)
    return lambda value: not equals(value)


def _one_of_terms(expected: Any) -> tuple[frozenset, frozenset]:
    """The listed texts (stripped, folded) and what they are compared by (`_key`)."""
    texts = frozenset(str(item).strip().casefold() for item in _items(expected))
    return texts, frozenset(_key(item) for item in _items(expected))


def _one_of(expected: Any) -> Callable[[Any], bool]:
    texts, allowed = _one_of_terms(expected)

    def test(value: Any) -> bool:
        if value.__class__ is str:
            return value.strip().casefold() in texts or _key(value) in allowed
        return any(_key(item) in allowed for item in _items(value))

    return test


def _not_one_of(expected: Any) -> Callable[[Any], bool]:
    one_of = _one_of(expected)
    return lambda value: not one_of(value)


def _contains(expected: Any) -> Callable[[Any], bool]:
    part = str(expected).strip().casefold()
    return lambda value: any(part in str(item).casefold() for item in _items(value))


def _at_least(expected: Any) -> Callable[[Any], bool]:
    bound = _bound(expected)

    def test(value: Any) -> bool:
        amount = number(value)
        return amount is not None and amount >= bound

    return test


def _at_most(expected: Any) -> Callable[[Any], bool]:
    bound = _bound(expected)

    def test(value: Any) -> bool:
        amount = number(value)
        return amount is not None and amount <= bound

    return test


def _between(expected: Any) -> Callable[[Any], bool]:
    low, high = _range(expected)

    def test(value: Any) -> bool:
        amount = number(value)
        return amount is not None and low <= amount <= high

    return test


def _matches(expected: Any) -> Callable[[Any], bool]:
    search = compiled_pattern(expected).search
    return lambda value: search(str(value)[:_SUBJECT_MAX]) is not None


def _free_mail(_expected: Any) -> Callable[[Any], bool]:
    return lambda value: _domain(value) in FREE_MAIL_DOMAINS


def _not_free_mail(_expected: Any) -> Callable[[Any], bool]:
    def test(value: Any) -> bool:
        domain = _domain(value)
        return bool(domain) and domain not in FREE_MAIL_DOMAINS

    return test


def _domains(expected: Any) -> frozenset[str]:
    return frozenset(str(item).strip().casefold().lstrip("@") for item in _items(expected))


def _domain_in(expected: Any) -> Callable[[Any], bool]:
    domains = _domains(expected)
    return lambda value: _domain(value) in domains


def _domain_not_in(expected: Any) -> Callable[[Any], bool]:
    domains = _domains(expected)

    def test(value: Any) -> bool:
        domain = _domain(value)
        return bool(domain) and domain not in domains

    return test


def _within_days(expected: Any) -> Callable[[Any], bool]:
    days = _bound(expected)
    return lambda age: age <= days


def _given(_expected: Any) -> Callable[[Any], bool]:
    return lambda value: True  # only reached when the value is not blank


TESTS: dict[str, Callable[[Any], Callable[[Any], bool]]] = {
    "present": _given,
    "answered": lambda _expected: bool,
    "equals": _equals,
    "not_equals": _not_equals,
    "one_of": _one_of,
    "not_one_of": _not_one_of,
    "contains": _contains,
    "at_least": _at_least,
    "at_most": _at_most,
    "between": _between,
    "matches": _matches,
    "free_mail": _free_mail,
    "not_free_mail": _not_free_mail,
    "domain_in": _domain_in,
    "domain_not_in": _domain_not_in,
    "country_in": _one_of,
    "submitted_within": _within_days,
}


def _bound(expected: Any) -> float:
    amount = number(expected)
    if amount is None:
        raise ValueError(f"{expected!r} is not a number")
    return amount


def _range(expected: Any) -> tuple[float, float]:
    low, high = (_bound(item) for item in expected)
    if low > high:
        raise ValueError(f"{low} is above {high}")
    return low, high


def compiled_pattern(text: Any) -> re.Pattern:
    problem = pattern_problem(text)
    if problem:
        raise ValueError(problem)
    return re.compile(text, re.IGNORECASE)


def pattern_problem(text: Any) -> str | None:
    """Why this pattern is refused, or None.

    Python's re has no time limit, so a pattern that can backtrack for ever is refused
    before it is stored: one that repeats something itself repeated ("(a+)+"), or refers
    back to a group. Matching also reads at most the first 1,000 characters of a value.
    """
    if not isinstance(text, str) or not text.strip():
        return "A pattern is needed, such as ^[A-Z]{2}[0-9]+$."
    if len(text) > _PATTERN_MAX:
        return f"A pattern is at most {_PATTERN_MAX} characters."
    try:
        parsed = _re_parser.parse(text)
    except (re.error, RecursionError, OverflowError) as error:
        return f"“{text}” is not a pattern Python can read: {error}."
    if _risky(parsed.data if hasattr(parsed, "data") else parsed, repeated=False):
        return (
            f"“{text}” repeats a part that itself repeats, or refers back to a group: it "
            "could take too long on some values. Write it without nested repetition."
        )
    return None


def _risky(items: Any, *, repeated: bool) -> bool:
    for op, argument in items:
        name = str(op)
        if name in {"GROUPREF", "GROUPREF_EXISTS"}:
            return True
        if name in {"MAX_REPEAT", "MIN_REPEAT", "POSSESSIVE_REPEAT"}:
            _low, high, body = argument
            many = high is _re_parser.MAXREPEAT or high > 1
            if many and repeated:
                return True
            if _risky(body, repeated=repeated or many):
                return True
        elif name == "SUBPATTERN":
            if _risky(argument[-1], repeated=repeated):
                return True
        elif name == "BRANCH":
            if any(_risky(branch, repeated=repeated) for branch in argument[1]):
                return True
        elif name in {"ASSERT", "ASSERT_NOT", "ATOMIC_GROUP"}:
            body = argument[-1] if isinstance(argument, tuple) else argument
            if _risky(body, repeated=repeated):
                return True
    return False


def value_problem(operator: str, value: Any) -> str | None:
    """Why `value` cannot go with `operator` in a criterion, or None: the editor's check."""
    if operator not in OPERATORS:
        return f"“{operator}” is not an operator."
    needs, words = OPERATORS[operator]
    if needs == NOTHING:
        return None if value is None else f"“{words}” needs no value: leave it blank."
    if needs == TEXT:
        ok = isinstance(value, str) and value.strip() != ""
        return None if ok else f"“{words}” needs a text to compare with."
    if needs == LIST:
        ok = (
            isinstance(value, list)
            and bool(value)
            and all(isinstance(item, str) and item.strip() for item in value)
        )
        return None if ok else f"“{words}” needs a list of values, such as Brazil, Portugal."
    if needs == PATTERN:
        return pattern_problem(value)
    if needs in (NUMBER, DAYS):
        ok = isinstance(value, int | float) and not isinstance(value, bool)
        if not ok or not math.isfinite(value):
            return f"“{words}” needs a number, such as 50."
        if needs == DAYS and value <= 0:
            return f"“{words}” needs a number of days above 0, such as 30."
        return None
    # RANGE
    ok = (
        isinstance(value, list)
        and len(value) == 2
        and all(
            isinstance(item, int | float) and not isinstance(item, bool) and math.isfinite(item)
            for item in value
        )
    )
    if not ok:
        return f"“{words}” needs two numbers, the lowest and the highest, such as 10, 500."
    if value[0] > value[1]:
        return f"“{words}” needs the lowest number first: {value[1]}, {value[0]}."
    return None


def _test_of(rule: Rule) -> Callable[[Any], bool] | None:
    """The rule's test, or None when what it stores cannot be judged by (a stored criterion
    from before a check, or an operator this engine no longer knows)."""
    try:
        return TESTS[rule.operator](rule.value)
    except Exception:
        return None


# Sentences --------------------------------------------------------------------------------


def _shown(value: Any) -> str:
    try:
        text = ", ".join(map(str, value)) if isinstance(value, list | tuple) else str(value)
    except Exception:
        return f"a {type(value).__name__} that cannot be shown"
    return text if len(text) <= _SHOWN_MAX else text[: _SHOWN_MAX - 1] + "…"


def _number_shown(value: Any) -> str:
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    return f"{value:g}" if isinstance(value, float) else str(value)


def reason(outcome: Outcome) -> str:
    return sentence(outcome.rule, outcome.passed, outcome.value, outcome.state)


def sentence(rule: Rule, passed: bool, value: Any, state: str = JUDGED) -> str:
    """An outcome's sentence from its parts: `reason` without making the Outcome."""
    if rule.kind == SCORING:
        # A scoring criterion only adds points: missing them is "not earned", never a failure.
        verdict = "earned" if passed else "not earned"
    else:
        verdict = "passed" if passed else "failed"
    if rule.operator == "submitted_within":
        subject = "the lead"
    else:
        subject = rule.attribute.replace("_", " ")
    try:
        how = _how(rule, passed, value, state)
    except Exception:  # a value no sentence can quote: the verdict stands without it
        how = f"is {_shown(value)}"
    return f"{rule.label} {verdict}: {subject} {how}."


def _how(rule: Rule, passed: bool, value: Any, state: str) -> str:
    if state == UNREADABLE:
        if _test_of(rule) is None:
            return "could not be judged: the criterion's terms cannot be read"
        return f"is {_shown(value)}, which could not be read"
    if state == BLANK:
        if value is None:
            how = "is missing" if rule.operator != "submitted_within" else "has no submission time"
        elif isinstance(value, str) and value.strip():
            how = f"is “{_shown(value.strip())}”, which the form counts as blank"
        else:
            how = "is blank"
        if rule.operator in BLANK_IS_JUDGED:
            return how
        if rule.kind == SCORING:
            return how + (", which this criterion still rewards" if passed else "")
        return how + (
            ", which this criterion lets pass" if passed else ", which fails this criterion"
        )
    expected = rule.value
    shown = _shown(value)
    match rule.operator:
        case "present":
            return f"is given ({shown})"
        case "answered":
            return "was answered on the form" if passed else "was not answered on the form"
        case "equals":
            return f"is {shown}" if passed else f"is {shown}, not {_shown(expected)}"
        case "not_equals":
            return f"is {shown}, not {_shown(expected)}" if passed else f"is {shown}"
        case "one_of" | "country_in":
            allowed = _shown(expected)
            return (
                f"is {shown}, one of {allowed}" if passed else f"is {shown}, not one of {allowed}"
            )
        case "not_one_of":
            return f"is {shown}, not excluded" if passed else f"is {shown}, which is excluded"
        case "contains":
            part = _shown(expected)
            return f"is {shown}, which contains {part}" if passed else f"is {shown}, without {part}"
        case "at_least" | "at_most" | "between" if number(value) is None:
            return f"is {shown}, not a number"
        case "at_least":
            return f"is {shown}, at least {expected}" if passed else f"is {shown}, below {expected}"
        case "at_most":
            return f"is {shown}, at most {expected}" if passed else f"is {shown}, above {expected}"
        case "between":
            low, high = expected
            inside = "between" if passed else "not between"
            return f"is {shown}, {inside} {low} and {high}"
        case "matches":
            does = "matches" if passed else "does not match"
            return f"is {shown}, which {does} the pattern {expected}"
        case "free_mail" | "not_free_mail" | "domain_in" | "domain_not_in" if not _domain(value):
            return f"is {shown}, not an e-mail address"
        case "free_mail" | "not_free_mail":
            domain = _domain(value)
            free = domain in FREE_MAIL_DOMAINS
            return f"is at {domain}, {'a free-mail' if free else 'a company'} domain"
        case "domain_in":
            domain, allowed = _domain(value), _shown(expected)
            return f"is at {domain}, {'one' if passed else 'not one'} of {allowed}"
        case "domain_not_in":
            domain = _domain(value)
            if passed:
                return f"is at {domain}, a company domain"
            return f"is at {domain}, a free-mail domain"
        case "submitted_within":
            days = _number_shown(round(value, 1))
            limit = _number_shown(expected)
            if passed:
                return f"was submitted {days} days ago, within {limit}"
            return f"was submitted {days} days ago, more than {limit}"
    return f"is {shown}"


# Judging one lead, plainly ----------------------------------------------------------------


def _age_in_days(submitted_at: datetime | None, now: datetime | None) -> float | None:
    if submitted_at is None:
        return None
    try:
        now = now or datetime.now(UTC)
        return (now - submitted_at).total_seconds() / 86400
    except (TypeError, AttributeError):  # one aware, one naive; or not a time
        return None


def _answered(rule: Rule, attributes: Mapping, answered: Collection[str] | None, blanks) -> bool:
    if answered is not None:
        return rule.attribute in answered
    return not _blank(attributes.get(rule.attribute), blanks)


def judge(
    rule: Rule,
    attributes: Mapping[str, Any],
    *,
    blanks: Collection[str] = frozenset(),
    age: float | None = None,
    answered: Collection[str] | None = None,
) -> Outcome:
    """One criterion's outcome for one lead; never raises."""
    if rule.operator == "submitted_within":
        value = age
    elif rule.operator == "answered":
        try:
            value = _answered(rule, attributes, answered, blanks)
        except Exception:
            value = False
    else:
        try:
            value = attributes.get(rule.attribute)
        except Exception:
            value = None
    test = _test_of(rule)
    if test is None:
        return Outcome(rule, False, 0, value, UNREADABLE)
    try:
        if rule.operator != "answered" and _blank(value, blanks):
            passed = rule.blank_passes and rule.operator not in BLANK_IS_JUDGED
            state = BLANK
        else:
            passed, state = bool(test(value)), JUDGED
    except Exception:
        passed, state = False, UNREADABLE
    points = rule.points if passed and rule.kind == SCORING else 0
    return Outcome(rule, passed, points, value, state)


def evaluate(
    attributes: Mapping[str, Any],
    rules: Sequence[Rule],
    threshold: int,
    *,
    blanks: Collection[str] = frozenset(),
    submitted_at: datetime | None = None,
    now: datetime | None = None,
    answered: Collection[str] | None = None,
) -> Verdict:
    """Judge one lead rule by rule, reading each criterion's terms afresh."""
    if not isinstance(attributes, Mapping):
        attributes = {}
    blanks = blank_placeholders(blanks)
    age = _age_in_days(submitted_at, now)
    outcomes = tuple(
        judge(rule, attributes, blanks=blanks, age=age, answered=answered) for rule in rules
    )
    mandatory_passed = all(outcome.passed for outcome in outcomes if outcome.mandatory)
    score = sum(outcome.points for outcome in outcomes)
    return Verdict(mandatory_passed and score >= threshold, score, threshold, outcomes)


# Judging many leads: an agreement compiled once -------------------------------------------

# How the compiled function asks each operator about a text that is not blank, given its
# terms prepared once ({0}, {1}: names bound to them). The text is at hand four ways: `value`
# as sent, `folded` (stripped and case-folded), `amount` (read as a number, or None) and
# `domain` (what follows its last @). Each says what the operator's test says of a text
# (TESTS, above; the property tests hold the two to agreeing), without calling it.
_TEXT_TESTS: dict[str, tuple[Callable[[Any], tuple], str]] = {
    "present": (lambda _expected: (), "True"),
    "equals": (
        lambda expected: (str(expected).strip().casefold(), _key(expected)),
        "(folded == {0} or _key(value) == {1})",
    ),
    "not_equals": (
        lambda expected: (str(expected).strip().casefold(), _key(expected)),
        "not (folded == {0} or _key(value) == {1})",
    ),
    "one_of": (
        lambda expected: _one_of_terms(expected),
        "(folded in {0} or _key(value) in {1})",
    ),
    "not_one_of": (
        lambda expected: _one_of_terms(expected),
        "not (folded in {0} or _key(value) in {1})",
    ),
    "country_in": (
        lambda expected: _one_of_terms(expected),
        "(folded in {0} or _key(value) in {1})",
    ),
    "contains": (
        lambda expected: (str(expected).strip().casefold(),),
        "({0} in value.casefold())",
    ),
    "at_least": (lambda expected: (_bound(expected),), "(amount is not None and amount >= {0})"),
    "at_most": (lambda expected: (_bound(expected),), "(amount is not None and amount <= {0})"),
    "between": (lambda expected: _range(expected), "(amount is not None and {0} <= amount <= {1})"),
    "matches": (
        lambda expected: (compiled_pattern(expected).search,),
        "({0}(value[:_SUBJECT_MAX]) is not None)",
    ),
    "free_mail": (lambda _expected: (), "(domain in _FREE_MAIL)"),
    "not_free_mail": (lambda _expected: (), "(domain != '' and domain not in _FREE_MAIL)"),
    "domain_in": (lambda expected: (_domains(expected),), "(domain in {0})"),
    "domain_not_in": (
        lambda expected: (_domains(expected),),
        "(domain != '' and domain not in {0})",
    ),
}


class CompiledAgreement:
    """An agreement made into one function: `compiled(attributes)` is a Verdict.

    Compiling reads each criterion's terms once (lists into sets, numbers and patterns
    parsed); a call reads each attribute once, asks all the criteria on it at once, and keeps
    the values, so that the outcomes and their sentences are made only if they are asked for.
    `compiled.flags(attributes)` (the same keywords) is only whether each criterion passed, in
    order: `verdict.passed` without the Verdict, for callers that count many leads and read
    no score, outcome or sentence.
    """

    def __init__(
        self, rules: Sequence[Rule], threshold: int, *, blanks: Collection[str] = frozenset()
    ):
        self.rules = tuple(rules)
        self.threshold = threshold
        self.blanks = blank_placeholders(blanks)
        self._unreadable = [_test_of(rule) is None for rule in self.rules]
        self._points = [rule.points if rule.kind == SCORING else 0 for rule in self.rules]
        self._mandatory = [rule.kind == MANDATORY for rule in self.rules]
        self._terms = tuple(
            (rule.id, points, must)
            for rule, points, must in zip(self.rules, self._points, self._mandatory, strict=True)
        )
        # Each criterion's sentences, by what it judged: many leads send the same values.
        self._said: list[dict[tuple, str]] = [{} for _ in self.rules]
        self._verdict, self.flags = self._straight_line()

    def _straight_line(self) -> tuple[Callable, Callable]:
        """Two functions without a loop: `verdict(attributes, submitted_at, now, answered)` and
        `flags(attributes, *, submitted_at=None, now=None, answered=None)`.

        Each attribute is read once, and the criteria that judge it are asked together: a text
        judged before is one dict lookup for all of them (forms send the same few texts again
        and again); a new text is stripped, folded and read as a number once for all of them.
        A loop over criteria and a call per criterion would cost more than most tests
        themselves. Only names of our own are generated (a0, m0, c0, t0_0...), never a
        criterion's terms: those are bound to the names.
        """
        namespace: dict[str, Any] = {
            "_key": _key,
            "_number": number,
            "_blank": _blank,
            "_age_in_days": _age_in_days,
            "_answered": _answered,
            "_FREE_MAIL": FREE_MAIL_DOMAINS,
            "_SUBJECT_MAX": _SUBJECT_MAX,
            "_MEMO": _MEMO,
            "Verdict": Verdict,
            "compiled": self,
            "careful": self._careful,
            "blanks": self.blanks,
            "longest": max(map(len, self.blanks), default=0),
        }
        groups: dict[str, list[int]] = {}  # attribute → its readable criteria, in order
        ages, answers = [], []  # the criteria that judge the submission
        for i, rule in enumerate(self.rules):
            if rule.operator == "submitted_within":
                ages.append(i)
            elif rule.operator == "answered":
                answers.append(i)
            else:
                groups.setdefault(rule.attribute, [])
                if not self._unreadable[i]:
                    groups[rule.attribute].append(i)
        read = {attribute: g for g, attribute in enumerate(groups)}
        source: list[str] = []
        lines = ["        get = attributes.get"] if read else []
        value_of = {}  # criterion → the name of the value it judged
        for attribute, g in read.items():
            namespace[f"a{g}"] = attribute
            lines.append(f"        v{g} = get(a{g})")
            members = groups[attribute]
            if members:
                source += self._group_check(g, members, namespace)
                flags = "".join(f"p{i}, " for i in members)
                lines.append(f"        {flags}= m{g}.get(v{g}) or c{g}(v{g})")
        for i, rule in enumerate(self.rules):
            if i not in ages and i not in answers:
                value_of[i] = f"v{read[rule.attribute]}"
        if ages:
            lines.append("        age = _age_in_days(submitted_at, now)")
        for i in ages:
            value_of[i] = "age"
            if not self._unreadable[i]:
                namespace[f"w{i}"] = self._within(_test_of(self.rules[i]), self.rules[i])
                lines.append(f"        p{i} = bool(w{i}(age))")
        for i in answers:
            namespace[f"r{i}"] = self.rules[i]
            value_of[i] = f"s{i}"
            lines.append(f"        s{i} = _answered(r{i}, attributes, answered, blanks)")
            if not self._unreadable[i]:
                lines.append(f"        p{i} = bool(s{i})")
        for i, unreadable in enumerate(self._unreadable):
            if unreadable:
                lines.append(f"        p{i} = False")
        count = len(self.rules)
        passed = "".join(f"p{i}, " for i in range(count))
        values = ", ".join(value_of[i] for i in range(count))
        for i, points in enumerate(self._points):
            namespace[f"pt{i}"] = points
        score = " + ".join(f"pt{i} * p{i}" for i, points in enumerate(self._points) if points)
        qualified = " and ".join(
            ["score >= threshold"] + [f"p{i}" for i, m in enumerate(self._mandatory) if m]
        )
        namespace["threshold"] = self.threshold
        source += [
            "def verdict(attributes, submitted_at, now, answered):",
            "    try:",
            *(lines or ["        pass"]),
            "    except Exception:",
            "        return careful(attributes, submitted_at, now, answered)",
            f"    score = {score or '0'}",
            f"    return Verdict({qualified}, score, threshold, None, [{passed}], [{values}],"
            " compiled)",
            "def flags(attributes, *, submitted_at=None, now=None, answered=None):",
            "    try:",
            *(lines or ["        pass"]),
            "    except Exception:",
            "        return tuple(careful(attributes, submitted_at, now, answered).passed)",
            f"    return ({passed})",
        ]
        exec("\n".join(source), namespace)  # noqa: S102 - our own names only, see above
        return namespace["verdict"], namespace["flags"]

    def _group_check(self, g: int, members: list[int], namespace: dict[str, Any]) -> list[str]:
        """The source of c{g}(value): the flags of the criteria `members` (all reading the
        same attribute) for a value not in the memo m{g}; a text's are remembered."""
        if_blank = tuple(
            self.rules[i].blank_passes and self.rules[i].operator not in BLANK_IS_JUDGED
            for i in members
        )
        memo: dict[Any, tuple[bool, ...]] = {None: if_blank}  # None is always blank
        namespace[f"m{g}"], namespace[f"b{g}"] = memo, if_blank
        expressions, tests = [], []
        for i in members:
            rule = self.rules[i]
            prepare, template = _TEXT_TESTS[rule.operator]
            names = []
            for j, term in enumerate(prepare(rule.value)):
                namespace[f"t{i}_{j}"] = term
                names.append(f"t{i}_{j}")
            expressions.append(template.format(*names))
            namespace[f"x{i}"] = _test_of(rule)
            tests.append(f"bool(x{i}(value))")
        wanted = " ".join(expressions)
        derived = []
        if "folded" in wanted or "domain" in wanted:
            derived.append("            folded = text.casefold()")
        if "domain" in wanted:
            derived.append('            local, at, domain = folded.rpartition("@")')
            derived.append('            domain = domain if local and at else ""')
        if "amount" in wanted:
            derived.append("            amount = _number(text)")
        return [
            f"def c{g}(value):",
            "    if value.__class__ is str:",
            "        text = value.strip()",
            "        if not text or (len(text) <= longest and text.casefold() in blanks):",
            f"            result = b{g}",
            "        else:",
            *derived,
            f"            result = ({''.join(e + ', ' for e in expressions)})",
            f"        if len(m{g}) < _MEMO:",
            f"            m{g}[value] = result",
            "        return result",
            "    if _blank(value, blanks):",
            f"        return b{g}",
            f"    return ({''.join(t + ', ' for t in tests)})",
        ]

    @staticmethod
    def _within(test: Callable[[Any], bool], rule: Rule) -> Callable[[Any], bool]:
        if_blank = rule.blank_passes
        return lambda age: if_blank if age is None else test(age)

    def __call__(
        self,
        attributes: Mapping[str, Any],
        *,
        submitted_at: datetime | None = None,
        now: datetime | None = None,
        answered: Collection[str] | None = None,
    ) -> Verdict:
        return self._verdict(attributes, submitted_at, now, answered)

    def _outcomes(self, passed: Sequence[bool], values: Sequence[Any]) -> tuple[Outcome, ...]:
        return tuple(
            self._outcome(i, ok, value)
            for i, (ok, value) in enumerate(zip(passed, values, strict=True))
        )

    def _outcome(self, i: int, ok: bool, value: Any) -> Outcome:
        points = self._points[i] if ok else 0
        return Outcome(self.rules[i], ok, points, value, self._state(i, value))

    def _state(self, i: int, value: Any) -> str:
        if self._unreadable[i]:
            return UNREADABLE
        if self.rules[i].operator != "answered" and _blank(value, self.blanks):
            return BLANK
        return JUDGED

    def _reasons(self, passed: Sequence[bool], values: Sequence[Any]) -> tuple[str, ...]:
        """The outcomes' sentences, each distinct (criterion, value, passed) written once.

        A sentence depends on nothing else: the state (blank, unreadable) follows from the
        criterion and the value. Only values whose equal ones print alike are remembered
        (texts, whole numbers, booleans, None: 1.0 == 1 and Decimal("1.0") == 1 do not),
        up to _MEMO per criterion, as the checks remember their decisions.
        """
        texts = []
        for i, (ok, value, said) in enumerate(zip(passed, values, self._said, strict=True)):
            kind = value.__class__
            key = (ok, kind, value) if kind in _SAID_KINDS else None
            text = said.get(key) if key is not None else None
            if text is None:
                text = sentence(self.rules[i], ok, value, self._state(i, value))
                if key is not None and len(said) < _MEMO:
                    said[key] = text
            texts.append(text)
        return tuple(texts)

    def _careful(self, attributes, submitted_at, now, answered) -> Verdict:
        if not isinstance(attributes, Mapping):
            attributes = {}
        age = _age_in_days(submitted_at, now)
        outcomes = tuple(
            judge(rule, attributes, blanks=self.blanks, age=age, answered=answered)
            for rule in self.rules
        )
        score = sum(outcome.points for outcome in outcomes)
        mandatory_passed = all(outcome.passed for outcome in outcomes if outcome.mandatory)
        return Verdict(
            mandatory_passed and score >= self.threshold, score, self.threshold, outcomes
        )


def compile_agreement(
    rules: Sequence[Rule], threshold: int, *, blanks: Collection[str] = frozenset()
) -> CompiledAgreement:
    return CompiledAgreement(rules, threshold, blanks=blanks)
