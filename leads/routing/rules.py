"""A queue's rule: conditions on lead attributes, judged by the agreement's engine.

One engine decides what a lead is (agreement criteria) and where it goes (queue rules): the
same operators, the same reading of numbers, lists and countries, the same blank semantics
(a blank fails a condition unless the condition lets a blank pass). A queue's conditions are
stored as plain dicts (`{"attribute", "operator", "value", "blank_passes"}`) and turned into
the engine's mandatory criteria with no points and a threshold of 0, so a queue takes a lead
exactly when an agreement with those criteria would qualify it. No conditions: a catch-all.

Plain Python apart from the engine (which imports nothing of ours).
"""

from collections.abc import Mapping, Sequence
from dataclasses import replace
from functools import lru_cache
from typing import Any

from scoring import engine

# Routing also reads these columns of the lead, under these names (an attribute a form or an
# import sent under the same name gives way to them).
LEAD_COLUMNS = ("form", "form_name", "campaign", "score")


def condition_rules(conditions: Sequence[Mapping[str, Any]]) -> tuple[engine.Rule, ...]:
    return tuple(
        engine.Rule(
            id=i,
            kind=engine.MANDATORY,
            attribute=str(c.get("attribute", "")),
            operator=str(c.get("operator", "")),
            value=c.get("value"),
            points=0,
            label=condition_words(c),
            blank_passes=bool(c.get("blank_passes")),
        )
        for i, c in enumerate(conditions)
    )


def condition_words(condition: Mapping[str, Any]) -> str:
    """“country is one of BR, PT”: a condition as the queue page and the explanations say it."""
    operator = str(condition.get("operator", ""))
    words = engine.OPERATORS.get(operator, (None, operator))[1]
    value = condition.get("value")
    shown = ", ".join(map(str, value)) if isinstance(value, list | tuple) else value
    subject = str(condition.get("attribute", "")).replace("_", " ")
    # "country is one of" already names a country attribute: not "country country is...".
    text = words if words.startswith(subject + " ") else f"{subject} {words}"
    if shown not in (None, ""):
        text += f" {shown}"
    if condition.get("blank_passes"):
        text += " (or blank)"
    return text


def _frozen(conditions: Sequence[Mapping[str, Any]]) -> tuple:
    return tuple(
        (
            str(c.get("attribute", "")),
            str(c.get("operator", "")),
            repr(c.get("value")),
            bool(c.get("blank_passes")),
        )
        for c in conditions
    )


class _Said:
    """Conditions as a cache key: equal when they say the same (`_frozen`), whatever lists
    or dicts hold them, so `lru_cache` compiles once per distinct set, from the first seen."""

    __slots__ = ("_hash", "conditions", "key")

    def __init__(self, conditions, key: tuple):
        self.conditions, self.key, self._hash = conditions, key, hash(key)

    def __eq__(self, other) -> bool:
        return isinstance(other, _Said) and self.key == other.key

    def __hash__(self) -> int:
        return self._hash


class QueueRule:
    """A queue's conditions compiled once: `rule.takes(attributes)`, `rule.why_not(...)`."""

    def __init__(self, conditions: Sequence[Mapping[str, Any]]):
        self.rules = condition_rules(conditions)
        self._compiled = engine.compile_agreement(self.rules, 0) if self.rules else None

    @property
    def catch_all(self) -> bool:
        return not self.rules

    def takes(self, attributes: Mapping[str, Any]) -> bool:
        if self._compiled is None:
            return True
        return all(self._compiled.flags(attributes))

    def failed(self, attributes: Mapping[str, Any]) -> tuple[str, ...]:
        """The conditions the lead fails, as the queue page says them; () when it takes it.
        From the compiled flags alone, cheap enough to say for every queue passed over."""
        if self._compiled is None:
            return ()
        flags = self._compiled.flags(attributes)
        return tuple(rule.label for rule, ok in zip(self.rules, flags, strict=True) if not ok)

    def why_not(self, attributes: Mapping[str, Any]) -> str:
        """The engine's sentences for the conditions the lead fails; "" when it takes it."""
        verdict = engine.evaluate(attributes, self.rules, 0)
        return " ".join(o.reason for o in verdict.outcomes if not o.passed)


def queue_rule(conditions: Sequence[Mapping[str, Any]]) -> QueueRule:
    """The compiled rule of these conditions, compiled once per distinct set."""
    conditions = conditions or ()
    return _queue_rule(_Said(conditions, _frozen(conditions)))


@lru_cache(maxsize=512)
def _queue_rule(said: _Said) -> QueueRule:
    return QueueRule(said.conditions)


class Rulebook:
    """The conditions of queues tried in order, compiled into one of the engine's functions:
    `book.failed(attributes)` is, per queue, the conditions the lead fails (() when the queue
    takes it), from one call for every queue instead of one per queue tried.

    Each condition is the engine's mandatory criterion, as in `QueueRule`: the same flags, so
    the same decisions. The engine reads each attribute once for every condition on it (the
    e-mail address once for ten queues' patterns), and the per-queue tuples of failed
    conditions are made once per distinct set of flags: a batch's leads share a few.
    """

    def __init__(self, conditions_in_order: Sequence[Sequence[Mapping[str, Any]]]):
        rules, spans = [], []
        for conditions in conditions_in_order:
            start = len(rules)
            own = condition_rules(conditions or ())
            rules += (replace(rule, id=start + rule.id) for rule in own)
            spans.append((start, len(rules)))
        self._labels = tuple(rule.label for rule in rules)
        self._spans = tuple(spans)
        self._flags = engine.compile_agreement(rules, 0).flags if rules else None
        self._none_failed = tuple(() for _ in spans)
        self._by_flags: dict[tuple, tuple[tuple[str, ...], ...]] = {}

    def failed(self, attributes: Mapping[str, Any]) -> tuple[tuple[str, ...], ...]:
        if self._flags is None:
            return self._none_failed
        flags = self._flags(attributes)
        failed = self._by_flags.get(flags)
        if failed is None:
            labels = self._labels
            failed = tuple(
                tuple(labels[i] for i in range(start, end) if not flags[i])
                for start, end in self._spans
            )
            if len(self._by_flags) < _BOOK_MEMO:
                self._by_flags[flags] = failed
        return failed


_BOOK_MEMO = 4096  # distinct sets of flags a rulebook remembers the failed conditions of


def rulebook(conditions_in_order: Sequence[Sequence[Mapping[str, Any]]]) -> Rulebook:
    """The compiled rulebook of these queues' conditions, in this order: compiled once per
    distinct configuration (a queue saved with other conditions, a queue added, removed or
    moved in the order is another key), not once per batch."""
    key = tuple(_frozen(conditions or ()) for conditions in conditions_in_order)
    return _rulebook(_Said(conditions_in_order, key))


@lru_cache(maxsize=64)
def _rulebook(said: _Said) -> Rulebook:
    return Rulebook(said.conditions)


def routing_attributes(
    attributes: Mapping[str, Any], *, form: str = "", campaign: str = "", score: Any = None
) -> dict[str, Any]:
    """What a queue rule reads of a lead: its attributes and the lead's own columns."""
    values = dict(attributes) if isinstance(attributes, Mapping) else {}
    values.update(form=form, campaign=campaign, score=score)
    return values
