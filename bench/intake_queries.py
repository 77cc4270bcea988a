"""The SQL one intake POST makes, and where its time goes, on the benchmark's own database.

    .venv/bin/python bench/intake_queries.py [--profile 300]

Sets up exactly as bench/intake.py does (new `leadbridge_bench` database, Redis db 14 as
the broker, DEBUG=false), posts the public form through Django's test client once to warm
up, then prints every query of the next POST. With --profile N it also runs N more POSTs
under cProfile and prints the functions that took the most time. Cleans up afterwards.
"""

import argparse
import contextlib
import cProfile
import os
import pstats
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench import intake


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--profile", type=int, default=0, help="POSTs to profile (0: none)")
    args = parser.parse_args()
    try:
        intake.require_services()
        with contextlib.ExitStack() as cleanup:
            cleanup.enter_context(intake.one_run_at_a_time())
            workdir = Path(cleanup.enter_context(tempfile.TemporaryDirectory(prefix="bench-")))
            os.environ.update(intake.bench_environment(workdir))
            intake.recreate_database()
            cleanup.callback(intake.drop_database)
            intake.flush_redis()
            cleanup.callback(intake.flush_redis)

            import django

            django.setup()
            slug = intake.prepare_database()
            show_queries(f"/f/{slug}/", args.profile)
    except intake.BenchError as error:
        print(f"bench: {error}", file=sys.stderr)
        return 2
    return 0


def show_queries(path: str, profile: int) -> None:
    from django.db import connection
    from django.test import Client
    from django.test.utils import CaptureQueriesContext

    client = Client(HTTP_HOST=intake.HOST)
    post(client, path, "warmup-1")
    with CaptureQueriesContext(connection) as captured:
        post(client, path, "queries-1")
    print(f"One intake POST of {path}: {len(captured.captured_queries)} statements")
    for number, query in enumerate(captured.captured_queries, 1):
        print(f"{number:3}. {query['sql']}")
    # Neither shows here: the test client turns off the per-request connection check, and
    # the Celery message goes to Redis, not PostgreSQL.
    print("Under gunicorn also: a health-check SELECT 1 before statement 1 (CONN_HEALTH_CHECKS)")
    print("and, after COMMIT, one Redis LPUSH of the hand_off message.")

    if profile:
        profiler = cProfile.Profile()
        started = time.perf_counter()
        profiler.enable()
        for n in range(profile):
            post(client, path, f"profile-{n}")
        profiler.disable()
        elapsed = time.perf_counter() - started
        print(f"\n{profile} POSTs in one thread: {elapsed / profile * 1000:.2f} ms each")
        pstats.Stats(profiler).sort_stats("cumulative").print_stats(40)


def post(client, path: str, local_part: str) -> None:
    body = f"email={local_part}%40{intake.EMAIL_DOMAIN}&{intake.form_body_rest()}"
    response = client.post(path, body, content_type="application/x-www-form-urlencoded")
    if response.status_code != 302:
        raise intake.BenchError(f"POST {path} answered {response.status_code}, not 302")


if __name__ == "__main__":
    sys.exit(main())
