"""Countries: ISO codes underneath, mapped from the spellings people and systems write."""

import pytest

from portal.countries import coded, country_code, country_name, with_country_codes


@pytest.mark.parametrize(
    "written, code",
    [
        ("United States of America", "US"),
        ("United States", "US"),
        ("USA", "US"),
        ("u.s.a.", "US"),
        ("us", "US"),
        ("Brasil", "BR"),
        (" brazil ", "BR"),
        ("BRA", "BR"),
        ("UK", "GB"),
        ("United Kingdom", "GB"),
        ("Turkey", "TR"),
        ("Russia", "RU"),
        ("USA (United States of America)", "US"),  # a Salesforce site's country list
        ("Brazil (Brasil)", "BR"),
        ("Bolivia (Plurinational State of)", "BO"),  # ISO's own name, brackets and all
    ],
)
def test_common_spellings_map_to_the_iso_code(written, code):
    assert country_code(written) == code


# Bracketed names that disagree, or name a place that is no country, say which is not known.
@pytest.mark.parametrize(
    "written",
    ["Narnia", "", "   ", None, 42, "Korea (North)", "Congo (Kinshasa)", "USA (Brazil)", "()"],
)
def test_what_is_no_country_has_no_code(written):
    assert country_code(written) is None


def test_codes_are_shown_by_name_and_anything_else_as_it_is():
    assert country_name("US") == "United States of America"
    assert country_name("Narnia") == "Narnia"


def test_only_the_country_keys_are_mapped_and_an_unknown_value_is_kept():
    attributes = {"country": "USA", "origin": "Brasil", "home": "Narnia"}
    assert with_country_codes(attributes, ["country", "home"]) == {
        "country": "US",
        "origin": "Brasil",
        "home": "Narnia",
    }
    assert coded(["Brazil", "Narnia", 3]) == ["BR", "Narnia", 3]
