"""An agreement in words: its criteria as clauses, the whole as one sentence, and what
changed between two versions. Plain data in, plain text out: no Django here, like the engine.
"""

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

from scoring.engine import BLANK_IS_JUDGED, MANDATORY, Rule

# How a country code ("US") is named in a clause. Plain Python here, as in the engine:
# scoring.apps gives it django-countries' English names when Django starts.
country_name: Callable[[str], str] = str


@dataclass(frozen=True)
class Terms:
    """What a version says, as plain data: enough to describe it and to compare two."""

    version: int
    summary: str
    threshold: int
    accept_within_minutes: int
    contact_within_hours: int
    rules: tuple[Rule, ...]
    business_hours: str = ""
    forms: str = ""


@dataclass(frozen=True)
class Description:
    mandatory: tuple[str, ...]
    scoring: tuple[tuple[str, int], ...]
    threshold: int
    sentence: str


@dataclass(frozen=True)
class Change:
    kind: str  # "added", "removed", "changed", or "terms" for the threshold, SLAs, summary
    title: str
    before: str = ""
    after: str = ""


def attribute_words(attribute: str) -> str:
    return "e-mail" if attribute == "email" else attribute.replace("_", " ")


def _number(value: Any) -> str:
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    return f"{value:,}" if isinstance(value, int) else str(value)


def _either(values: Any) -> str:
    items = [str(v) for v in values] if isinstance(values, list | tuple) else [str(values)]
    return items[0] if len(items) == 1 else ", ".join(items[:-1]) + " or " + items[-1]


def clause(rule: Rule) -> str:
    """What a lead must be for this criterion to pass, as a clause: "the country is ...".

    A criterion that lets a blank pass says so: "..., or it is left blank".
    """
    text = _condition(rule)
    if rule.blank_passes and rule.operator not in BLANK_IS_JUDGED:
        text += ", or it is left blank"
    return text


def _condition(rule: Rule) -> str:
    subject = f"the {attribute_words(rule.attribute)}"
    value = rule.value
    match rule.operator:
        case "present":
            return f"{subject} is given"
        case "answered":
            return f"{subject} was answered on the form"
        case "equals":
            return f"{subject} is “{value}”"
        case "not_equals":
            return f"{subject} is not “{value}”"
        case "country_in" if isinstance(value, list | tuple):
            return f"{subject} is one of {_either([country_name(code) for code in value])}"
        case "one_of" | "country_in":
            return f"{subject} is one of {_either(value)}"
        case "not_one_of":
            return f"{subject} is none of {_either(value)}"
        case "contains":
            return f"{subject} contains “{value}”"
        case "at_least":
            return f"{subject} is at least {_number(value)}"
        case "at_most":
            return f"{subject} is at most {_number(value)}"
        case "between" if isinstance(value, list | tuple) and len(value) == 2:
            return f"{subject} is between {_number(value[0])} and {_number(value[1])}"
        case "matches":
            return f"{subject} matches the pattern “{value}”"
        case "free_mail":
            return f"{subject} is at a free-mail domain (gmail.com, outlook.com and the like)"
        case "not_free_mail":
            return f"{subject} is a company address (not at a free-mail domain)"
        case "domain_in":
            return f"{subject} is at {_either(value)}"
        case "domain_not_in" if rule.attribute == "email":
            return f"the e-mail is a company address (not at {_either(value)})"
        case "domain_not_in":
            return f"{subject} is not at {_either(value)}"
        case "submitted_within":
            days = _number(value)
            return f"the lead was submitted within the last {days} day{'' if days == '1' else 's'}"
    return f"{subject} {rule.operator.replace('_', ' ')} {value}"


def describe(rules: Sequence[Rule], threshold: int) -> Description:
    mandatory = tuple(clause(rule) for rule in rules if rule.kind == MANDATORY)
    scoring = tuple((clause(rule), rule.points) for rule in rules if rule.kind != MANDATORY)
    return Description(mandatory, scoring, threshold, _sentence(mandatory, scoring, threshold))


def _sentence(mandatory: Sequence[str], scoring: Sequence[tuple[str, int]], threshold: int) -> str:
    points = ", ".join(f"{text} (+{_number(earned)})" for text, earned in scoring)
    if threshold > 0:
        score = f"it scores at least {_number(threshold)} points"
        score += f": {points}" if points else " (no criterion gives points yet)"
    else:
        score = ""
    if not mandatory:
        return f"A lead qualifies when {score}." if score else "Every lead qualifies."
    if not score:
        return "A lead qualifies when: " + "; ".join(mandatory) + "."
    return "A lead qualifies when: " + "; ".join(mandatory) + f"; and {score}."


def minutes_words(minutes: int) -> str:
    """480 → "8 hours"; 1440 → "1 day"; 90 → "1 hour 30 minutes"."""
    parts = []
    for size, unit in [(1440, "day"), (60, "hour"), (1, "minute")]:
        count, minutes = divmod(minutes, size)
        if count:
            parts.append(f"{count} {unit}{'' if count == 1 else 's'}")
    return " ".join(parts) or "0 minutes"


def hours_words(hours: int) -> str:
    """1 → "1 hour"; 24 → "24 hours": first contact is agreed in working hours, never days
    (24 working hours are three 8-hour days, not one)."""
    return f"{hours} hour{'' if hours == 1 else 's'}"


def criterion_terms(rule: Rule) -> str:
    """What a criterion asks and weighs: "the company size is at least 50 (mandatory)"."""
    weight = "mandatory" if rule.kind == MANDATORY else f"+{_number(rule.points)} points"
    return f"{clause(rule)} ({weight})"


def criterion_words(rule: Rule) -> str:
    """One criterion, whole: "Company size: the company size is at least 50 (mandatory)"."""
    return f"{rule.label}: {criterion_terms(rule)}"


def diff(before: Terms | None, after: Terms) -> list[Change]:
    """What `after` changes of `before`: the terms first, then criteria removed, changed, added.

    Criteria are paired by label, then (for a renamed one) by attribute and operator; a
    criterion that changed both is shown as removed and added.
    """
    if before is None:
        return [Change("added", criterion_words(rule)) for rule in after.rules]
    changes = [
        Change("terms", title, was, now)
        for title, was, now in [
            ("Threshold", f"{before.threshold} points", f"{after.threshold} points"),
            (
                "Accept or reject within",
                minutes_words(before.accept_within_minutes),
                minutes_words(after.accept_within_minutes),
            ),
            (
                "First contact within",
                hours_words(before.contact_within_hours),
                hours_words(after.contact_within_hours),
            ),
            ("Working hours", before.business_hours, after.business_hours),
            ("Forms it judges", before.forms, after.forms),
            ("Summary", before.summary.strip(), after.summary.strip()),
        ]
        if was != now
    ]
    pairs, removed, added = _paired(before.rules, after.rules)
    changes += [Change("removed", criterion_words(rule)) for rule in removed]
    changes += [_changed(old, new) for old, new in pairs if _words(old) != _words(new)]
    changes += [Change("added", criterion_words(rule)) for rule in added]
    return changes


def _words(rule: Rule) -> str:
    return criterion_words(rule)


def _changed(old: Rule, new: Rule) -> Change:
    """Under its label, what it asked and asks now; a renamed one says both names."""
    if old.label == new.label:
        return Change("changed", new.label, criterion_terms(old), criterion_terms(new))
    return Change("changed", new.label, criterion_words(old), criterion_words(new))


def _paired(before: Sequence[Rule], after: Sequence[Rule]):
    removed, added, pairs = list(before), list(after), []
    for same in (
        lambda rule: rule.label.strip().casefold(),
        lambda rule: (rule.attribute, rule.operator),
    ):
        for new in list(added):
            old = next((rule for rule in removed if same(rule) == same(new)), None)
            if old is not None:
                pairs.append((old, new))
                removed.remove(old)
                added.remove(new)
    order = {id(rule): i for i, rule in enumerate(after)}
    pairs.sort(key=lambda pair: order[id(pair[1])])
    return pairs, removed, added
