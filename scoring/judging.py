"""Judging many stored leads at once: an agreement compiled once per set of placeholders.

A form declares which texts count as blank ("Select", "N/A"); the same agreement is compiled
once for each set a form (or form version) declares, then judges every lead of that form.
The forms belong to capture, which scoring never imports: their tables are read by name.
"""

import json
from collections.abc import Iterable

from django.apps import apps

from scoring import engine
from scoring.models import Agreement

# Judged on the submission: the what-if judges a lead as it was when it came in.
SUBMISSION_OPERATORS = frozenset({"submitted_within", "answered"})


def placeholders(fields) -> frozenset[str]:
    """The placeholders a published form version's fields count as blank."""
    if not isinstance(fields, list):
        return frozenset()
    return engine.blank_placeholders(
        [
            value
            for spec in fields
            if isinstance(spec, dict)
            for value in spec.get("blank_values") or []
        ]
    )


def form_placeholders() -> dict[int, frozenset[str]]:
    """Each form's placeholders, as its current published version declares them (forms are
    few: all of them are read at once)."""
    form = apps.get_model("capture", "Form")
    rows = form.objects.values_list("pk", "current_version__fields")
    return {pk: placeholders(fields) for pk, fields in rows}


def version_placeholders(version_ids: Iterable[int]) -> dict[int, frozenset[str]]:
    """Each form version's placeholders."""
    version = apps.get_model("capture", "FormVersion")
    rows = version.objects.filter(pk__in=set(version_ids)).values_list("pk", "fields")
    return {pk: placeholders(fields) for pk, fields in rows}


class Judge:
    """One agreement version, its rules read once, compiled once per set of placeholders."""

    def __init__(self, agreement: Agreement):
        self.agreement = agreement
        self.rules = tuple(agreement.rules())
        self.threshold = agreement.threshold
        self.needs_submission = any(rule.operator in SUBMISSION_OPERATORS for rule in self.rules)
        self._compiled: dict[frozenset[str], engine.CompiledAgreement] = {}

    def compiled(self, blanks: frozenset[str] = frozenset()) -> engine.CompiledAgreement:
        found = self._compiled.get(blanks)
        if found is None:
            found = self._compiled[blanks] = engine.compile_agreement(
                self.rules, self.threshold, blanks=blanks
            )
        return found

    def mandatory_and_score(self, passed: tuple[bool, ...]) -> tuple[bool, int]:
        """From the pass flags alone: whether every mandatory criterion passed, and the score."""
        mandatory = all(
            ok for ok, rule in zip(passed, self.rules, strict=True) if rule.kind == engine.MANDATORY
        )
        score = sum(
            rule.points
            for ok, rule in zip(passed, self.rules, strict=True)
            if ok and rule.kind == engine.SCORING
        )
        return mandatory, score

    def qualifies(self, passed: tuple[bool, ...]) -> bool:
        mandatory, score = self.mandatory_and_score(passed)
        return mandatory and score >= self.threshold


class Panel:
    """Several versions judging the same leads, each distinct criterion asked once per lead.

    A draft is mostly its active version with a change or two: the criteria both have (same
    attribute, operator, value and blank rule: the same pass or fail whatever their label and
    points) are judged once, and each version reads its criteria's flags from the shared row.
    """

    def __init__(self, judges: list[Judge]):
        self.judges = judges
        found: dict[tuple, int] = {}
        self.rules: list[engine.Rule] = []
        self.positions: list[tuple[int, ...]] = []  # per version: its criteria in the row
        for judge in judges:
            positions = []
            for rule in judge.rules:
                key = (rule.attribute, rule.operator, _canonical(rule.value), rule.blank_passes)
                if key not in found:
                    found[key] = len(self.rules)
                    self.rules.append(rule)
                positions.append(found[key])
            self.positions.append(tuple(positions))
        self.needs_submission = any(judge.needs_submission for judge in judges)
        self._compiled: dict[frozenset[str], engine.CompiledAgreement] = {}

    @property
    def keys(self) -> list[str]:
        """The attributes some criterion reads (in order, once each)."""
        keys = [rule.attribute for rule in self.rules if rule.operator != "submitted_within"]
        return list(dict.fromkeys(keys))

    def flags(self, blanks: frozenset[str] = frozenset()):
        """flags(attributes, created_at) → one pass flag per distinct criterion."""
        compiled = self._compiled.get(blanks)
        if compiled is None:
            compiled = self._compiled[blanks] = engine.compile_agreement(
                self.rules, 0, blanks=blanks
            )
        if self.needs_submission:
            return lambda attributes, at: compiled.flags(attributes, submitted_at=at, now=at)
        return lambda attributes, _at: compiled.flags(attributes)

    def passed(self, flags: tuple[bool, ...]) -> list[tuple[bool, ...]]:
        """Each version's pass flags, from the shared row."""
        return [tuple(flags[i] for i in positions) for positions in self.positions]

    def qualified(self, flags: tuple[bool, ...]) -> list[bool]:
        return [
            judge.qualifies(passed)
            for judge, passed in zip(self.judges, self.passed(flags), strict=True)
        ]


def _canonical(value) -> str:
    return json.dumps(value, sort_keys=True, default=repr)
