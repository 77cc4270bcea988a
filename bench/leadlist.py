"""The inbox list as a sales manager sees it, over a copy of the dashboard bench's 1,000,000
leads: every tab, pages 2 and 40 (the last before the count cap), each filter and a rare queue.

    .venv/bin/python bench/leadlist.py [--runs 10] [--keep] [--reuse] [--explain PAGE]

Needs `leadbridge_bench_dashboard` (bench/dashboard.py --keep). Copies it to
`leadbridge_bench_leadlist` (`BENCH_LEADLIST_DATABASE`; never writes to the dashboard's own;
dropped at the end unless `--keep`, `--reuse` times a kept copy), migrates the copy, moves
2,000 closed leads and 3 open ones to a queue of their own ("Rare": a filter with few leads
in the tab), VACUUM ANALYZE.
Then each page `/leads/?...` through Django's test client as `sales_manager`, warm (one
untimed run, then `--runs`): median and p95 wall ms, CPU ms a request (this process and its
PostgreSQL backend), the queries a page makes and the sum of their execution times by
EXPLAIN ANALYZE (what the load does not inflate much). Target: p95 < 300 ms a page.
`--explain PAGE` prints EXPLAIN (ANALYZE, BUFFERS) of each of that page's queries.
"""

from __future__ import annotations

import argparse
import json
import os
import secrets
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.dashboard import DATABASE_NAME as SOURCE_DATABASE  # noqa: E402
from bench.dashboard import _timed  # noqa: E402
from bench.intake import POSTGRES_SERVER, drop_database, maintenance  # noqa: E402
from bench.rig import load, say  # noqa: E402

DATABASE_NAME = os.environ.get("BENCH_LEADLIST_DATABASE", "leadbridge_bench_leadlist")
TARGET_PAGE_MS = 300.0
RARE_CLOSED, RARE_OPEN = 2_000, 3


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--runs", type=int, default=10)
    parser.add_argument("--keep", action="store_true", help="keep the copy afterwards")
    parser.add_argument("--reuse", action="store_true", help="time a kept copy")
    parser.add_argument("--explain", default="", help="EXPLAIN ANALYZE this page's queries")
    args = parser.parse_args(argv)
    os.environ.update(
        DATABASE_URL=f"{POSTGRES_SERVER}/{DATABASE_NAME}",
        DJANGO_SETTINGS_MODULE="portal.settings",
        CELERY_BROKER_URL="",
        DEBUG="false",
        SECRET_KEY=os.environ.get("SECRET_KEY") or secrets.token_urlsafe(40),
        SECURE_SSL_REDIRECT="false",
    )
    os.environ.pop("REDIS_URL", None)
    if not args.reuse:
        drop_database(POSTGRES_SERVER, DATABASE_NAME)
        _copy_dashboard_database()
    try:
        import django

        django.setup()
        return run(args)
    finally:
        from django.db import connections

        connections.close_all()
        if not args.keep:
            drop_database(POSTGRES_SERVER, DATABASE_NAME)


def _copy_dashboard_database(tries: int = 10) -> None:
    """A template is copied only while nobody is connected to it: try again a few times."""
    for attempt in range(tries):
        try:
            maintenance(
                f'CREATE DATABASE "{DATABASE_NAME}" TEMPLATE "{SOURCE_DATABASE}"', POSTGRES_SERVER
            )
            return
        except Exception as error:
            if "being accessed by other users" not in str(error) or attempt == tries - 1:
                raise
            time.sleep(3)


def run(args) -> int:
    from django.core.management import call_command
    from django.db import connection

    call_command("migrate", interactive=False, verbosity=0)
    if _rare_queue() or not args.reuse:
        with connection.cursor() as cursor:
            cursor.execute("VACUUM ANALYZE")
    with connection.cursor() as cursor:
        cursor.execute("SELECT count(*) FROM leads_lead")
        say(f"{cursor.fetchone()[0]:,} leads; {load()}")
    pages = _pages()
    if args.explain:
        _explain(pages[args.explain])
        return 0
    return _time_all(pages, args.runs)


def _rare_queue() -> bool:
    """A queue with few leads, most of them closed: the filter that once walked every open
    lead (docs/inbox.md). False if the copy has it already."""
    from leads.models import Lead, Stage
    from leads.routing.models import Queue

    rare, made = Queue.objects.get_or_create(name="Rare", defaults={"is_active": False})
    if not made:
        return False
    for stage, n in ((Stage.WON, RARE_CLOSED), (Stage.ACCEPTED, RARE_OPEN)):
        ids = Lead.objects.filter(stage=stage).order_by("pk").values_list("pk", flat=True)[:n]
        Lead.objects.filter(pk__in=list(ids)).update(queue=rare)
    return True


def _pages() -> dict[str, str]:
    """Page name: its query string."""
    from leads.capture.models import Form
    from leads.routing.models import Queue

    queue = Queue.objects.exclude(name="Rare").order_by("pk").first().pk
    rare = Queue.objects.get(name="Rare").pk
    form = Form.objects.order_by("pk").first().pk
    pages = {
        "needs_action": "",
        "needs_action p2": "page=2",
        "needs_action p40": "page=40",
    }
    for tab in ("rejected", "won", "lost", "nurture", "all"):
        pages[tab] = f"tab={tab}"
    pages |= {
        "all p2": "tab=all&page=2",
        "all p40": "tab=all&page=40",
        "needs_action queue": f"queue={queue}",
        "needs_action form": f"form={form}",
        "needs_action overdue": "due=overdue",
        "needs_action due_soon": "due=due_soon",
        "needs_action stage": "stage=contacted",
        "needs_action rare queue": f"queue={rare}",
        "all queue": f"tab=all&queue={queue}",
        "all form": f"tab=all&form={form}",
        "all stage": "tab=all&stage=won",
        "all rare queue": f"tab=all&queue={rare}",
        "all rare queue won": f"tab=all&queue={rare}&stage=won",
    }
    return pages


def _client():
    from django.conf import settings
    from django.test import Client
    from django.test.utils import setup_test_environment

    from portal.accounts.models import User

    setup_test_environment()
    # Production's settings but for the static files' manifest (no collectstatic here).
    storage = {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"}
    settings.STORAGES = {**settings.STORAGES, "staticfiles": storage}
    client = Client()
    client.force_login(User.objects.get(username="sales_manager"))
    return client


def _page_queries(client, query: str) -> list[tuple[str, tuple]]:
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    with CaptureQueriesContext(connection) as captured:
        response = client.get(f"/leads/?{query}")
    assert response.status_code == 200, response.status_code
    return [(q["sql"], ()) for q in captured.captured_queries if q["sql"].startswith("SELECT")]


def _executed_ms(queries) -> tuple[float, float]:
    """(the page's queries' execution time by EXPLAIN ANALYZE, the slowest one's), in ms."""
    from django.db import connection

    times = []
    with connection.cursor() as cursor:
        for sql, params in queries:
            cursor.execute("EXPLAIN (ANALYZE, FORMAT JSON) " + sql, params)
            plan = cursor.fetchone()[0]
            plan = json.loads(plan) if isinstance(plan, str) else plan
            times.append(plan[0]["Execution Time"])
    return sum(times), max(times)


def _time_all(pages: dict[str, str], runs: int) -> int:
    client = _client()
    ok = True
    for name, query in pages.items():

        def page(query=query):
            response = client.get(f"/leads/?{query}")
            assert response.status_code == 200, response.status_code

        median, p95, cpu = _timed(page, runs)
        queries = _page_queries(client, query)
        executed, slowest = _executed_ms(queries)
        ok &= p95 < TARGET_PAGE_MS
        flag = "" if p95 < TARGET_PAGE_MS else "  OVER"
        print(
            f"  {name:24} median {median:7.1f} ms  p95 {p95:7.1f} ms  CPU {cpu:6.1f} ms  "
            f"{len(queries):2} queries, executed {executed:6.1f} ms (slowest {slowest:5.1f})"
            f"{flag}  {load()}",
            flush=True,
        )
    return 0 if ok else 1


def _explain(query: str) -> None:
    from django.db import connection

    queries = _page_queries(_client(), query)
    with connection.cursor() as cursor:
        for sql, params in queries:
            cursor.execute("EXPLAIN (ANALYZE, BUFFERS) " + sql, params)
            plan = "\n".join(row[0] for row in cursor.fetchall())
            print(f"\n{sql}\n{plan}", flush=True)


if __name__ == "__main__":
    sys.exit(main())
