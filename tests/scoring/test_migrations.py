"""Agreements made when first contact was agreed in minutes read it in hours after."""

import pytest

from tests.migrations import migrate, scratch_database

pytestmark = pytest.mark.django_db

MINUTES = [("scoring", "0007_rescore_run_progress")]
HOURS = [("scoring", "0008_agreement_first_contact_in_hours")]


def test_first_contact_minutes_become_whole_hours_rounded_up_and_back():
    with scratch_database():
        apps = migrate(MINUTES)
        agreement = apps.get_model("scoring", "Agreement")
        scope = apps.get_model("scoring", "AgreementScope").objects.create(name="Minutes")
        criterion = apps.get_model("scoring", "Criterion")
        for version, minutes in enumerate([1440, 600, 90, 1], start=1):
            made = agreement.objects.create(
                version=version, scope=scope, contact_within_minutes=minutes
            )
            # Rows that refer to it: on PostgreSQL, changing a column in the transaction that
            # updated them fails ("pending trigger events").
            criterion.objects.create(
                agreement=made,
                label="Size",
                attribute="company_size",
                operator="at_least",
                value=10,
            )
        apps = migrate(HOURS)
        hours = apps.get_model("scoring", "Agreement").objects.order_by("version")
        assert list(hours.values_list("contact_within_hours", flat=True)) == [24, 10, 2, 1]
        apps = migrate(MINUTES)
        minutes = apps.get_model("scoring", "Agreement").objects.order_by("version")
        assert list(minutes.values_list("contact_within_minutes", flat=True)) == [
            1440,
            600,
            120,
            60,
        ]
