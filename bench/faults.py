"""The handoff under faults, with real processes and services of its own.

    .venv/bin/python bench/faults.py            # the issue's durations, production timings
    .venv/bin/python bench/faults.py --quick    # a third of the durations, short sweeps
    .venv/bin/python bench/faults.py --only redis-down,worker-kill

Needs the `redis-server` binary, PostgreSQL's `initdb`/`pg_ctl` (run as the `postgres` user
when started as root) and Python 3.11+. Nothing of the machine's shared PostgreSQL or Redis
is touched: the run makes a throwaway PostgreSQL cluster and a Redis on free ports, and
starts gunicorn (5 sync workers, DEBUG=false), one handoff worker (prefork, 2 processes) and
beat (the sweeper) against them. Then, one after another, while posting qualifying leads to
the JSON API at `--rate` (20/s, open loop):

- redis-down: Redis killed for 30 s, then started again (empty: what was queued is gone);
- redis-stall: Redis SIGSTOPped for 40 s, then SIGCONT;
- postgres-restart: `pg_ctl restart -m fast` under the load;
- worker-kill: the worker stopped while a backlog builds, started, SIGKILLed with its
  children mid-backlog, and a new one started at once (as a supervisor would).

For each: posts sent, answered 2xx, 5xx (and whether every 5xx was JSON 503 with
Retry-After), stored, routed exactly once, routed twice, lost (accepted but not stored, or
stored but not routed by the deadline: must be 0), half-written rows, and the time to settle
(from the end of the fault to the last lead assigned). Exit status 1 if anything was lost,
routed twice or half-written. Every line carries the load average: the machine may be shared.
"""

from __future__ import annotations

import argparse
import contextlib
import shutil
import sys
import tempfile
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench import rig  # noqa: E402
from bench.intake import BenchError, maintenance  # noqa: E402

SCENARIOS = ("redis-down", "redis-stall", "postgres-restart", "worker-kill")


@dataclass
class Rig:
    redis: rig.OwnRedis
    postgres: rig.OwnPostgres
    processes: rig.Processes
    path: str
    args: argparse.Namespace


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help="a third of the durations")
    parser.add_argument("--only", default=",".join(SCENARIOS), help="scenarios, comma-separated")
    parser.add_argument("--rate", type=float, default=20, help="posts/s (20)")
    parser.add_argument("--sweep-every", type=int, help="SWEEP_EVERY_SECONDS (60; quick: 5)")
    parser.add_argument(
        "--time-limit", type=int, help="CELERY_TASK_TIME_LIMIT, visibility x2 (60; quick: 10)"
    )
    parser.add_argument("--settle-timeout", type=float, default=400, help="seconds (400)")
    parser.add_argument("--keep-logs", action="store_true", help="keep the processes' logs")
    args = parser.parse_args(argv)
    args.only = [s for s in args.only.split(",") if s]
    if unknown := set(args.only) - set(SCENARIOS):
        parser.error(f"unknown scenarios: {', '.join(sorted(unknown))}")
    scale = 3 if args.quick else 1
    args.down, args.stall = 30 / scale, 40 / scale
    args.before, args.after = 10 / scale, 10 / scale
    defaults = (5, 10) if args.quick else (60, 60)
    args.sweep_every = args.sweep_every or defaults[0]
    args.time_limit = args.time_limit or defaults[1]
    return args


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    try:
        with contextlib.ExitStack() as cleanup:
            workdir = Path(tempfile.mkdtemp(prefix="faults-"))
            if args.keep_logs:
                print(f"faults: logs in {workdir}")
            else:
                cleanup.callback(shutil.rmtree, workdir, ignore_errors=True)
            return run(args, workdir, cleanup)
    except BenchError as error:
        print(f"faults: {error}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("faults: interrupted; processes and services stopped", file=sys.stderr)
        return 130


def run(args: argparse.Namespace, workdir: Path, cleanup: contextlib.ExitStack) -> int:
    import os

    postgres = rig.OwnPostgres()
    cleanup.callback(postgres.destroy)
    postgres.init()
    maintenance('CREATE DATABASE "leadbridge"', postgres.server)
    redis = rig.OwnRedis()
    redis.start()
    cleanup.callback(redis.stop)
    env = rig.product_environment(
        workdir,
        f"{postgres.server}/leadbridge",
        redis.url,
        SWEEP_EVERY_SECONDS=args.sweep_every,
        CELERY_TASK_TIME_LIMIT=args.time_limit,
    )
    os.environ.update(env)

    import django

    django.setup()
    slug = rig.prepare_database()
    processes = rig.Processes(workdir, env)
    cleanup.callback(processes.stop_all)
    for name in ("gunicorn", "worker", "beat"):
        processes.start(name)
    processes.wait_serving()
    setup = Rig(redis, postgres, processes, f"/api/v1/forms/{slug}/submissions/", args)
    rig.say(
        f"faults: own PostgreSQL :{postgres.port}, own Redis :{redis.port}; gunicorn 5 sync, "
        f"worker 2 processes, beat; {args.rate:g} posts/s; beat every {args.sweep_every} s, "
        f"time limit {args.time_limit} s (visibility "
        f"{2 * args.time_limit} s); {rig.load()}"
    )
    bad = False
    for name in args.only:
        bad |= not scenario(setup, name)
    return 1 if bad else 0


# Each fault: what to do at the start and at the end, and how long it lasts.


def redis_down(setup: Rig) -> Callable[[], None]:
    setup.redis.stop()
    time.sleep(setup.args.down)
    return setup.redis.start


def redis_stall(setup: Rig) -> Callable[[], None]:
    setup.redis.pause()
    time.sleep(setup.args.stall)
    return setup.redis.resume


def postgres_restart(setup: Rig) -> Callable[[], None]:
    setup.postgres.restart()
    return lambda: None


def worker_kill(setup: Rig) -> Callable[[], None]:
    # The backlog built while the worker was stopped (see `scenario`): start it, let it get
    # into the backlog, kill it with its children, and start a new one at once.
    processes = setup.processes
    processes.start("worker")
    rig.wait_until(
        lambda: rig.outcome("workerkill").routed_once >= 10, seconds=60, what="the worker"
    )
    processes.kill("worker")
    return lambda: processes.start("worker")


FAULTS = {
    "redis-down": redis_down,
    "redis-stall": redis_stall,
    "postgres-restart": postgres_restart,
    "worker-kill": worker_kill,
}


def scenario(setup: Rig, name: str) -> bool:
    args = setup.args
    prefix = name.replace("-", "")
    length = {"redis-down": args.down, "redis-stall": args.stall}.get(name, 5)
    if name == "worker-kill":
        setup.processes.stop("worker")
    ended: list[float] = []  # the wall clock, as the database's timestamps

    def fault() -> None:
        time.sleep(args.before)
        rig.say(f"{name}: fault starts; {rig.load()}")
        end = FAULTS[name](setup)
        end()
        ended.append(time.time())
        rig.say(f"{name}: fault ends; {rig.load()}")

    thread = threading.Thread(target=fault)
    thread.start()
    seconds = args.before + length + args.after
    answers = rig.post_at_rate(setup.processes.port, setup.path, prefix, args.rate, seconds)
    thread.join()
    counts = rig.summarize(answers)
    settled = wait_settled(prefix, counts["2xx"], args.settle_timeout)
    result = rig.outcome(prefix)
    accepted = {a.email for a in answers if 200 <= a.status < 300}
    missing = len(accepted - rig.stored_emails(prefix))
    lost = missing + result.unrouted
    errors = [a for a in answers if a.status >= 500]
    json_503 = all(
        a.status == 503 and a.retry_after and a.content_type.startswith("application/json")
        for a in errors
    )
    settle = f"{time_to_settle(prefix, ended[0]):.1f} s" if settled else "NOT SETTLED"
    print(
        f"  {name:16} sent {counts['sent']}, 2xx {counts['2xx']}, 5xx {counts['5xx']}"
        + (f" (all JSON 503 + Retry-After: {'yes' if json_503 else 'NO'})" if errors else "")
        + f", no answer {counts['no answer']}, other {counts['other']}; stored {result.stored}, "
        f"routed once {result.routed_once}, twice {result.routed_twice}, lost {lost} "
        f"({missing} accepted not stored, {result.unrouted} unrouted), half-written "
        f"{result.half_written}; settled {settle} after the fault ended; {rig.load()}",
        flush=True,
    )
    if not settled:
        queued = setup.redis.client().llen("handoff"), setup.redis.client().hlen("unacked")
        print(f"  redis: {queued[0]} queued, {queued[1]} unacknowledged", flush=True)
        for process in ("worker", "beat"):
            print(f"  {process} log:\n{setup.processes.log_tail(process)}", flush=True)
    if counts["no answer"]:
        kinds = sorted({a.error for a in answers if a.status == 0})
        print(f"  {'':16} no answer: {', '.join(kinds)}", flush=True)
    return not (lost or result.routed_twice or result.half_written or (errors and not json_503))


def wait_settled(prefix: str, accepted: int, timeout: float) -> bool:
    """Wait until every stored lead of the prefix is assigned; False after `timeout`."""
    from django.db import DatabaseError, connection

    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            result = rig.outcome(prefix)
        except DatabaseError:  # our connection did not survive a restart
            connection.close()
        else:
            if result.leads >= accepted and result.unrouted == 0:
                return True
        time.sleep(0.5)
    return False


def time_to_settle(prefix: str, fault_ended: float) -> float:
    """Seconds from the end of the fault to the assignment of the last lead that had arrived
    by then (leads posted later are the steady state, not the recovery)."""
    from datetime import UTC, datetime

    from django.db.models import Max

    from leads.routing.models import Assignment

    ended = datetime.fromtimestamp(fault_ended, tz=UTC)
    last = Assignment.objects.filter(
        lead__email__startswith=f"{prefix}-", lead__submissions__received_at__lte=ended
    ).aggregate(last=Max("assigned_at"))["last"]
    return max(0.0, (last - ended).total_seconds()) if last else 0.0


if __name__ == "__main__":
    sys.exit(main())
