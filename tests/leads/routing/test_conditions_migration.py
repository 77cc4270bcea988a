"""routing 0004: each one-attribute queue rule becomes one condition of the engine's, and a
queue takes the same leads after it as before."""

import pytest

from leads.routing.rules import QueueRule
from tests.migrations import migrate, scratch_database

pytestmark = pytest.mark.django_db


def test_one_attribute_rules_become_conditions_and_back():
    with scratch_database():
        apps = migrate([("routing", "0003_escalation_ladder")])
        queues = apps.get_model("routing", "Queue").objects
        brazil = queues.create(name="Brazil", match_attribute="country", match_values=["BR", "PT"])
        trial = queues.create(name="Trial", match_attribute="plan", match_values=["Trial"])
        rest = queues.create(name="Rest", priority=999)
        apps = migrate([("routing", "0004_queue_conditions")])
        queues = apps.get_model("routing", "Queue").objects
        assert queues.get(pk=brazil.pk).conditions == [
            {
                "attribute": "country",
                "operator": "country_in",
                "value": ["BR", "PT"],
                "blank_passes": False,
            }
        ]
        plan = queues.get(pk=trial.pk).conditions
        assert plan[0]["operator"] == "one_of"
        assert QueueRule(plan).takes({"plan": "trial"})  # without case, as before
        assert not QueueRule(plan).takes({"plan": ""})
        assert queues.get(pk=rest.pk).conditions == []
        apps = migrate([("routing", "0003_escalation_ladder")])
        queues = apps.get_model("routing", "Queue").objects
        assert queues.get(pk=brazil.pk).match_values == ["BR", "PT"]
        assert queues.get(pk=trial.pk).match_attribute == "plan"
