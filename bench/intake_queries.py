"""What one intake POST costs, and where: its statements, and the CPU it takes in Python and
in PostgreSQL beside the one-insert baseline, without gunicorn or wrk around it.

    .venv/bin/python bench/intake_queries.py                                # statements
    .venv/bin/python bench/intake_queries.py --cpu 2000                     # CPU per post
    .venv/bin/python bench/intake_queries.py --targets secure-hubspot --cpu 2000 --profile

Sets up exactly as bench/intake.py does (a new `leadbridge_bench` database, Redis db 14 as
the broker and no worker, DEBUG=false, the defences on) and posts each target's own body
(`bench.intake.make_targets`) through Django's WSGI handler in this process, one at a time:

- by default, every statement of one POST of each chosen target;
- `--cpu N`: N posts of each target and of the baseline, in turn, `--rounds` times (3), and
  the median CPU per post: this process's (Python, with its waker and limiter threads) and
  its PostgreSQL backend's (read from /proc), and each target's ratio to the baseline's
  total. Before the rounds every target posts 300 times and the tables are analysed, as
  autovacuum would have (bench.intake.analyze: a plan made on an empty table scans).
  With no server, no client and no second process on the cores, the split is steadier than
  bench/intake.py's and says which side a change moved; gunicorn's own work per request
  (about 1 ms a post on a 2-core VM) is not in it, so the ratios are lower than that bench's.
- `--profile`: the `--cpu` posts of the first chosen target under cProfile, the functions that
  took the most time.

Linux only (the backend's CPU comes from /proc/<pid>/stat). Cleans up afterwards.
"""

import argparse
import contextlib
import cProfile
import io
import itertools
import os
import pstats
import statistics
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench import intake

WARMUP_POSTS = 300


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    names = [name for name in intake.TARGET_NAMES if name != "baseline"]
    parser.add_argument("--targets", default=",".join(names), help=f"of {','.join(names)}")
    parser.add_argument("--cpu", type=int, default=0, help="posts per target and round (0: none)")
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--profile", action="store_true", help="cProfile the first target")
    args = parser.parse_args()
    chosen = [name.strip() for name in args.targets.split(",") if name.strip()]
    if not chosen or any(name not in names for name in chosen):
        parser.error(f"choose targets from {','.join(names)}")
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
            cleanup.callback(close_connections)
            form, token = intake.form_and_token(intake.prepare_database())
            targets = {target.name: target for target in intake.make_targets(form, token)}
            poster = Poster()
            if not args.cpu:
                for name in chosen:
                    show_statements(poster, targets[name])
                return 0
            measure(poster, [targets[name] for name in chosen], targets["baseline"], args)
    except intake.BenchError as error:
        print(f"bench: {error}", file=sys.stderr)
        return 2
    return 0


def close_connections() -> None:
    from django.db import connections

    connections.close_all()  # before the database is dropped


class Poster:
    """Posts a target's body through Django's WSGI handler, each with a new e-mail."""

    def __init__(self) -> None:
        from django.core.wsgi import get_wsgi_application

        self.application = get_wsgi_application()
        self.numbers = itertools.count()

    def post(self, target: intake.Target) -> None:
        body = target.body_for(f"cpu-{target.name}-{next(self.numbers)}").encode()
        path, _, query = target.path.partition("?")
        environ = {
            "REQUEST_METHOD": "POST",
            "PATH_INFO": path,
            "QUERY_STRING": query,
            "SERVER_NAME": intake.HOST,
            "SERVER_PORT": "80",
            "SERVER_PROTOCOL": "HTTP/1.1",
            "HTTP_HOST": intake.HOST,
            "REMOTE_ADDR": intake.HOST,
            "CONTENT_TYPE": target.content_type,
            "CONTENT_LENGTH": str(len(body)),
            "wsgi.input": io.BytesIO(body),
            "wsgi.errors": sys.stderr,
            "wsgi.url_scheme": "http",
        }
        if target.authorization:
            environ["HTTP_AUTHORIZATION"] = target.authorization
        said = []
        response = self.application(environ, lambda status, headers: said.append(status))
        b"".join(response)
        response.close()
        if not said[0].startswith(str(target.accepted_status)):
            raise intake.BenchError(f"POST {target.path} answered {said[0]}")


def show_statements(poster: Poster, target: intake.Target) -> None:
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    poster.post(target)  # the first post prepares statements and fills the caches
    with CaptureQueriesContext(connection) as captured:
        poster.post(target)
    print(f"One {target.name} POST of {target.path}: {len(captured.captured_queries)} statements")
    for number, query in enumerate(captured.captured_queries, 1):
        print(f"{number:3}. {query['sql']}")
    print()


@dataclass(frozen=True)
class Cost:
    python_ms: float
    postgres_ms: float

    @property
    def total_ms(self) -> float:
        return self.python_ms + self.postgres_ms


def measure(poster: Poster, targets: list[intake.Target], baseline: intake.Target, args) -> None:
    every = [*targets, baseline]
    for target in every:
        for _ in range(WARMUP_POSTS):
            poster.post(target)
    intake.analyze()
    costs: dict[str, list[Cost]] = {target.name: [] for target in every}
    for _ in range(args.rounds):
        for target in every:
            costs[target.name].append(cost(poster, target, args.cpu))
    print(f"CPU per post, in-process, median of {args.rounds} rounds of {args.cpu} posts")
    print(
        f"  {'target':16} {'Python ms':>10} {'PostgreSQL ms':>14} {'total ms':>9}  baseline/target"
    )
    base = median(costs[baseline.name])
    for target in every:
        mine = median(costs[target.name])
        ratio = "" if target is baseline else f"{base.total_ms / mine.total_ms:15.2f}"
        print(
            f"  {target.name:16} {mine.python_ms:10.3f} {mine.postgres_ms:14.3f} "
            f"{mine.total_ms:9.3f}  {ratio}"
        )
    if args.profile:
        profiler = cProfile.Profile()
        profiler.enable()
        for _ in range(args.cpu):
            poster.post(targets[0])
        profiler.disable()
        print(f"\ncProfile of {args.cpu} {targets[0].name} posts")
        pstats.Stats(profiler).sort_stats("tottime").print_stats(40)


def cost(poster: Poster, target: intake.Target, posts: int) -> Cost:
    backend = backend_pid()
    python, postgres = time.process_time(), backend_ticks(backend)
    for _ in range(posts):
        poster.post(target)
    python, postgres = time.process_time() - python, backend_ticks(backend) - postgres
    if backend_pid() != backend:
        raise intake.BenchError("the database connection was reopened during the posts")
    return Cost(
        python_ms=1000 * python / posts,
        postgres_ms=1000 * postgres / os.sysconf("SC_CLK_TCK") / posts,
    )


def median(costs: list[Cost]) -> Cost:
    return Cost(
        python_ms=statistics.median(cost.python_ms for cost in costs),
        postgres_ms=statistics.median(cost.postgres_ms for cost in costs),
    )


def backend_pid() -> int:
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_backend_pid()")
        return cursor.fetchone()[0]


def backend_ticks(pid: int) -> int:
    """User and system CPU ticks of a process, read as bench/intake.py reads gunicorn's."""
    return intake.cpu_ticks_of(Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split())


if __name__ == "__main__":
    sys.exit(main())
