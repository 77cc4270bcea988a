"""Field aliases: the names HubSpot and Salesforce sites post under, and the form keys they fill.

Plain data and functions (no Django): a form keeps its own alias map (`Form.field_aliases`,
preset with PRESET_ALIASES and edited by the marketer on the form's settings page), and the
compatible endpoints rename a posted name through it when the form has no field of that name.
"""

import re
from collections.abc import Mapping
from typing import Any

# The lead's own columns: an alias to one of these fills the lead's name or company even when
# the form does not ask for it (the value is then kept as a field the form does not ask for).
LEAD_NAME_KEYS = ("first_name", "last_name", "company")

# HubSpot's default contact properties and Salesforce Web-to-Lead's standard fields, as the
# form keys (lead attributes) they fill.
PRESET_ALIASES: dict[str, str] = {
    # HubSpot
    "firstname": "first_name",
    "lastname": "last_name",
    "email": "email",
    "phone": "phone",
    "mobilephone": "phone",
    "company": "company",
    "jobtitle": "job_title",
    "numemployees": "company_size",
    "industry": "industry",
    "website": "website",
    "city": "city",
    "state": "state",
    "zip": "zip",
    "country": "country",
    "message": "description",
    # Salesforce Web-to-Lead
    "first_name": "first_name",
    "last_name": "last_name",
    "title": "job_title",
    "employees": "company_size",
    "mobile": "phone",
    "URL": "website",
    "description": "description",
    "lead_source": "lead_source",
    "Campaign_ID": "campaign_id",
}

MAX_ALIASES = 200
FORM_KEY = re.compile(r"^[-a-zA-Z0-9_]+$")  # a SlugField's value


def preset_aliases() -> dict[str, str]:
    """A new form's aliases (a callable default: each form gets its own copy)."""
    return dict(PRESET_ALIASES)


def aliased_name(name: str, known: Mapping[str, Any], aliases: Mapping[str, str]) -> str:
    """The form key a posted `name` fills: itself when the form has that field, else its
    alias's target (when there is one), else itself."""
    if name in known:
        return name
    return aliases.get(name) or name


def accepts(name: str, known: Mapping[str, Any]) -> bool:
    """Whether a posted (already aliased) name is a field of the form or a lead column."""
    return name in known or name in LEAD_NAME_KEYS


def lead_names(payload: Mapping[str, Any], cleaned: Mapping[str, Any]) -> dict[str, Any]:
    """`cleaned` with the lead's name and company from the payload where the form does not
    ask for them (a site posting `firstname` to a form without a first-name field)."""
    extra = {
        key: value.strip()
        for key in LEAD_NAME_KEYS
        if key not in cleaned and isinstance(value := payload.get(key), str) and value.strip()
    }
    return {**cleaned, **extra} if extra else dict(cleaned)


def aliases_as_text(aliases: Mapping[str, str]) -> str:
    return "\n".join(f"{alias} = {key}" for alias, key in aliases.items())


def aliases_from_text(text: str) -> tuple[dict[str, str], list[str]]:
    """The aliases written one a line as `posted name = form key`, and a sentence per line
    that is not one."""
    aliases: dict[str, str] = {}
    problems = []
    for number, line in enumerate(text.splitlines(), start=1):
        line = line.strip()
        if not line or line.startswith("#"):
            continue
        alias, equals, key = (part.strip() for part in line.partition("="))
        if not equals or not alias or not key:
            problems.append(
                f"Line {number}: write it as posted name = form key, e.g. firstname = first_name."
            )
        elif len(alias) > 100 or not alias.isprintable():
            problems.append(f"Line {number}: the posted name is too long or not printable.")
        elif len(key) > 64 or not FORM_KEY.match(key):
            problems.append(
                f"Line {number}: {key[:64]!r} is not a form key (letters, digits, - and _)."
            )
        else:
            aliases[alias] = key
    if len(aliases) > MAX_ALIASES:
        problems.append(f"Write at most {MAX_ALIASES} aliases.")
    return aliases, problems
