"""The handoff's throughput and latency: scoring and routing by one real worker.

    .venv/bin/python bench/pipeline.py [--backlog 10000] [--rate 200 --seconds 60]
                                       [--ladder 25,50,100,150,200 --ladder-seconds 20]
                                       [--no-bulk-worker]

Needs PostgreSQL on 127.0.0.1:5432 (user postgres, trust), the `redis-server` binary and
Python 3.11+. What one run does:
1. Makes a new database `leadbridge_bench_pipeline` on the shared PostgreSQL (dropped at the
   end) with the demo form and agreement and `--queues` queues (10: five reps each, 50 reps,
   two conditions each, round robin / weighted / least loaded in turn, some capped; 1: one
   queue of five reps without a cap, the layout before issue 21), starts a
   Redis of its own, gunicorn (5 sync workers, DEBUG=false), one handoff worker (prefork, 2
   processes: the production shape on two cores), beat (the sweeper every 10 s), and as
   production runs them (docker-compose.yml) a bulk worker (one process: the dashboard's
   facts fold every 5 s, the notification e-mails routing queues, the escalation ladder) with
   a mail server that takes every message (`bench/smtp_sink.py`, Django's SMTP backend sends
   to it). `--no-bulk-worker`: none of the bulk queue's work is done (its messages wait
   unread), beat starts after the backlog: the shape of the figures before 2026-12-07.
2. Backlog: with the handoff worker stopped, posts `--backlog` qualifying submissions to the
   JSON API (16 at a time), so their scoring messages wait in Redis; then starts the worker
   and times it until every lead is assigned. Prints leads/s from the first judgement to the
   last assignment (the worker's start-up is not counted) and from the worker's start, and
   the CPU of each party per lead from the worker's start until the bulk queue caught up.
3. Ladder: posts at each rate of `--ladder` for `--ladder-seconds`, open loop (request n leaves
   at n / rate whatever the server does), waits until every lead is assigned, and prints
   submission->assignment p50/p95/p99 (the submission's `received_at` to the assignment's
   `assigned_at`, both from the database). Stops after the first rate whose p95 is 500 ms or
   more, or that left a post without its 2xx; the highest rate before it is printed.
4. Steady: the same at `--rate` for `--seconds`.
The posts leave from `bench/poster.c`, compiled at the start with the machine's `cc` (C on
epoll: a new connection per post at start + n / rate, each answered, refused or timed out on
its own), or from Python asyncio without a compiler or with `--python-poster`. Each rate's
figures end with the CPU seconds of each party (gunicorn, the worker, beat, this database's
PostgreSQL backends, Redis, the poster) and per stored post, and the cores the rest of the
machine used meanwhile.
With the bulk worker each phase's CPU is counted until the bulk queue has caught up (its
queue empty, no facts left to fold, no e-mail due or waiting for a rep's quiet time), and
its own line says how long that took after the last assignment, how many notifications went
out in how many messages, and the bulk worker's CPU per post and its PostgreSQL backend's
(every process's connections carry its name, so the backends are counted by client too).
Every figure is printed with the load average: the machine may be shared, and two cores
hold the poster, gunicorn, the workers, PostgreSQL and Redis at once.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import os
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench import rig, smtp_sink, webhooks  # noqa: E402
from bench.intake import (  # noqa: E402
    POSTGRES_SERVER,
    BenchError,
    analyze,
    drop_database,
    one_run_at_a_time,
    recreate_database,
    require_services,
)

# Parallel checkouts on one PostgreSQL each set a name of their own.
DATABASE_NAME = os.environ.get("BENCH_PIPELINE_DATABASE", "leadbridge_bench_pipeline")
P95_TARGET_S = 0.5


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--backlog", type=int, default=10_000, help="backlog size (10000)")
    parser.add_argument("--rate", type=float, default=200, help="steady posts/s (200)")
    parser.add_argument("--seconds", type=float, default=60, help="steady run length (60)")
    parser.add_argument(
        "--ladder", default="25,50,100,150,200", help="rates to climb, comma-separated"
    )
    parser.add_argument("--ladder-seconds", type=float, default=20, help="per rung (20)")
    parser.add_argument(
        "--web-workers", type=int, default=5, help="gunicorn sync workers (5: 2 x cores + 1)"
    )
    parser.add_argument(
        "--python-poster",
        action="store_true",
        help="post from Python asyncio even when bench/poster.c can be compiled",
    )
    parser.add_argument(
        "--queues", type=int, default=10, help="10: mixed strategies, 50 reps; 1: one queue"
    )
    parser.add_argument(
        "--settle-timeout", type=float, default=300, help="longest wait for the last assignment"
    )
    parser.add_argument(
        "--bulk-worker",
        action=argparse.BooleanOptionalAction,
        default=True,
        help="run a bulk worker and a mail server as production does (the default); "
        "--no-bulk-worker leaves the bulk queue unread",
    )
    parser.add_argument(
        "--webhook-receiver-delay",
        type=float,
        metavar="SECONDS",
        help="register a webhook endpoint for every event kind whose receiver answers after "
        "this long (10: issue 22's slow receiver), with a bulk worker sending to it (that "
        "worker only: no e-mails are sent, --no-bulk-worker is implied)",
    )
    args = parser.parse_args(argv)
    if args.webhook_receiver_delay is not None:
        args.bulk_worker = False
    args.ladder = [float(x) for x in args.ladder.split(",") if x.strip()]
    return args


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    try:
        require_services()
        with contextlib.ExitStack() as cleanup:
            cleanup.enter_context(one_run_at_a_time())
            workdir = Path(cleanup.enter_context(tempfile.TemporaryDirectory(prefix="bench-")))
            return run(args, workdir, cleanup)
    except BenchError as error:
        print(f"bench: {error}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("bench: interrupted; processes stopped, database dropped", file=sys.stderr)
        return 130


def run(args: argparse.Namespace, workdir: Path, cleanup: contextlib.ExitStack) -> int:
    redis = rig.OwnRedis()
    redis.start()
    cleanup.callback(redis.stop)
    database_url = f"{POSTGRES_SERVER}/{DATABASE_NAME}"
    env = rig.product_environment(workdir, database_url, redis.url, SWEEP_EVERY_SECONDS=10)
    if args.bulk_worker:
        env.update(EMAIL_HOST=rig.HOST, EMAIL_PORT=str(rig.free_port()))
    if args.webhook_receiver_delay is not None:
        env.update(webhooks.RECEIVER_ENV)
    os.environ.update(env)
    recreate_database(POSTGRES_SERVER, DATABASE_NAME)
    cleanup.callback(drop_database, POSTGRES_SERVER, DATABASE_NAME)

    import django

    django.setup()
    slug = rig.prepare_database(queues=args.queues)
    if args.webhook_receiver_delay is not None:
        said = webhooks.slow_receiver(args.webhook_receiver_delay, env, workdir, cleanup)
        rig.say(f"webhooks: {said}")
    path = f"/api/v1/forms/{slug}/submissions/"
    processes = rig.Processes(workdir, env, web_workers=args.web_workers)
    cleanup.callback(processes.stop_all)
    processes.start("gunicorn")
    processes.wait_serving(seconds=120)  # a loaded machine took it past 30 s
    if args.bulk_worker:  # after gunicorn, not beside its start-up
        for name in ("smtp", "bulk", "beat"):
            processes.start(name)
    args.poster = None if args.python_poster else rig.native_poster(workdir)
    rig.say(
        f"pipeline bench: gunicorn {args.web_workers} sync workers, 1 worker x 2 processes "
        f"(prefork), beat, "
        + ("1 bulk worker x 1 process and a mail server" if args.bulk_worker else "no bulk worker")
        + f"; database {DATABASE_NAME}, Redis {redis.url}; posting open loop from "
        f"{'bench/poster.c' if args.poster else 'Python asyncio'}; {rig.load()}"
    )

    failed = False
    if args.backlog:
        failed |= not backlog(args, processes, redis, path)
    if "beat" not in processes.running:
        processes.start("beat")
    if "worker" not in processes.running:
        processes.start("worker")
    best = None
    for rate in args.ladder:
        p95 = steady(args, processes, redis, path, f"ladder{int(rate)}", rate, args.ladder_seconds)
        if p95 is None or p95 >= P95_TARGET_S:
            break
        best = rate
    if args.ladder:
        print(
            f"  highest tested rate with p95 < {P95_TARGET_S * 1000:.0f} ms: "
            + (f"{best:g}/s" if best else "none")
            + f" (of {', '.join(f'{r:g}' for r in args.ladder)}); {rig.load()}"
        )
    if args.seconds:
        p95 = steady(args, processes, redis, path, "steady", args.rate, args.seconds)
        failed |= p95 is None
    return 1 if failed else 0


def post_many(port: int, path: str, prefix: str, count: int, concurrency: int = 16) -> int:
    """Post `count` submissions, `concurrency` at a time; the number answered 201."""

    async def post_all() -> int:
        numbers = iter(range(count))
        accepted = 0

        async def client() -> None:
            nonlocal accepted
            for n in numbers:
                answer = await rig._post(port, path, f"{prefix}-{n}@{rig.EMAIL_DOMAIN}", 30)
                accepted += answer.status == 201

        await asyncio.gather(*(client() for _ in range(concurrency)))
        return accepted

    return asyncio.run(post_all())


def backlog(
    args: argparse.Namespace, processes: rig.Processes, redis: rig.OwnRedis, path: str
) -> bool:
    from django.db import connection

    rig.say(f"backlog: posting {args.backlog} submissions with no worker running")
    started = time.monotonic()
    accepted = post_many(processes.port, path, "backlog", args.backlog)
    rig.say(
        f"backlog: {accepted} accepted in {time.monotonic() - started:.1f} s "
        f"({accepted / (time.monotonic() - started):.0f}/s through the intake); starting the worker"
    )
    # The folds of what the intake marked are the intake's: done before the drain is metered.
    BulkTally.now(processes).wait_caught_up(redis, args.settle_timeout)
    analyze()
    meter = rig.CpuMeter(processes, redis)
    meter.start()
    bulk = BulkTally.now(processes)
    worker_started = time.monotonic()
    processes.start("worker")
    settled = wait_routed("backlog", accepted, args.settle_timeout)
    wall = time.monotonic() - worker_started
    caught_up = bulk.wait_caught_up(redis, args.settle_timeout)
    meter.stop()
    with connection.cursor() as cursor:
        cursor.execute(
            """
            SELECT EXTRACT(EPOCH FROM
              (SELECT max(a.assigned_at) FROM routing_assignment a)
              - (SELECT min(q.evaluated_at) FROM scoring_qualification q))
            """
        )
        (span,) = cursor.fetchone()
    result = rig.outcome("backlog")
    print(
        f"  backlog  {accepted} leads scored and routed by 1 worker x 2 processes: "
        f"{result.routed_once / float(span):.0f} leads/s from the first judgement to the last "
        f"assignment ({float(span):.1f} s), {result.routed_once / wall:.0f}/s from the worker's "
        f"start ({wall:.1f} s); routed once {result.routed_once}, twice {result.routed_twice}, "
        f"unrouted {result.unrouted}; {rig.load()}",
        flush=True,
    )
    print(f"           {meter.report(result.stored)}", flush=True)
    if "bulk" in processes.running:
        print(f"           {bulk.report(meter, result.stored, caught_up)}", flush=True)
    return settled and caught_up is not None and result.routed_twice == 0 and result.unrouted == 0


def wait_routed(prefix: str, expected: int, timeout: float) -> bool:
    """Until every stored lead is routed and no more arrive: gunicorn still serves the posts
    whose poster gave up while they waited in its listen backlog, and stores them."""
    deadline = time.monotonic() + timeout
    previous = -1
    while time.monotonic() < deadline:
        result = rig.outcome(prefix)
        if result.leads >= expected and result.unrouted == 0 and result.leads == previous:
            return True
        previous = result.leads
        time.sleep(0.5)
    rig.say(f"{prefix}: {rig.outcome(prefix).unrouted} still unrouted after {timeout:.0f} s")
    return False


def steady(
    args: argparse.Namespace,
    processes: rig.Processes,
    redis: rig.OwnRedis,
    path: str,
    prefix: str,
    rate: float,
    seconds: float,
) -> float | None:
    """Post at `rate` for `seconds`; p95 submission->assignment in seconds, None if a post
    went unanswered or a lead unrouted or routed twice."""
    analyze()
    meter = rig.CpuMeter(processes, redis)
    meter.start()
    bulk = BulkTally.now(processes)
    if args.poster:
        answers = rig.post_at_rate_native(args.poster, processes.port, path, prefix, rate, seconds)
    else:
        answers = rig.post_at_rate(processes.port, path, prefix, rate, seconds)
    counts = rig.summarize(answers)
    settled = wait_routed(prefix, counts["2xx"], args.settle_timeout)
    caught_up = bulk.wait_caught_up(redis, args.settle_timeout)
    meter.stop()
    waits = rig.latencies(prefix)
    result = rig.outcome(prefix)
    http = sorted(a.seconds for a in answers if a.status == 201)
    p50, p95, p99 = (rig.percentile(waits, s) * 1000 for s in (0.50, 0.95, 0.99))
    print(
        f"  {prefix:9} {rate:g}/s for {seconds:g} s: sent {counts['sent']}, 201 {counts['2xx']}, "
        f"5xx {counts['5xx']}, no answer {counts['no answer']}; submission->assignment "
        f"p50 {p50:.0f} ms, p95 {p95:.0f} ms, p99 {p99:.0f} ms, max {waits[-1] * 1000:.0f} ms; "
        f"HTTP p95 {rig.percentile(http, 0.95) * 1000:.0f} ms; routed twice "
        f"{result.routed_twice}, unrouted {result.unrouted}; {rig.load()}",
        flush=True,
    )
    print(f"            stored {result.stored}; {meter.report(result.stored)}", flush=True)
    if "bulk" in processes.running:
        print(f"            {bulk.report(meter, result.stored, caught_up)}", flush=True)
    # A post left unanswered is a failure of the rate, whatever the answered ones' latency.
    if not settled or caught_up is None or result.routed_twice or counts["2xx"] < counts["sent"]:
        return None
    return p95 / 1000


class BulkTally:
    """What the bulk worker did in a phase: notifications e-mailed and messages the mail
    server took, and how long after the last assignment its queue caught up."""

    def __init__(self, processes: rig.Processes, emailed: int, messages: int) -> None:
        self.processes, self.emailed, self.messages = processes, emailed, messages

    @classmethod
    def now(cls, processes: rig.Processes) -> BulkTally:
        return cls(processes, _emailed(), smtp_sink.messages_taken(processes.mail_tally))

    def wait_caught_up(self, redis: rig.OwnRedis, timeout: float) -> float | None:
        """Seconds until the bulk queue has no message, no facts wait to be folded and no
        e-mail is due or waiting for a rep's quiet time (0 without a bulk worker); None if
        it had not caught up within `timeout`."""
        if "bulk" not in self.processes.running:
            return 0.0
        from django.db import connection

        started = time.monotonic()
        client = redis.client()
        while time.monotonic() - started < timeout:
            with connection.cursor() as cursor:
                cursor.execute(
                    "SELECT EXISTS (SELECT 1 FROM dashboard_factsstale) OR EXISTS (SELECT 1"
                    " FROM notifications_notification WHERE email_due_at IS NOT NULL"
                    " AND delivery = 'immediate')"
                )
                (behind,) = cursor.fetchone()
            if not behind and not client.llen("bulk"):
                return time.monotonic() - started
            time.sleep(0.5)
        rig.say(f"the bulk queue had not caught up after {timeout:.0f} s")
        return None

    def report(self, meter: rig.CpuMeter, posts: int, caught_up: float | None) -> str:
        emailed = _emailed() - self.emailed
        messages = smtp_sink.messages_taken(self.processes.mail_tally) - self.messages
        waited = "not caught up" if caught_up is None else f"caught up {caught_up:.1f} s"
        return (
            f"bulk: {waited} after the last assignment; {emailed} notifications e-mailed in "
            f"{messages} messages; bulk worker {meter.per_post('bulk', posts):.2f} ms/post, "
            f"its PostgreSQL {meter.per_post('pg:bulk', posts):.2f} ms/post"
        )


def _emailed() -> int:
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT count(*) FROM notifications_notification WHERE emailed_at IS NOT NULL"
        )
        return cursor.fetchone()[0]


if __name__ == "__main__":
    sys.exit(main())
