"""The REST API at a million leads: p50/p95 of the leads list and of reading one lead.

    .venv/bin/python bench/api.py [--leads 1000000] [--requests 200] [--keep]

Needs PostgreSQL on 127.0.0.1:5432 (user postgres, trust auth). What one run does:
1. Drops and recreates the database `leadbridge_bench_api`, migrates it and makes the demo's
   users, form and queues (`demo_seed(leads=0)`). The developer's database is never opened.
2. Makes the leads in one INSERT ... SELECT over generate_series (spread over the stages,
   the routed-and-later ones over the four demo reps, a day apart in creation time), then
   VACUUM ANALYZE, as a production table would be.
3. Times requests through Django's whole stack (middleware, token authentication,
   throttling, DRF, the selectors, JSON; DEBUG=false, over HTTPS as production redirects to
   it) with Django's test client in this process, so the
   figures are the server's time without the network: a sales manager's list (the first
   page, a page 20 pages deep by its cursor, a stage filter), a rep's list (their own leads
   only), and reading one lead by id (random ids), `--requests` of each after a warm-up.
4. Prints p50/p95/max in ms per scenario (and the median CPU ms of this process), then
   drops the database (unless --keep).
"""

import argparse
import os
import random
import statistics
import sys
import time
from pathlib import Path

import psycopg2

ROOT = Path(__file__).resolve().parent.parent
DATABASE = "leadbridge_bench_api"
SERVER = "postgres://postgres@127.0.0.1:5432"
STAGES = ["captured", "disqualified", "qualified", "routed", "accepted", "contacted", "won"]
OWNED_FROM = 3  # STAGES[3:] have an owner
TARGET_P95_MS = 100


def admin(sql: str) -> None:
    connection = psycopg2.connect(f"{SERVER}/postgres")
    connection.autocommit = True
    with connection.cursor() as cursor:
        cursor.execute(sql)
    connection.close()


def setup_django() -> None:
    os.environ["DATABASE_URL"] = f"{SERVER}/{DATABASE}"
    os.environ["CELERY_BROKER_URL"] = ""
    os.environ["DEBUG"] = "false"
    os.environ["SECRET_KEY"] = "bench-" + os.urandom(16).hex()
    os.environ["ALLOWED_HOSTS"] = "testserver"
    os.environ["STATIC_ROOT"] = "/tmp/leadbridge-bench-api-static"  # not read: JSON only
    os.environ["API_RATE"] = "1000000/minute"
    os.environ["LOG_LEVEL"] = "WARNING"
    os.environ["EMAIL_BACKEND"] = "django.core.mail.backends.locmem.EmailBackend"
    os.environ["DJANGO_SETTINGS_MODULE"] = "portal.settings"
    sys.path.insert(0, str(ROOT))
    import django

    django.setup()


def make_leads(n: int) -> None:
    from django.db import connection

    from leads.capture.models import Form
    from leads.models import Lead
    from portal.accounts.models import User

    form = Form.objects.get()
    reps = list(
        User.objects.filter(username__startswith="rep.").order_by("pk").values_list("pk", flat=True)
    )
    special = {
        "email": "'lead' || g || '@bench.example'",
        "first_name": "'Lead'",
        "last_name": "'N' || g",
        "company": "'Acme ' || (g % 1000)",
        "campaign": "'bench-' || (g % 100)",
        "attributes": "jsonb_build_object('company_size', g % 500)",
        "stage": f"(ARRAY{STAGES!r})[1 + g % {len(STAGES)}]",
        "score": "g % 100",
        "source_form_id": str(form.pk),
        "owner_id": (
            f"CASE WHEN g % {len(STAGES)} >= {OWNED_FROM} "
            f"THEN (ARRAY{reps!r})[1 + (g / {len(STAGES)}) % {len(reps)}] END"
        ),
        "created_at": f"now() - make_interval(secs => {n} - g)",
        "updated_at": f"now() - make_interval(secs => {n} - g)",
        "stage_changed_at": f"now() - make_interval(secs => {n} - g)",
    }
    columns, values = [], []
    for field in Lead._meta.concrete_fields:
        if field.primary_key:
            continue
        columns.append(field.column)
        if field.column in special:
            values.append(special[field.column])
        elif field.null:
            values.append("NULL")
        elif field.get_internal_type() in ("CharField", "TextField", "EmailField"):
            values.append("''")
        elif field.get_internal_type() == "JSONField":
            values.append("'{}'::jsonb")
        elif field.get_internal_type() == "BooleanField":
            values.append("false")
        else:
            values.append("0")
    sql = (
        f"INSERT INTO {Lead._meta.db_table} ({', '.join(columns)}) "
        f"SELECT {', '.join(values)} FROM generate_series(1, {n}) AS g"
    )
    with connection.cursor() as cursor:
        cursor.execute(sql)
    connection.close()
    admin_db = psycopg2.connect(f"{SERVER}/{DATABASE}")
    admin_db.autocommit = True
    with admin_db.cursor() as cursor:
        cursor.execute(f"VACUUM ANALYZE {Lead._meta.db_table}")
    admin_db.close()


def timed(client, url: str, headers: dict, requests: int) -> tuple[list[float], list[float]]:
    """Wall-clock ms of each request, and this process's CPU ms (Django's share, apart from
    PostgreSQL's; on a machine busy with other work the wall clock includes waiting for a
    CPU, the CPU time does not)."""
    for _ in range(10):
        client.get(url() if callable(url) else url, headers=headers, secure=True)
    times, cpu = [], []
    for _ in range(requests):
        target = url() if callable(url) else url
        start, start_cpu = time.perf_counter(), time.process_time()
        response = client.get(target, headers=headers, secure=True)
        times.append((time.perf_counter() - start) * 1000)
        cpu.append((time.process_time() - start_cpu) * 1000)
        if response.status_code != 200:
            raise SystemExit(f"{target}: {response.status_code} {response.content[:200]!r}")
    return times, cpu


def explain(client, url: str, headers: dict, name: str) -> None:
    """Every query on leads_lead of one request, EXPLAIN ANALYZEd: its time and plan."""
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    with CaptureQueriesContext(connection) as captured:
        client.get(url, headers=headers, secure=True)
    for query in captured.captured_queries:
        if 'FROM "leads_lead"' not in query["sql"] or "COUNT(" in query["sql"].upper():
            continue
        with connection.cursor() as cursor:
            cursor.execute("EXPLAIN (ANALYZE, FORMAT JSON) " + query["sql"])
            (plan,) = cursor.fetchone()[0]
        nodes, node = [], plan["Plan"]
        while node:
            nodes.append(
                node["Node Type"] + (f" on {node['Index Name']}" if "Index Name" in node else "")
            )
            node = (node.get("Plans") or [None])[0]
        print(f"{name:<40} {plan['Execution Time']:8.2f} ms  {' > '.join(nodes)}")
    counts = [q for q in captured.captured_queries if "COUNT(" in q["sql"].upper()]
    if counts:
        print(f"{name:<40} and {len(counts)} COUNT queries")


def deep_cursor(client, headers: dict, pages: int) -> str:
    url = "/api/v1/leads/"
    for _ in range(pages):
        url = client.get(url, headers=headers, secure=True).json()["next"]
    return url.replace("https://testserver", "")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--leads", type=int, default=1_000_000)
    parser.add_argument("--requests", type=int, default=200)
    parser.add_argument("--keep", action="store_true", help="keep the database afterwards")
    args = parser.parse_args()

    admin(f"DROP DATABASE IF EXISTS {DATABASE}")
    admin(f"CREATE DATABASE {DATABASE}")
    try:
        setup_django()
        from django.core.management import call_command
        from django.test import Client

        from leads.models import Lead
        from portal.accounts.models import User
        from portal.demo.services import demo_seed
        from portal.integrations.api.services import token_create

        started = time.perf_counter()
        call_command("migrate", verbosity=0)
        demo_seed(leads=0)
        print(f"migrated and seeded in {time.perf_counter() - started:.0f} s", flush=True)
        started = time.perf_counter()
        make_leads(args.leads)
        print(f"{args.leads:,} leads made in {time.perf_counter() - started:.0f} s", flush=True)

        manager = User.objects.get(username="sales.manager")
        rep = User.objects.get(username="rep.ana")
        bearer = {
            who: {"Authorization": f"Bearer {token_create(user=user, name='bench')[1]}"}
            for who, user in (("manager", manager), ("rep", rep))
        }
        rep_ids = list(Lead.objects.filter(owner=rep).values_list("pk", flat=True)[:5000])
        top = Lead.objects.order_by("-pk").values_list("pk", flat=True).first()
        rng = random.Random(7)
        client = Client()
        scenarios = {
            "list, manager, first page": ("/api/v1/leads/", "manager"),
            "list, manager, 20 pages deep": (deep_cursor(client, bearer["manager"], 20), "manager"),
            "list, manager, stage=routed": ("/api/v1/leads/?stage=routed", "manager"),
            "list, manager, created_after": (
                "/api/v1/leads/?created_after=2026-01-01T00:00:00Z&ordering=created_at",
                "manager",
            ),
            "list, manager, stage=rejected (none)": ("/api/v1/leads/?stage=rejected", "manager"),
            "list, manager, owner": (f"/api/v1/leads/?owner={rep.pk}", "manager"),
            "list, manager, campaign": ("/api/v1/leads/?campaign=bench-7", "manager"),
            "list, manager, email": (
                lambda: f"/api/v1/leads/?email=LEAD{rng.randint(1, args.leads)}@bench.example",
                "manager",
            ),
            "list, rep (own leads)": ("/api/v1/leads/", "rep"),
            "read, manager, random id": (
                lambda: f"/api/v1/leads/{rng.randint(1, top)}/",
                "manager",
            ),
            "read, rep, own lead": (lambda: f"/api/v1/leads/{rng.choice(rep_ids)}/", "rep"),
        }
        print(f"\n{'scenario':<40} {'p50 ms':>8} {'p95 ms':>8} {'max ms':>8} {'cpu p50':>8}")
        worst = 0.0
        for name, (url, who) in scenarios.items():
            times, cpu = timed(client, url, bearer[who], args.requests)
            p95 = statistics.quantiles(times, n=20)[-1]
            worst = max(worst, p95)
            print(
                f"{name:<40} {statistics.median(times):8.1f} {p95:8.1f} {max(times):8.1f} "
                f"{statistics.median(cpu):8.1f}"
            )
        verdict = "within" if worst < TARGET_P95_MS else "OVER"
        print(f"\nworst p95 {worst:.1f} ms: {verdict} the {TARGET_P95_MS} ms target")
        print("\nThe database's part: EXPLAIN ANALYZE of each scenario's queries on leads_lead")
        for name, (url, who) in scenarios.items():
            explain(client, url() if callable(url) else url, bearer[who], name)
    finally:
        from django.db import connections

        connections.close_all()
        if not args.keep:
            admin(f"DROP DATABASE IF EXISTS {DATABASE}")


if __name__ == "__main__":
    main()
