from django import template

from scoring.explain import hours_words as _hours_words
from scoring.explain import minutes_words as _minutes_words

register = template.Library()


@register.filter
def minutes_words(minutes: int) -> str:
    return _minutes_words(minutes)


@register.filter
def hours_words(hours: int) -> str:
    return _hours_words(hours)


@register.filter
def percent(share: float | None) -> str:
    """0.755 -> "76 %"; None (nothing to divide by) -> "—"."""
    return "—" if share is None else f"{share * 100:.0f} %"
