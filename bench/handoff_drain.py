"""CPU per lead of the handoff's scoring and routing, in one process, less load-sensitive
than bench/pipeline.py's throughput (compare two trees under the same load):

    .venv/bin/python bench/handoff_drain.py [--tree DIR] [--leads 3000]
        [--own-pg --statements 25] [--py-spy out.txt] [--no-facts] [--batch N]

`--tree`: the checkout whose code runs (default: this one; `git archive REV | tar -x -C DIR`
for another revision). `--own-pg`: a throwaway cluster with pg_stat_statements (track=all),
whose top statements `--statements` prints. `--py-spy`: py-spy's raw stacks of the drain.

Makes a database with bench/rig's layout (--queues 10: 50 reps, mixed strategies), posts
--leads submissions through the JSON API in-process (Django's test client), then drains them
with the handoff's own `_score_batch` / `_route_batch` in this process, and prints this
process's CPU and its PostgreSQL backend's CPU per lead, for each phase.
"""

import argparse
import gc
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

p = argparse.ArgumentParser()
p.add_argument("--tree", default=str(Path(__file__).resolve().parent.parent))
p.add_argument("--leads", type=int, default=3000)
p.add_argument("--batch", type=int, default=0, help="HANDOFF_BATCH (default: the tree's)")
p.add_argument("--queues", type=int, default=10)
p.add_argument("--server", default="postgres://postgres@127.0.0.1:5432")
p.add_argument("--own-pg", action="store_true", help="a cluster with pg_stat_statements")
p.add_argument("--statements", type=int, default=0)
p.add_argument("--py-spy", default="")
p.add_argument("--name", default="leadbridge_scratch_pipeline")
p.add_argument("--no-facts", action="store_true", help="every facts trigger off")
p.add_argument("--rounds", type=int, default=1, help="post and drain this many times")
args = p.parse_args()

tree = Path(args.tree).resolve()
sys.path.insert(0, str(tree))
os.chdir(tree)

from bench import rig  # noqa: E402
from bench.intake import drop_database, recreate_database  # noqa: E402

pg = None
server = args.server
if args.own_pg:

    class StatsPostgres(rig.OwnPostgres):
        def _options(self) -> str:
            return (
                f"'-p {self.port} -k /tmp -c listen_addresses={rig.HOST} "
                "-c shared_preload_libraries=pg_stat_statements -c pg_stat_statements.track=all'"
            )

    pg = StatsPostgres()
    pg.init()
    server = pg.server

# A redis-server of our own: the shared one belongs to the suites (TEST_REDIS_DB_TOP).
redis = rig.OwnRedis()
redis.start()
workdir = Path(tempfile.mkdtemp(prefix="scratch-handoff-"))
env = rig.product_environment(
    workdir,
    f"{server}/{args.name}",
    redis.url,
    defences=False,
    **({"HANDOFF_BATCH": args.batch} if args.batch else {}),
)
os.environ.update(env)
recreate_database(server, args.name)
try:
    import django

    django.setup()
    from django.db import connection
    from django.test import Client

    slug = rig.prepare_database(queues=args.queues) if args.queues > 1 else rig.prepare_database()
    if args.own_pg:
        with connection.cursor() as c:
            c.execute("CREATE EXTENSION IF NOT EXISTS pg_stat_statements")
    path = f"/api/v1/forms/{slug}/submissions/"
    client = Client(HTTP_HOST=rig.HOST)

    from leads.handoff import tasks

    def backend_ticks() -> int:
        with connection.cursor() as c:
            c.execute("SELECT pg_backend_pid()")
            (pid,) = c.fetchone()
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        return int(fields[11]) + int(fields[12])

    ticks = os.sysconf("SC_CLK_TCK")
    totals = {name: [0.0, 0, 0.0, 0] for name in ("score", "route", "fold")}  # cpu, ticks, wall, n
    spy = None
    for round_ in range(args.rounds):
        t0 = time.monotonic()
        for n in range(args.leads):
            body = rig.api_body(f"r{round_}-{n}@{rig.EMAIL_DOMAIN}")
            answer = client.post(path, body, content_type="application/json")
            assert answer.status_code == 201, answer.content[:300]
        print(f"round {round_}: posted {args.leads} in {time.monotonic() - t0:.1f} s", flush=True)
        if args.no_facts and round_ == args.rounds - 1:
            from portal.dashboard.facts import WATCHED_TABLES

            with connection.cursor() as c:
                for table in WATCHED_TABLES:
                    c.execute(f"ALTER TABLE {table} DISABLE TRIGGER USER")
        if args.own_pg and round_ == args.rounds - 1:
            with connection.cursor() as c:
                c.execute("SELECT pg_stat_statements_reset()")
        # The drain on a connection of its own, as a worker's: PostgreSQL keeps a backend's
        # foreign-key check plans, and those the posts made while `leads_lead` was nearly
        # empty read it whole (a sequential scan: ~0.1 ms a check at 2,000 leads).
        connection.close()
        # As a worker does at start (portal.celery.freeze_what_the_worker_loaded): what this
        # process made so far (Django, the posts) is out of the collector's reach, so its full
        # sweeps walk only what the drain makes, not the posts' leftovers.
        gc.collect()
        gc.freeze()
        if args.py_spy and round_ == args.rounds - 1:
            spy = subprocess.Popen(
                ["py-spy", "record", "--pid", str(os.getpid()), "--rate", "200",
                 "--format", "raw", "-o", args.py_spy, "--nonblocking"],
                stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
            )  # fmt: skip
            time.sleep(1.5)
        # The fold of each round's marked leads (beat's `dashboard.fold_facts`, bulk queue);
        # a tree before the fold had none.
        try:
            from portal.dashboard.facts import facts_fold
        except ImportError:
            facts_fold = None

        def fold(leads: int, facts_fold=facts_fold) -> int:
            return facts_fold(wait=False) if facts_fold and leads else 0

        while True:
            took = {}
            steps = [("score", tasks._score_batch), ("route", tasks._route_batch)]
            steps.append(("fold", lambda t=took, f=fold: f(t["score"] + t["route"]) and 0))
            for phase, step in steps:
                c0, g0, w0 = time.process_time(), backend_ticks(), time.monotonic()
                took[phase] = step()
                total = totals[phase]
                total[0] += time.process_time() - c0
                total[1] += backend_ticks() - g0
                total[2] += time.monotonic() - w0
                total[3] += took[phase]
            if not took["score"] + took["route"]:
                break
    if spy is not None:
        spy.send_signal(2)
        spy.wait(timeout=60)
    totals["fold"][3] = totals["route"][3]  # its figures are per lead routed
    for phase, (cpu, g, wall, n) in totals.items():
        print(
            f"{phase}: {n} leads; python {1000 * cpu / max(n, 1):.3f} ms/lead, "
            f"postgres {1000 * g / ticks / max(n, 1):.3f} ms/lead, "
            f"wall {1000 * wall / max(n, 1):.3f} ms/lead; load {os.getloadavg()[0]:.2f}",
            flush=True,
        )
    with connection.cursor() as c:
        c.execute("SELECT count(*), count(DISTINCT lead_id) FROM routing_assignment")
        print("assignments, leads:", c.fetchone())
    if args.own_pg and args.statements:
        with connection.cursor() as c:
            c.execute(
                "SELECT calls, rows, round(total_exec_time::numeric, 1), "
                "round((total_exec_time / greatest(calls, 1))::numeric, 3), "
                "left(regexp_replace(query, '\\s+', ' ', 'g'), 230) FROM pg_stat_statements "
                "WHERE dbid = (SELECT oid FROM pg_database WHERE datname = current_database()) "
                "ORDER BY total_exec_time DESC LIMIT %s",
                [args.statements],
            )
            print("calls | rows | total ms | ms/call | query")
            for row in c.fetchall():
                print(" | ".join(map(str, row)))
finally:
    from django.db import connections

    connections.close_all()
    drop_database(server, args.name)
    if pg is not None:
        pg.destroy()
    redis.stop()
