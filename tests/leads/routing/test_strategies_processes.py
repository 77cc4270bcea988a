"""Mixed strategies under real processes on PostgreSQL: 8 workers route 5,000 leads of 10
queues and 50 reps at once, as the handoff's workers do (claim with SKIP LOCKED, route the
batch). Each lead is assigned once, no cap (a queue's or a rep's own) is passed, round-robin
counts stay within 1. ROUTING_PROCESS_LEADS sets another size (a multiple of 10).
"""

import multiprocessing
import os
from collections import Counter, defaultdict

import pytest
from django.db import connections, transaction

from leads.handoff.services import leads_claim_for_routing
from leads.models import Lead, Stage
from leads.routing.models import Assignment, Queue, QueueMember
from leads.routing.services import leads_route
from portal.accounts.roles import Role
from tests.factories import FormFactory, LeadFactory, UserFactory, one_of, queue_with_reps

pytestmark = [
    pytest.mark.postgres,
    pytest.mark.django_db(transaction=True, serialized_rollback=True),
    pytest.mark.filterwarnings("ignore:This process .* is multi-threaded:DeprecationWarning"),
]

WORKERS = 8
LEADS = int(os.environ.get("ROUTING_PROCESS_LEADS", "5000"))
STRATEGIES = [Queue.Strategy.ROUND_ROBIN, Queue.Strategy.WEIGHTED, Queue.Strategy.LEAST_LOADED]
CAP = 3  # open leads per rep in the capped queues
# Reps' own caps (position in the queue: open leads, leads a day) in the capped queues.
OWN_CAPS = {4: {0: (5, None), 1: (None, 2)}, 7: {0: (1, None), 3: (6, 4)}}


def worker(start) -> None:
    """A handoff worker process: claims batches of due leads and routes them until none."""
    code = 0
    try:
        start.wait()
        while True:
            with transaction.atomic():
                leads = leads_claim_for_routing(limit=25)
                if not leads:
                    break
                leads_route(leads=leads)
                # What no rep could take waits; not claimed again in this run.
                Lead.objects.filter(
                    pk__in=[lead.pk for lead in leads], stage=Stage.QUALIFIED
                ).update(route_due_at="2999-01-01T00:00Z")
    except Exception:
        import traceback

        traceback.print_exc()
        code = 1
    finally:
        connections.close_all()
        os._exit(code)


def test_eight_processes_route_mixed_strategies_each_lead_once_within_caps():
    reps = UserFactory.create_batch(50, role=Role.SALES_REP)
    queues = []
    for i in range(10):
        members = reps[i * 5 : i * 5 + 5]
        strategy = STRATEGIES[i % 3]
        capped = i in (4, 7)  # one least-loaded queue, one round robin
        queue = queue_with_reps(
            *members,
            name=f"Q{i}",
            priority=i,
            strategy=strategy,
            conditions=one_of("bucket", [str(i)]) if i < 9 else [],
            capacity_per_rep=CAP if capped else None,
        )
        if strategy == Queue.Strategy.WEIGHTED:
            for weight, member in enumerate(queue.members.order_by("position"), start=1):
                member.weight = weight
                member.save(update_fields=["weight"])
        for position, (open_cap, daily_cap) in OWN_CAPS.get(i, {}).items():
            QueueMember.objects.filter(queue=queue, position=position).update(
                open_cap=open_cap, daily_cap=daily_cap
            )
        queues.append(queue)
    form = FormFactory()
    Lead.objects.bulk_create(
        LeadFactory.build(
            source_form=form, stage=Stage.QUALIFIED, attributes={"bucket": str(n % 10)}
        )
        for n in range(LEADS)
    )
    connections.close_all()

    context = multiprocessing.get_context("fork")
    start = context.Barrier(WORKERS)
    processes = [context.Process(target=worker, args=(start,)) for _ in range(WORKERS)]
    for process in processes:
        process.start()
    for process in processes:
        process.join(timeout=600)
    assert [p.exitcode for p in processes] == [0] * WORKERS

    per_lead = Counter(Assignment.objects.values_list("lead_id", flat=True))
    assert set(per_lead.values()) == {1}  # each routed lead assigned once
    routed = Lead.objects.filter(stage=Stage.ROUTED).count()
    waiting = Lead.objects.filter(stage=Stage.QUALIFIED)
    assert routed == len(per_lead)
    assert routed + waiting.count() == LEADS
    # What the capped queues had no room for went on to the catch-all: nothing waits.
    assert waiting.count() == 0

    def room(member):  # nobody closes a lead, so a rep takes up to the lower of their caps
        return min(
            c
            for c in (member.max_open(member.queue), member.max_per_day(member.queue))
            if c is not None
        )

    capped = [q for q in queues if q.capacity_per_rep]
    capacity = {q.pk: sum(room(m) for m in q.members.all()) for q in capped}
    overflow = sum(LEADS // 10 - capacity[q.pk] for q in capped)

    counts = defaultdict(Counter)
    for queue_id, rep_id in Assignment.objects.values_list("queue_id", "rep_id"):
        counts[queue_id][rep_id] += 1
    for queue in queues:
        members = list(queue.members.select_related("queue").order_by("position"))
        got = [counts[queue.pk][m.rep_id] for m in members]
        expected_total = LEADS // 10 + (overflow if queue.name == "Q9" else 0)
        if queue.capacity_per_rep:
            expected_total = capacity[queue.pk]
        assert sum(got) == expected_total, queue.name
        if queue.capacity_per_rep:
            # Never past a cap: each rep got exactly their room, their own caps or the queue's.
            assert got == [room(m) for m in members], (queue.name, got)
        elif queue.strategy == Queue.Strategy.WEIGHTED:
            total = sum(got)
            expected = [total * w / 15 for w in range(1, 6)]
            assert all(abs(g - e) <= 1 for g, e in zip(got, expected, strict=True)), got
        else:  # round robin and least loaded (nobody closes a lead): turns within 1
            assert max(got) - min(got) <= 1, (queue.name, got)
    passes = QueueMember.objects.filter(queue=queues[1]).values_list("stride_pass", flat=True)
    assert max(passes) - min(passes) <= 1
