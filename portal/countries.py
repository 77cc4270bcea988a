"""Countries are ISO 3166-1 alpha-2 codes underneath ("US", "BR") and names on pages.

What people and other systems write is mapped to the code by django-countries (the code,
the alpha-3 or numeric code, the ISO name, its common and old names: "United States of
America", "USA", "Russia", "Turkey"), then by `ALIASES`. A name with another in brackets that
neither knows whole, as Salesforce sites' country lists write them ("USA (United States of
America)"; ISO's own "Bolivia (Plurinational State of)" is known whole), is the country both
name; when they differ or one is unknown ("Korea (North)", "Congo (Kinshasa)") it has none.
A value none of these knows has no code: callers keep it as it came and say so, never drop it.
"""

import re
from collections.abc import Iterable
from functools import lru_cache

from django.apps import apps
from django_countries import countries

# Spellings django-countries does not know (it keeps the ISO names, a few common names, and
# translations that only apply in their own language), seen in forms, CRMs and spreadsheets.
# Keys are folded (see `_folded`). Add to it only what a real import or post brought.
ALIASES = {
    "united states": "US",
    "america": "US",
    "united kingdom of great britain": "GB",
    "uk": "GB",
    "great britain": "GB",
    "britain": "GB",
    "england": "GB",
    "scotland": "GB",
    "wales": "GB",
    "brasil": "BR",
    "méxico": "MX",
    "españa": "ES",
    "deutschland": "DE",
    "perú": "PE",
    "holland": "NL",
    "the netherlands": "NL",
    "korea": "KR",
    "ivory coast": "CI",
    "uae": "AE",
}


def _folded(value: str) -> str:
    return " ".join(value.replace(".", "").split()).casefold()


# "USA (United States of America)": a name, then another in brackets.
_BRACKETED = re.compile(r"^([^()]+)\(([^()]+)\)$")


@lru_cache(maxsize=2048)
def _code_of(text: str) -> str | None:
    code = _spelled(text)
    if code is None and (bracketed := _BRACKETED.match(text.strip())):
        outside, inside = (_spelled(part) for part in bracketed.groups())
        code = outside if outside == inside else None
    return code


def _spelled(text: str) -> str | None:
    folded = _folded(text)
    if not folded:
        return None
    if len(folded) <= 3 and folded.isalnum():  # "us", "USA", "076"; "UK" is an alias below
        code = countries.alpha2(folded)
        if code:
            return code
    return countries.by_name(" ".join(text.split())) or ALIASES.get(folded)


def country_code(value: object) -> str | None:
    """The ISO 3166-1 alpha-2 code `value` stands for, or None if it cannot be mapped."""
    return _code_of(value) if isinstance(value, str) else None


def country_name(value: object) -> str:
    """A code's English name ("US": "United States of America"); anything else as it is."""
    text = "" if value is None else str(value)
    name = countries.name(text.upper()) if len(text) == 2 else ""
    return str(name) if name else text


def country_names(values: Iterable[object]) -> list[str]:
    return [country_name(value) for value in values]


def country_attributes() -> set[str]:
    """The lead attributes that hold a country: the keys of the forms' country fields, and
    "country" (the key the compatible endpoints and imports fill).

    The fields belong to capture; the model is looked up by name, so that routing and
    scoring, which never import capture, can ask too.
    """
    form_field = apps.get_model("capture", "FormField")
    keys = form_field.objects.filter(kind="country").values_list("key", flat=True).distinct()
    return {"country", *keys}


def country_keys_of(field_specs: Iterable[dict]) -> frozenset[str]:
    """The keys of these (frozen) form fields that hold a country, and "country"."""
    return frozenset({"country", *(s["key"] for s in field_specs if s.get("kind") == "country")})


def with_country_codes(attributes: dict, keys: Iterable[str]) -> dict:
    """`attributes` with the countries under `keys` as ISO codes; a value that cannot be
    mapped is kept as it came (the criteria and queue rules then do not take it)."""
    mapped = dict(attributes)
    for key in keys:
        value = mapped.get(key)
        if isinstance(value, str):
            mapped[key] = country_code(value) or value
    return mapped


# For the data migrations that turned stored country names into codes (leads 0011, scoring
# 0011, routing 0002): the historical `apps` only, so a later model change cannot break them.

# Operators whose values are compared with a country attribute's value.
COMPARED_OPERATORS = frozenset({"country_in", "one_of", "not_one_of", "equals", "not_equals"})


def historical_country_keys(apps) -> frozenset[str]:
    form_field = apps.get_model("capture", "FormField")
    form_version = apps.get_model("capture", "FormVersion")
    keys = set(form_field.objects.filter(kind="country").values_list("key", flat=True))
    for fields in form_version.objects.values_list("fields", flat=True).iterator():
        keys |= country_keys_of(fields or [])
    return frozenset({"country", *keys})


def coded(value):
    """A stored country value, or list of them, with each one that maps as its code."""
    if isinstance(value, list):
        return [coded(item) for item in value]
    return (country_code(value) or value) if isinstance(value, str) else value
