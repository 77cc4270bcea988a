from django import template

from scoring.explain import minutes_words as _minutes_words

register = template.Library()


@register.filter
def minutes_words(minutes: int) -> str:
    return _minutes_words(minutes)
