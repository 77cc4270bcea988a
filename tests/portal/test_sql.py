"""The bulk statements' column lists come from the models."""

import pytest
from django.core.exceptions import FieldDoesNotExist

from leads.models import LeadEvent
from portal.sql import columns_sql


def test_columns_are_the_models_by_name_or_attname():
    assert columns_sql(LeadEvent, ["lead", "actor_id", "at"]) == (
        "leads_leadevent (lead_id, actor_id, at)"
    )


def test_a_name_the_model_has_not_fails_at_once():
    with pytest.raises(FieldDoesNotExist):
        columns_sql(LeadEvent, ["lead_id", "happened_at"])
