"""Two reviewers deciding on one held post at once: one decision wins, one submission is made."""

from concurrent.futures import ThreadPoolExecutor
from threading import Barrier

import pytest
from django.db import connection

from leads.capture.intake.quarantine import quarantine_discard, quarantine_release
from leads.capture.models import QuarantinedPost
from leads.models import Lead, Submission
from portal.accounts.roles import Role
from portal.errors import Conflict
from tests.factories import FormFactory, UserFactory

pytestmark = [
    pytest.mark.postgres,
    pytest.mark.django_db(transaction=True, serialized_rollback=True),
]


def test_simultaneous_releases_and_discards_of_one_post_decide_it_once():
    form = FormFactory()
    values = {"email": "ana@acme.example", "company": "Acme"}
    post = QuarantinedPost.objects.create(
        form=form,
        form_version=form.current_version,
        intake="api",
        payload=values,
        cleaned=values,
        reasons=["honeypot"],
    )
    reviewers = UserFactory.create_batch(6, role=Role.MARKETER)
    start = Barrier(6)

    def decide(n: int) -> str:
        try:
            start.wait()
            if n % 2:
                quarantine_discard(post=post, by=reviewers[n])
            else:
                quarantine_release(post=post, by=reviewers[n], why="Real")
            return "decided"
        except Conflict:
            return "conflict"
        finally:
            connection.close()

    with ThreadPoolExecutor(max_workers=6) as pool:
        outcomes = list(pool.map(decide, range(6)))

    assert sorted(outcomes) == ["conflict"] * 5 + ["decided"]
    post.refresh_from_db()
    if post.status == QuarantinedPost.Status.RELEASED:
        assert Submission.objects.get() == post.submission
        assert Lead.objects.count() == 1
    else:
        assert post.status == QuarantinedPost.Status.DISCARDED
        assert not Submission.objects.exists()
