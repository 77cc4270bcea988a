"""The data migrations that turned stored country names into ISO codes (leads 0011,
scoring 0011, routing 0002): leads, criteria (also of signed versions) and queue rules are
converted by one mapping, so a lead and a criterion that named one country still meet."""

import pytest
from django.utils import timezone

from tests.migrations import migrate, scratch_database

pytestmark = pytest.mark.django_db

BEFORE = [
    # Forms as they were then too: a later column (field aliases) has no default in the table.
    ("capture", "0012_quarantined_post_problems"),
    ("leads", "0009_owner_and_queue_indexes_only_when_set"),
    ("scoring", "0010_criterion_results_checked_by_their_writer"),
    ("routing", "0001_initial"),
]
AFTER = [
    ("leads", "0011_countries_as_iso_codes"),
    ("scoring", "0011_countries_as_iso_codes"),
    ("routing", "0002_countries_as_iso_codes"),
]


def test_stored_country_names_become_codes_and_the_rest_stays():
    with scratch_database():
        apps = migrate(BEFORE)
        form = apps.get_model("capture", "Form").objects.create(name="Old", slug="old")
        apps.get_model("capture", "FormField").objects.create(
            form=form, key="pais", label="País", kind="country"
        )
        lead = apps.get_model("leads", "Lead").objects.create(
            email="jo@acme.example",
            source_form=form,
            attributes={"country": "United States", "pais": "Brasil", "city": "Brasil", "x": 1},
        )
        odd = apps.get_model("leads", "Lead").objects.create(
            email="al@acme.example", source_form=form, attributes={"country": "Narnia"}
        )
        scope = apps.get_model("scoring", "AgreementScope").objects.create(name="Main")
        signed = apps.get_model("scoring", "Agreement").objects.create(
            version=1, scope=scope, proposed_at=timezone.now(), activated_at=timezone.now()
        )
        criterion = apps.get_model("scoring", "Criterion")
        territory = criterion.objects.create(
            agreement=signed,
            label="Territory",
            attribute="country",
            operator="one_of",
            value=["Brazil", "United States"],
        )
        listed = criterion.objects.create(
            agreement=signed,
            label="Listed",
            attribute="pais",
            operator="country_in",
            value=["United States of America", "Narnia"],
        )
        city = criterion.objects.create(
            agreement=signed, label="City", attribute="city", operator="equals", value="Brasil"
        )
        queue = apps.get_model("routing", "Queue").objects.create(
            name="Brazil", match_attribute="country", match_values=["Brazil", "USA"]
        )
        apps = migrate(AFTER)
        leads = apps.get_model("leads", "Lead").objects
        assert leads.get(pk=lead.pk).attributes == {
            "country": "US",
            "pais": "BR",
            "city": "Brasil",  # not a country attribute
            "x": 1,
        }
        assert leads.get(pk=odd.pk).attributes == {"country": "Narnia"}  # kept, not dropped
        criteria = apps.get_model("scoring", "Criterion").objects
        assert criteria.get(pk=territory.pk).value == ["BR", "US"]
        assert criteria.get(pk=listed.pk).value == ["US", "Narnia"]
        assert criteria.get(pk=city.pk).value == "Brasil"
        assert apps.get_model("routing", "Queue").objects.get(pk=queue.pk).match_values == [
            "BR",
            "US",
        ]
