"""Judging many stored leads at once: an agreement compiled once per set of placeholders.

A form declares which texts count as blank ("Select", "N/A"); the same agreement is compiled
once for each set a form (or form version) declares, then judges every lead of that form.
The forms belong to capture, which scoring never imports: their tables are read by name.
"""

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
