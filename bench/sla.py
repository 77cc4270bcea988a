"""The escalation step over many open leads: acting on 10,000 due leads, and nothing due.

    .venv/bin/python bench/sla.py [--leads 1000000] [--due 10000] [--batch 2000] [--profile]
        [--database NAME] [--template NAME]

Needs PostgreSQL on 127.0.0.1:5432 (user postgres, trust). Makes a scratch database
`leadbridge_bench_sla` (dropped at the end) with the demo form and agreement (working hours
every day, all day, so the run does not depend on the hour), one queue of five reps with a
manager, and `--leads` routed leads whose accept clock runs: `--due` of them past their due
time, the rest due tomorrow and later. Then it times
1. the escalation step (`leads_escalate`, `--batch` leads per transaction, as beat's
   `handoff.escalate` runs it) finding and acting on the due leads: a breach event, the next
   rep in turn, an assignment and a restarted clock each (target < 5 s for 10,000);
2. the step with nothing due: `leads_escalate` and `leads_remind` (median of 20; target
   < 20 ms), and prints the EXPLAIN (ANALYZE, BUFFERS) of its claim, which reads the partial
   index `lead_due_idx` only.
With `--template NAME` the seeded database is kept under that name (seeded once, by the
first such run) and each run starts from a copy of it: paired before/after runs in seconds
instead of a minute or more of seeding each (drop it when done:
`psql -h 127.0.0.1 -U postgres -c 'DROP DATABASE "NAME"'`).
Every figure is printed with the load average: the machine may be shared. It runs with
DEBUG on (the default) so that it can print where the due run's time went, statement by
statement; DEBUG's own cost is a few percent.
"""

from __future__ import annotations

import argparse
import cProfile
import os
import pstats
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.intake import (  # noqa: E402
    POSTGRES_SERVER,
    drop_database,
    maintenance,
    recreate_database,
)
from bench.rig import load, say  # noqa: E402

DATABASE_NAME = "leadbridge_bench_sla"
TARGET_DUE_S, TARGET_IDLE_MS = 5.0, 20.0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--leads", type=int, default=1_000_000)
    parser.add_argument("--due", type=int, default=10_000)
    parser.add_argument("--batch", type=int, default=2000)
    parser.add_argument(
        "--profile",
        action="store_true",
        help="run the due step under cProfile and print its 25 costliest functions (slower)",
    )
    parser.add_argument(
        "--database", default=DATABASE_NAME, help="the scratch database (one per checkout)"
    )
    parser.add_argument(
        "--template", default="", help="keep the seeded database as this template; runs copy it"
    )
    args = parser.parse_args(argv)
    os.environ.update(
        DATABASE_URL=f"{POSTGRES_SERVER}/{args.database}",
        DJANGO_SETTINGS_MODULE="portal.settings",
        CELERY_BROKER_URL="",
    )
    os.environ.pop("REDIS_URL", None)
    args.seeded = bool(args.template) and _exists(args.template)
    if args.seeded:
        drop_database(POSTGRES_SERVER, args.database)
        maintenance(f'CREATE DATABASE "{args.database}" TEMPLATE "{args.template}"')
    else:
        recreate_database(POSTGRES_SERVER, args.database)
    try:
        import django

        django.setup()
        from portal.celery import freeze_what_the_worker_loaded

        freeze_what_the_worker_loaded()  # as a worker process does at start
        return run(args)
    finally:
        from django.db import connections

        connections.close_all()
        drop_database(POSTGRES_SERVER, args.database)


def _exists(name: str) -> bool:
    import psycopg2

    connection = psycopg2.connect(f"{POSTGRES_SERVER}/postgres")
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1 FROM pg_database WHERE datname = %s", [name])
            return cursor.fetchone() is not None
    finally:
        connection.close()


def run(args) -> int:
    from django.core.management import call_command
    from django.db import connection, reset_queries

    if args.seeded:
        say(f"copied from the template {args.template}: its leads, not --leads/--due; {load()}")
        args.due = _due_count(connection)
    else:
        call_command("migrate", interactive=False, verbosity=0)
        queue_id, form_id = _world()
        say(f"storing {args.leads:,} open leads, {args.due:,} of them due; {load()}")
        started = time.perf_counter()
        _store_leads(connection, args.leads, args.due, queue_id, form_id)
        say(f"stored and analysed in {time.perf_counter() - started:.0f} s; {load()}")
        if args.template:
            from django.db import connections

            connections.close_all()
            maintenance(f'CREATE DATABASE "{args.template}" TEMPLATE "{args.database}"')
            say(f"kept as the template {args.template}")

    from leads.models import LeadEvent
    from leads.routing.escalation import leads_escalate, leads_remind

    reset_queries()
    profiler = cProfile.Profile() if args.profile else None
    backend = _backend_cpu(connection)
    started, cpu = time.perf_counter(), time.process_time()
    acted = 0
    if profiler:
        profiler.enable()
    while (found := leads_escalate(limit=args.batch)) > 0:
        acted += found
    if profiler:
        profiler.disable()
    due_s, cpu_s = time.perf_counter() - started, time.process_time() - cpu
    backend_s = _backend_cpu(connection) - backend
    if profiler:
        pstats.Stats(profiler).sort_stats("tottime").print_stats(25)
    statements = _by_statement(connection.queries)
    breaches = LeadEvent.objects.filter(kind=LeadEvent.Kind.SLA_BREACHED).count()
    moved = LeadEvent.objects.filter(kind=LeadEvent.Kind.REASSIGNED).count()
    print(
        f"  due      {acted:,} due leads of {args.leads:,} acted on in {due_s:.2f} s "
        f"({acted / due_s:,.0f}/s; {breaches:,} breaches, {moved:,} reassignments; "
        f"batch {args.batch}); target < {TARGET_DUE_S:.0f} s; {load()}"
    )
    waited = sum(seconds for seconds, _, _ in statements)
    _print_writes(acted, len(connection.queries), args.batch)
    print(
        f"  due      this process's CPU {cpu_s:.2f} s; waiting on PostgreSQL {waited:.2f} s "
        "(its statements, COMMIT included)"
    )
    if acted:
        print(
            f"  due      CPU per due lead: this process {cpu_s / acted * 1e6:.0f} µs, its "
            f"PostgreSQL backend {backend_s / acted * 1e6:.0f} µs (the figures a load does "
            "not inflate)"
        )

    print("  where the due run's time went, by statement (PostgreSQL's share; the rest is Python):")
    for seconds, count, head in statements[:6]:
        print(f"    {seconds:6.2f} s  {count:3d} x  {head}")

    idle = []
    for _ in range(20):
        started = time.perf_counter()
        leads_escalate(limit=args.batch)
        leads_remind(limit=args.batch)
        idle.append((time.perf_counter() - started) * 1000)
    print(
        f"  idle     nothing due: escalate + remind median {statistics.median(idle):.1f} ms, "
        f"max {max(idle):.1f} ms over 20 runs; target < {TARGET_IDLE_MS:.0f} ms; {load()}"
    )
    print("  EXPLAIN of the claim with nothing due:")
    for line in _explain(connection, args.batch):
        print(f"    {line}")
    ok = acted == args.due and due_s < TARGET_DUE_S and statistics.median(idle) < TARGET_IDLE_MS
    return 0 if ok else 1


def _backend_cpu(connection) -> float:
    """CPU seconds (user + system) of this connection's PostgreSQL backend so far, from
    /proc: the server runs on this machine."""
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_backend_pid()")
        pid = cursor.fetchone()[0]
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def _due_count(connection) -> int:
    with connection.cursor() as cursor:
        cursor.execute("SELECT count(*) FROM leads_lead WHERE due_at <= now()")
        return cursor.fetchone()[0]


def _print_writes(acted: int, round_trips: int, batch: int) -> None:
    """What the due run wrote, per due lead, and its round trips per batch."""
    from leads.models import LeadEvent
    from leads.routing.models import Assignment
    from portal.integrations.webhooks.models import Delivery
    from portal.notifications.models import Notification

    if not acted:
        return
    batches = -(-acted // batch) + 1  # and the last call, which finds none
    rows = {
        "lead events": LeadEvent.objects.exclude(kind=LeadEvent.Kind.STAGE_CHANGED).count(),
        "notifications": Notification.objects.count(),
        "assignments": Assignment.objects.count(),
        "webhook deliveries": Delivery.objects.count(),
    }
    words = ", ".join(f"{n / acted:.2f} {name}" for name, n in rows.items())
    print(
        f"  due      per due lead: 1 lead row updated, {words}; "
        f"{round_trips / batches:.1f} statements per batch ({round_trips} in {batches})"
    )


def _world() -> tuple[int, int]:
    import datetime

    from django.contrib.auth.models import Group
    from django.db import connection

    from bench.intake import make_form_and_agreement
    from leads.capture.models import Form
    from leads.routing.models import Queue, QueueMember
    from portal.accounts.models import User
    from portal.accounts.roles import Role
    from scoring.models import Agreement

    slug = make_form_and_agreement()
    # Raw: a proposed version never changes through the models (house rule 6).
    with connection.cursor() as cursor:
        cursor.execute(
            f"UPDATE {Agreement._meta.db_table} SET business_days = %s::jsonb, "
            "business_opens = %s, business_closes = %s",
            ["[0, 1, 2, 3, 4, 5, 6]", datetime.time(0), datetime.time(23, 59)],
        )
    manager = User.objects.get(username="sales_manager")
    queue = Queue.objects.create(name="Everyone", priority=1, manager=manager)
    for position in range(5):
        rep = User.objects.create(username=f"rep{position}")
        rep.groups.add(Group.objects.get(name=Role.SALES_REP.value))
        QueueMember.objects.create(queue=queue, rep=rep, position=position)
    return queue.pk, Form.objects.get(slug=slug).pk


def _store_leads(connection, count: int, due: int, queue_id: int, form_id: int) -> None:
    from leads.models import Lead

    table = Lead._meta.db_table
    with connection.cursor() as cursor:
        cursor.execute("SELECT min(rep_id), max(rep_id) FROM routing_queuemember")
        first_rep, last_rep = cursor.fetchone()
        # Due leads: minutes to hours late; the rest: due from tomorrow on, a second apart.
        cursor.execute(
            f"""
            INSERT INTO {table} (email, first_name, last_name, company, attributes, stage,
                source_form_id, campaign, owner_id, queue_id, created_at, updated_at,
                stage_changed_at, due_step, due_from, due_at, escalations)
            SELECT 'sla-' || i || '@acme.example', '', '', 'Acme', '{{}}'::jsonb, 'routed',
                %(form)s, '', %(first)s + i %% (%(last)s - %(first)s + 1), %(queue)s,
                now() - interval '1 day', now() - interval '1 day', now() - interval '1 day',
                'accept', now() - interval '1 day',
                CASE WHEN i <= %(due)s THEN now() - (i %% 600) * interval '1 minute'
                     ELSE now() + interval '1 day' + i * interval '1 second' END,
                0
            FROM generate_series(1, %(count)s) AS i
            """,
            {
                "form": form_id,
                "first": first_rep,
                "last": last_rep,
                "queue": queue_id,
                "due": due,
                "count": count,
            },
        )
        cursor.execute(f"VACUUM ANALYZE {table}")


def _by_statement(queries: list[dict]) -> list[tuple[float, int, str]]:
    """Time per kind of statement (its first words), longest first: DEBUG records each."""
    totals: dict[str, list] = {}
    for query in queries:
        head = " ".join(query["sql"].split()[:4])[:70]
        total = totals.setdefault(head, [0.0, 0])
        total[0] += float(query["time"])
        total[1] += 1
    return sorted(((t, n, head) for head, (t, n) in totals.items()), reverse=True)


def _explain(connection, batch: int) -> list[str]:
    from django.db import transaction
    from django.db.models import Q
    from django.utils import timezone

    from leads.models import Lead

    claim = (
        Lead.objects.filter(Q(), due_at__lte=timezone.now())
        .order_by("due_at")
        .select_related("owner")
        .select_for_update(skip_locked=True, of=("self",))[:batch]
    )
    with transaction.atomic(), connection.cursor() as cursor:
        sql, params = claim.query.sql_with_params()
        cursor.execute(f"EXPLAIN (ANALYZE, BUFFERS) {sql}", params)
        return [row[0] for row in cursor.fetchall()]


if __name__ == "__main__":
    sys.exit(main())
