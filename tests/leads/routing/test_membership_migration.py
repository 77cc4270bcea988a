"""routing 0008: every member of a queue then gets a spell since long before any lead, at
their weight, so fair shares over past periods count them as before."""

import pytest

from tests.factories import UserFactory
from tests.migrations import migrate, scratch_database

pytestmark = pytest.mark.django_db


def test_members_then_get_an_open_spell_since_always():
    with scratch_database():
        apps = migrate([("routing", "0007_member_caps")])
        queue = apps.get_model("routing", "Queue").objects.create(name="Inbound")
        ana, bo = UserFactory.create_batch(2)
        members = apps.get_model("routing", "QueueMember").objects
        members.create(queue_id=queue.pk, rep_id=ana.pk, position=0, weight=3)
        members.create(queue_id=queue.pk, rep_id=bo.pk, position=1)
        apps = migrate([("routing", "0008_membership_spells")])
        spells = apps.get_model("routing", "Membership").objects.order_by("rep_id")
        assert [(s.rep_id, s.weight, s.started_at.year, s.ended_at) for s in spells] == [
            (ana.pk, 3, 2000, None),
            (bo.pk, 1, 2000, None),
        ]
