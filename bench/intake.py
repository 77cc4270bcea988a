"""Intake throughput: the public form's POST, the JSON API and the HubSpot and Salesforce
compatible endpoints, each beside a bare one-insert Django view.

    .venv/bin/python bench/intake.py [--connections 32] [--duration 20]    # make bench-intake
    .venv/bin/python bench/intake.py --targets intake,json --duration 5     # a subset
    .venv/bin/python bench/intake.py --defences on                          # only with them
    .venv/bin/python bench/intake.py --rounds 3 --duration 10               # the spread too

Needs PostgreSQL on 127.0.0.1:5432 (user postgres, trust auth), Redis on 127.0.0.1:6379 and
`wrk` (Debian/Ubuntu: `apt-get install wrk`; macOS: `brew install wrk`). It says which one is
missing and stops before touching anything.

What one run does:
1. Drops and recreates the database `leadbridge_bench`, migrates it (`--run-syncdb` also
   creates the bench-only baseline table), collects static files into a temporary directory
   (DEBUG=false serves the manifest storage), and makes the demo's published "Talk to sales"
   form and its active agreement with the demo's own code. The developer's database is never
   opened.
2. Flushes Redis db 14 and serves `bench.settings` (the product's settings plus the `bench`
   app and its baseline URL) with gunicorn on a free port of 127.0.0.1: DEBUG=false, a random
   SECRET_KEY, persistent database connections as the settings make them, and
   CELERY_BROKER_URL on db 14, so the scoring task is published after each commit as in
   production. No worker consumes it.
   With `--defences both` (the default) a second gunicorn serves the same database with
   `BENCH_DEFENCES=off` (bench/settings.py: no rate limit, no spam checks, no quarantine),
   and a post with the honeypot filled proves each server's setting (held with the defences
   on, stored with them off).
3. Loads each target in turn, with the defences on and off back to back (the order
   alternating from run to run, as the second of a pair runs a little faster), and the
   baseline before the first target and after each one, so that every target is measured
   between two runs of the baseline: the machine's speed drifts by up to a third within
   minutes, and a ratio to a baseline measured minutes away said as much about the drift as
   about the code. Each run has a short warm-up that is not counted; every post has a new
   e-mail and the same answers otherwise:
   - intake: the hosted page, form-encoded POSTs of /f/<slug>/ (success: the 302 to thanks);
   - json: the JSON API, POSTs of /api/v1/forms/<slug>/submissions/ (success: 201);
   - hubspot: HubSpot Forms API v3, `fields[{name,value}]`, `context` and
     `legalConsentOptions` to /submissions/v3/integration/submit/0/<guid> (success: 200);
   - secure-hubspot: the same body to .../integration/secure/submit/... with the form's
     bearer token (success: 200), so the token check's cost shows beside the open endpoint;
   - web-to-lead: Salesforce Web-to-Lead, form-encoded with `oid` (success: Salesforce's 200
     page that sends the browser on);
   - baseline: form-encoded POSTs to a view that inserts one row (success: a 201).
4. Prints requests/s, p50/p95/p99 latency and successes/failures of each, each target's
   ratio to the baseline runs beside it (by requests/s, and by the server's CPU per post),
   each target's figures with the defences on beside its figures with them off (issue 7:
   within 10 %), and checks that every accepted post is in the database: exit status 1 if
   one is missing. `--rounds N` does all of it N times in turn and prints each run's ratio
   beside the sum, so the spread shows.
5. Stops gunicorn, drops the database and flushes the Redis db, also after a failure or ^C.

Why wrk: client and server share two cores, so every cycle the client spends is taken from
the server and lowers both numbers. wrk is C on an event loop: one thread keeps 32
connections busy, reconnecting after every response, for under a tenth of a core, with a
small Lua function per request to make each e-mail unique (`bench/intake.lua`). A Python
client (threads or asyncio with an HTTP library) spends roughly as much CPU per request as
the Django view it measures, and its GIL and scheduling add their own latency. The run
prints how much CPU wrk used.

Why sync workers, 2 x CPUs + 1 of them (5 on two cores): gunicorn's own rule for sync workers. One
process per request in progress runs Python on both cores despite the GIL, and the extra
processes keep the cores busy while others wait on PostgreSQL's commit or on Redis. Each
holds one persistent database connection (5, far below max_connections). Sync workers
close the connection after every response, as gunicorn does behind nginx's default
(HTTP/1.0 to the upstream), so each request goes to whichever worker is free. gthread
workers keep connections alive instead, and all 32 of wrk's connections, opened in one
burst, can land on one worker: the baseline then ran on one core at ~1000 req/s where sync
workers gave ~1450, with p99 latency halved. `--threads N` (N > 1) switches to gthread,
still without keep-alive. The configuration used is printed.

Accepted and stored counts: wrk stops at the deadline with up to one request per connection
still in flight. The server usually finishes and commits those after wrk stopped reading, so
the database can hold a few more rows than the client saw accepted, never fewer. The check
therefore asks that stored >= accepted (nothing accepted is missing), stored <= sent, and one
lead per submission; it prints how many were in flight and how many extra rows were stored.

Where the CPU went: on two cores the numbers are only as good as the machine is quiet. Each
target's line ends with the cores used meanwhile by gunicorn, by this database's PostgreSQL
processes, by wrk, and by the rest of the machine (Redis, the kernel, and anyone else's
work); a busy "rest" means a neighbour took cycles and the figures are low.
"""

from __future__ import annotations

import argparse
import contextlib
import fcntl
import http.client
import json
import os
import resource
import secrets
import shutil
import socket
import subprocess
import sys
import tempfile
import time
import urllib.parse
from collections.abc import Callable, Iterator
from dataclasses import dataclass, replace
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))  # run as a script: make `bench` and the project importable

HOST = "127.0.0.1"
POSTGRES_SERVER = "postgres://postgres@127.0.0.1:5432"
DATABASE_NAME = "leadbridge_bench"
REDIS_URL = "redis://127.0.0.1:6379/14"
WRK_SCRIPT = Path(__file__).with_name("intake.lua")
LOCK_FILE = Path(tempfile.gettempdir()) / "leadbridge-bench-intake.lock"
DEFAULT_WORKERS = 2 * (os.cpu_count() or 1) + 1

EMAIL_DOMAIN = "acme.example"
# A valid submission of the demo's "Talk to sales" form, except the e-mail, which the load
# generator makes unique per request.
FORM_VALUES = {
    "first_name": "Ana",
    "last_name": "Souza",
    "company": "Acme Ltda",
    "company_size": "120",
    "country": "Brazil",
    "job_title": "Head of Sales",
    "consent": "on",
}


DEFENCES_SAID = {
    "on": "rate limits shared in Redis, honeypot, fill time, disposable domains, stop phrases",
    "off": "BENCH_DEFENCES=off: no rate limit, no spam checks, no quarantine (bench/settings.py)",
}


class BenchError(Exception):
    """The run cannot go on; the message says why and what to do."""


FORM_CONTENT = "application/x-www-form-urlencoded"
JSON_CONTENT = "application/json"
# Where the load generator puts each request's unique e-mail local part (bench/intake.lua).
LOCAL = "@@LOCAL@@"
# No name starts with another's name and a hyphen: rows are counted by e-mail prefix.
TARGET_NAMES = ("intake", "json", "hubspot", "secure-hubspot", "web-to-lead", "baseline")


@dataclass(frozen=True)
class Target:
    name: str
    path: str
    accepted_status: int
    stored: Callable[[str], dict[str, int]]  # e-mail prefix -> rows stored, by table
    content_type: str = FORM_CONTENT
    body: str = ""  # the request body, with LOCAL where the e-mail's local part goes
    authorization: str = ""  # an Authorization header, for the secure endpoint

    def body_for(self, local: str) -> str:
        return self.body.replace(LOCAL, local)


@dataclass(frozen=True)
class Load:
    """What wrk saw during one measured run, and what it cost the machine."""

    duration_s: float
    sent: int
    responses: int
    accepted: int
    other_statuses: dict[str, int]
    socket_errors: int
    p50_ms: float
    p95_ms: float
    p99_ms: float
    max_ms: float
    cores: dict[str, float]  # CPU used during the run, in cores, by gunicorn/postgres/wrk/rest

    @property
    def failed(self) -> int:
        return self.responses - self.accepted + self.socket_errors

    @property
    def per_second(self) -> float:
        return self.accepted / self.duration_s

    @property
    def server_cpu_ms(self) -> float:
        """CPU milliseconds gunicorn and PostgreSQL spent per accepted post. Unlike
        requests/s it hardly moves when a neighbour takes cores, so the second ratio
        printed compares the work per post even on a busy machine."""
        cores = self.cores.get("gunicorn", 0) + self.cores.get("postgres", 0)
        return 1000 * cores / self.per_second if self.per_second else float("inf")


def form_body_rest() -> str:
    return urllib.parse.urlencode(FORM_VALUES)


def form_body() -> str:
    return f"email={LOCAL}%40{EMAIL_DOMAIN}&{form_body_rest()}"


def json_body() -> str:
    values = {key: value for key, value in FORM_VALUES.items() if key != "consent"}
    body = {
        "email": f"{LOCAL}@{EMAIL_DOMAIN}",
        **values,
        "consent": True,
        "page_url": "https://www.acme.example/demo",
        "utm": {"utm_source": "bench"},
    }
    return json.dumps(body, separators=(",", ":"))


def hubspot_body() -> str:
    values = {key: value for key, value in FORM_VALUES.items() if key != "consent"}
    fields = [{"name": "email", "value": f"{LOCAL}@{EMAIL_DOMAIN}"}]
    fields += [{"name": name, "value": value} for name, value in values.items()]
    body = {
        "fields": fields,
        "context": {"pageUri": "https://www.acme.example/?utm_source=bench", "pageName": "Demo"},
        "legalConsentOptions": {"consent": {"consentToProcess": True, "text": "I agree"}},
    }
    return json.dumps(body, separators=(",", ":"))


# Web-to-Lead's names for the demo form's fields (the preset aliases, leads/capture/aliases.py).
WEB_TO_LEAD_NAMES = {"company_size": "employees", "job_title": "title"}


def web_to_lead_body(guid: str) -> str:
    values = {WEB_TO_LEAD_NAMES.get(key, key): value for key, value in FORM_VALUES.items()}
    rest = urllib.parse.urlencode({"oid": guid, **values, "lead_source": "bench"})
    return f"email={LOCAL}%40{EMAIL_DOMAIN}&{rest}"


def make_targets(form, token: str) -> list[Target]:
    from leads.capture.intake.spam import RENDERED_FIELD, render_token

    secure = f"/submissions/v3/integration/secure/submit/0/{form.guid}"
    # As a browser posts the page: with the signed time it was drawn (a minute ago), which
    # the fill-time check reads; without it the post would be held as a bot's.
    shown = urllib.parse.urlencode({RENDERED_FIELD: render_token(form, at=time.time() - 60)})
    return [
        Target("intake", f"/f/{form.slug}/", 302, intake_rows, body=f"{form_body()}&{shown}"),
        Target(
            "json",
            f"/api/v1/forms/{form.slug}/submissions/",
            201,
            intake_rows,
            JSON_CONTENT,
            json_body(),
        ),
        Target(
            "hubspot",
            f"/submissions/v3/integration/submit/0/{form.guid}",
            200,
            intake_rows,
            JSON_CONTENT,
            hubspot_body(),
        ),
        Target(
            "secure-hubspot",
            secure,
            200,
            intake_rows,
            JSON_CONTENT,
            hubspot_body(),
            authorization=f"Bearer {token}",
        ),
        Target(
            "web-to-lead",
            "/servlet/servlet.WebToLead?encoding=UTF-8",
            200,  # Salesforce's page that sends the browser on to retURL
            intake_rows,
            body=web_to_lead_body(str(form.guid)),
        ),
        Target("baseline", "/bench/baseline/", 201, baseline_rows, body=form_body()),
    ]


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--connections", type=int, default=32, help="open connections (32)")
    parser.add_argument("--duration", type=int, default=20, help="seconds per target (20)")
    parser.add_argument("--warmup", type=int, default=3, help="uncounted seconds first (3)")
    parser.add_argument(
        "--workers", type=int, default=DEFAULT_WORKERS, help=f"gunicorn workers ({DEFAULT_WORKERS})"
    )
    parser.add_argument("--threads", type=int, default=1, help="threads per worker, gthread if >1")
    parser.add_argument(
        "--rounds",
        type=int,
        default=1,
        help="measure everything this many times in turn, --duration each, and print each "
        "run's ratios beside the sum (1)",
    )
    parser.add_argument(
        "--defences",
        choices=("both", "on", "off"),
        default="both",
        help="measure with issue 7's defences on, off, or both side by side (both)",
    )
    parser.add_argument(
        "--targets",
        default=",".join(TARGET_NAMES),
        help=f"comma-separated, in this order: {','.join(TARGET_NAMES)} (all); the baseline "
        "is always measured, every ratio is to it",
    )
    parser.add_argument(
        "--webhook-receiver-delay",
        type=float,
        metavar="SECONDS",
        help="register a webhook endpoint for every event kind whose receiver answers after "
        "this long (10: issue 22's slow receiver), with a bulk worker sending to it",
    )
    args = parser.parse_args(argv)
    if (
        min(args.connections, args.duration, args.workers, args.threads, args.rounds) < 1
        or args.warmup < 0
    ):
        parser.error("connections, duration, workers, threads and rounds must be at least 1")
    chosen = [name.strip() for name in args.targets.split(",") if name.strip()]
    unknown = [name for name in chosen if name not in TARGET_NAMES]
    if unknown:
        parser.error(f"unknown target(s) {', '.join(unknown)}; choose from {TARGET_NAMES}")
    args.targets = [name for name in TARGET_NAMES if name in chosen or name == "baseline"]
    return args


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    try:
        wrk = require_services()
        with contextlib.ExitStack() as cleanup:
            cleanup.enter_context(one_run_at_a_time())
            workdir = Path(cleanup.enter_context(tempfile.TemporaryDirectory(prefix="bench-")))
            return run(args, wrk, workdir, cleanup)
    except BenchError as error:
        print(f"bench: {error}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("bench: interrupted; gunicorn stopped, database dropped", file=sys.stderr)
        return 130


def run(args: argparse.Namespace, wrk: str, workdir: Path, cleanup: contextlib.ExitStack) -> int:
    os.environ.update(bench_environment(workdir))
    recreate_database()
    cleanup.callback(drop_database)
    flush_redis()
    cleanup.callback(flush_redis)

    import django

    django.setup()
    form, token = form_and_token(prepare_database())
    if args.webhook_receiver_delay is not None:
        from bench import webhooks

        os.environ.update(webhooks.RECEIVER_ENV)
        delay, env = args.webhook_receiver_delay, dict(os.environ)
        said = webhooks.slow_receiver(delay, env, workdir, cleanup)
        print(f"webhooks: {said}", flush=True)
    targets = [target for target in make_targets(form, token) if target.name in args.targets]
    # One server per setting of the defences, both up for the whole run: each target is
    # measured with the defences on and then off, back to back, so a neighbour's load
    # drifting during the run weighs on both figures alike.
    modes = ("on", "off") if args.defences == "both" else (args.defences,)
    servers: dict[str, tuple[subprocess.Popen, int]] = {}
    for mode in modes:
        port, log = free_port(), workdir / f"gunicorn-{mode}.log"
        server = start_gunicorn(args, port, log, defences=mode)
        cleanup.callback(stop_gunicorn, server)
        wait_until_serving(server, port, f"/f/{form.slug}/", log)
        for target in targets:
            smoke_test(port, target, log, prefix=f"smoke-{mode}")
        check_defences(port, form.slug, mode)
        servers[mode] = (server, port)

    print_configuration(args, {mode: port for mode, (_, port) in servers.items()}, wrk)
    # The machine's speed drifts by up to a third within minutes (the identical baseline ran at
    # 874 req/s in one round and 1,218 in the next), so each target is measured between two
    # runs of the baseline on the same server, and its ratio is to those two.
    baseline = next(target for target in targets if target.name == "baseline")
    measured = [target for target in targets if target.name != "baseline"]
    slots = [baseline]
    for target in measured:
        slots += [target, baseline]
    runs: list[Run] = []
    for round_number in range(args.rounds):
        for number, target in enumerate(slots):
            # Whichever goes second has run faster by up to 10 %: the order alternates.
            order = modes if (number + round_number) % 2 == 0 else modes[::-1]
            for mode in order:
                server, port = servers[mode]
                prefix = f"{mode}-{target.name}.{round_number + 1}.{number}"
                warmup = f"warmup-{prefix}"
                if args.warmup:
                    drive(wrk, port, target, warmup, args.connections, args.warmup)
                    wait_until_settled(target, warmup)
                analyze()
                with cpu_accounting(server.pid) as cores:
                    load = drive(wrk, port, target, prefix, args.connections, args.duration)
                runs.append(
                    Run(mode, target, round_number, number, prefix, replace(load, cores=cores))
                )
                wait_until_settled(target, prefix)
    for mode in modes:
        print()
        print(f"  defences {mode.upper()}: {DEFENCES_SAID[mode]}")
        print_loads(targets, [run for run in runs if run.mode == mode])
    if len(modes) == 2:
        print_defences_cost(targets, runs)
    stored = [check_stored(runs, mode) for mode in modes]
    return 0 if all(stored) else 1


@dataclass(frozen=True)
class Run:
    """One measured run: which server, target, round and place in the round."""

    mode: str
    target: Target
    round_number: int
    slot: int
    prefix: str  # the e-mail prefix of its posts (and of their rows in the database)
    load: Load


def loads_of(runs: list[Run], name: str) -> list[Load]:
    return [run.load for run in runs if run.target.name == name]


def flanking_baselines(runs: list[Run], run: Run) -> list[Load]:
    """The baseline's runs just before and just after `run`, on its server, in its round."""
    return [
        other.load
        for other in runs
        if other.target.name == "baseline"
        and (other.mode, other.round_number) == (run.mode, run.round_number)
        and abs(other.slot - run.slot) == 1
    ]


def combined(loads: list[Load]) -> Load:
    """Several runs of one target as one: counts and time added up, cores weighted by time,
    and the latency percentiles of the median run (percentiles cannot be added)."""
    if len(loads) == 1:
        return loads[0]
    duration = sum(load.duration_s for load in loads)
    statuses: dict[str, int] = {}
    for load in loads:
        for status, count in load.other_statuses.items():
            statuses[status] = statuses.get(status, 0) + count
    middle = sorted(loads, key=lambda load: load.p95_ms)[len(loads) // 2]
    return Load(
        duration_s=duration,
        sent=sum(load.sent for load in loads),
        responses=sum(load.responses for load in loads),
        accepted=sum(load.accepted for load in loads),
        other_statuses=statuses,
        socket_errors=sum(load.socket_errors for load in loads),
        p50_ms=middle.p50_ms,
        p95_ms=middle.p95_ms,
        p99_ms=middle.p99_ms,
        max_ms=max(load.max_ms for load in loads),
        cores={
            party: sum(load.cores.get(party, 0) * load.duration_s for load in loads) / duration
            for party in loads[0].cores
        },
    )


# Preconditions and isolation.


def require_services() -> str:
    wrk = shutil.which("wrk")
    if wrk is None:
        raise BenchError(
            "wrk is not installed. Debian/Ubuntu: `sudo apt-get install wrk`; "
            "macOS: `brew install wrk`; or build it from https://github.com/wg/wrk."
        )
    import psycopg2
    import redis

    try:
        psycopg2.connect(f"{POSTGRES_SERVER}/postgres", connect_timeout=3).close()
    except psycopg2.OperationalError as error:
        raise BenchError(f"PostgreSQL does not answer at {POSTGRES_SERVER}: {error}") from error
    try:
        redis.Redis.from_url(REDIS_URL, socket_timeout=3).ping()
    except redis.RedisError as error:
        raise BenchError(f"Redis does not answer at {REDIS_URL}: {error}") from error
    return wrk


@contextlib.contextmanager
def one_run_at_a_time() -> Iterator[None]:
    # Two runs would share the database and the Redis db, and halve each other's numbers.
    with LOCK_FILE.open("w") as lock:
        try:
            fcntl.flock(lock, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError as error:
            raise BenchError(f"another bench run holds {LOCK_FILE}; wait for it") from error
        yield


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind((HOST, 0))
        return probe.getsockname()[1]


def bench_environment(workdir: Path) -> dict[str, str]:
    return {
        "DJANGO_SETTINGS_MODULE": "bench.settings",
        "DATABASE_URL": f"{POSTGRES_SERVER}/{DATABASE_NAME}",
        "CELERY_BROKER_URL": REDIS_URL,
        "DEBUG": "false",
        "SECRET_KEY": secrets.token_urlsafe(50),
        "ALLOWED_HOSTS": HOST,
        "SECURE_SSL_REDIRECT": "false",  # wrk posts over plain http
        "STATIC_ROOT": str(workdir / "static"),
        "LOG_LEVEL": "WARNING",
        "PYTHONPATH": str(ROOT),
        # The limiter still counts every post in Redis (its cost is measured); the load comes
        # from one address, so its limits are set above what the bench sends.
        "RATE_LIMIT_PER_IP_PER_MINUTE": "100000000",
        "RATE_LIMIT_PER_FORM_PER_MINUTE": "1000000000",  # 10 x the IP's (capture.W001)
    }


def maintenance(sql: str, server: str = POSTGRES_SERVER) -> None:
    import psycopg2

    connection = psycopg2.connect(f"{server}/postgres")
    try:
        connection.autocommit = True
        with connection.cursor() as cursor:
            cursor.execute(sql)
    finally:
        connection.close()


def recreate_database(server: str = POSTGRES_SERVER, name: str = DATABASE_NAME) -> None:
    drop_database(server, name)
    maintenance(f'CREATE DATABASE "{name}"', server)


def drop_database(server: str = POSTGRES_SERVER, name: str = DATABASE_NAME) -> None:
    with contextlib.suppress(Exception):
        from django.db import connections

        connections.close_all()
    maintenance(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)', server)


def flush_redis() -> None:
    import redis

    redis.Redis.from_url(REDIS_URL).flushdb()


# The database and the server.


def analyze() -> None:
    """Fresh planner statistics, as autovacuum's analyze would have made them by now.

    PostgreSQL keeps a connection's plans until the statistics they were made from change.
    A server that runs with autovacuum off (this machine's shared one does) never analyses
    the tables the posts fill, so every gunicorn and worker connection kept the plans it made
    when `leads_lead` was empty, a key check planned as a scan of the whole table among them,
    and the bench measured a cost that grows with the table and that no production server
    has. Called outside the measured windows, after the posts that fill the tables."""
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute("ANALYZE")


def prepare_database() -> str:
    from django.core.management import call_command

    call_command("migrate", run_syncdb=True, interactive=False, verbosity=0)
    call_command("collectstatic", interactive=False, verbosity=0)
    return make_form_and_agreement()


def form_and_token(slug: str):
    """The demo form, and a new bearer token for its HubSpot secure endpoint."""
    from leads.capture.builder.tokens import hubspot_token_issue
    from leads.capture.models import Form

    form = Form.objects.get(slug=slug)
    return form, hubspot_token_issue(form=form)


def make_form_and_agreement() -> str:
    """The demo's published form and active agreement, made by the demo's own code."""
    from django.contrib.auth.models import Group

    from portal.accounts.models import User
    from portal.accounts.roles import Role
    from portal.demo.services import _agreement, _form
    from scoring.models import Agreement

    def staff(role: Role) -> User:
        user = User.objects.create(username=role.name.lower())
        user.groups.add(Group.objects.get(name=role.value))
        return user

    form = _form(staff(Role.MARKETER))
    _agreement(staff(Role.MARKETING_MANAGER), staff(Role.SALES_MANAGER))
    if not form.is_published or Agreement.objects.active() is None:
        raise BenchError("the demo form is not published or its agreement is not active")
    return form.slug


def intake_rows(prefix: str) -> dict[str, int]:
    from leads.models import Lead, Submission

    start = f"{prefix}-"
    return {
        "submissions": Submission.objects.filter(lead__email__startswith=start).count(),
        "leads": Lead.objects.filter(email__startswith=start).count(),
    }


def baseline_rows(prefix: str) -> dict[str, int]:
    from bench.models import BaselineRow

    return {"rows": BaselineRow.objects.filter(email__startswith=f"{prefix}-").count()}


def start_gunicorn(
    args: argparse.Namespace, port: int, log: Path, *, defences: str = "on"
) -> subprocess.Popen:
    command = [
        *(sys.executable, "-m", "gunicorn", "portal.wsgi:application"),
        *("--bind", f"{HOST}:{port}", "--chdir", str(ROOT)),
        *("--worker-class", worker_class(args), "--workers", str(args.workers)),
        *("--threads", str(args.threads), "--keep-alive", "0", "--log-level", "warning"),
    ]
    env = {**os.environ, "BENCH_DEFENCES": defences}  # bench/settings.py
    with log.open("w") as output:
        return subprocess.Popen(command, cwd=ROOT, env=env, stdout=output, stderr=subprocess.STDOUT)


def worker_class(args: argparse.Namespace) -> str:
    return "sync" if args.threads == 1 else "gthread"


def stop_gunicorn(server: subprocess.Popen) -> None:
    server.terminate()
    try:
        server.wait(timeout=15)
    except subprocess.TimeoutExpired:
        server.kill()
        server.wait()


def request(
    port: int, method: str, path: str, body: str = "", headers: dict[str, str] | None = None
) -> http.client.HTTPResponse:
    connection = http.client.HTTPConnection(HOST, port, timeout=10)
    connection.request(method, path, body=body.encode() or None, headers=headers or {})
    response = connection.getresponse()
    response.read()
    connection.close()
    return response


def wait_until_serving(server: subprocess.Popen, port: int, path: str, log: Path) -> None:
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        if server.poll() is not None:
            raise BenchError(f"gunicorn exited with {server.returncode}:\n{tail(log)}")
        with contextlib.suppress(OSError):
            status = request(port, "GET", path).status
            if status == 200:
                return
            raise BenchError(f"GET {path} answered {status}, not 200:\n{tail(log)}")
        time.sleep(0.2)
    raise BenchError(f"gunicorn did not answer within 30 s:\n{tail(log)}")


def smoke_test(port: int, target: Target, log: Path, *, prefix: str = "smoke") -> None:
    response = request(
        port, "POST", target.path, target.body_for(f"{prefix}-{target.name}"), headers_of(target)
    )
    if response.status != target.accepted_status:
        raise BenchError(
            f"POST {target.path} answered {response.status}, not {target.accepted_status}; "
            f"the benchmark would count only failures:\n{tail(log)}"
        )


def check_defences(port: int, slug: str, mode: str) -> None:
    """Prove the server's setting: a post with the honeypot filled is quarantined with the
    defences on, and stored as a lead with them off."""
    from leads.capture.intake.spam import HONEYPOT_FIELD
    from leads.capture.models import QuarantinedPost
    from leads.models import Lead

    email = f"defences-{mode}@{EMAIL_DOMAIN}"
    body = f"email={urllib.parse.quote(email)}&{form_body_rest()}&{HONEYPOT_FIELD}=spam"
    request(port, "POST", f"/f/{slug}/", body, {"Content-Type": FORM_CONTENT})
    held = QuarantinedPost.objects.filter(email=email).exists()
    stored = Lead.objects.filter(email=email).exists()
    if (held, stored) != ((True, False) if mode == "on" else (False, True)):
        raise BenchError(
            f"The server with the defences {mode} quarantined={held}, stored={stored} a post "
            "with the honeypot filled: BENCH_DEFENCES did not take effect."
        )


def headers_of(target: Target) -> dict[str, str]:
    headers = {"Content-Type": target.content_type}
    if target.authorization:
        headers["Authorization"] = target.authorization
    return headers


def tail(log: Path, lines: int = 30) -> str:
    return "\n".join(log.read_text(errors="replace").splitlines()[-lines:])


# Load and results.


def drive(wrk: str, port: int, target: Target, prefix: str, connections: int, seconds: int) -> Load:
    command = [
        *(wrk, "--threads", "1", "--connections", str(connections)),
        *("--duration", f"{seconds}s", "--timeout", "30s", "--script", str(WRK_SCRIPT)),
        f"http://{HOST}:{port}{target.path}",
        *("--", prefix, str(target.accepted_status), target.content_type, target.body),
        target.authorization,
    ]
    finished = subprocess.run(command, capture_output=True, text=True, check=False)
    line = next((x for x in finished.stdout.splitlines() if x.startswith("BENCH-RESULT ")), None)
    if finished.returncode != 0 or line is None:
        raise BenchError(f"wrk failed ({finished.returncode}):\n{finished.stdout}{finished.stderr}")
    result = json.loads(line.removeprefix("BENCH-RESULT "))
    return Load(
        duration_s=result["duration_us"] / 1e6,
        sent=result["sent"],
        responses=result["responses"],
        accepted=result["accepted"],
        other_statuses=result["other_statuses"],
        socket_errors=sum(
            result[key] for key in ("connect_errors", "read_errors", "write_errors", "timeouts")
        ),
        p50_ms=float(result["p50_ms"]),
        p95_ms=float(result["p95_ms"]),
        p99_ms=float(result["p99_ms"]),
        max_ms=float(result["max_ms"]),
        cores={},
    )


# Where the CPU went. On two cores the client, the server, PostgreSQL and anything else on
# the machine share the same cycles; printing the split shows whether the numbers are the
# server's or a neighbour's.

CLOCK_TICKS = os.sysconf("SC_CLK_TCK")
NEIGHBOUR_WARNING_CORES = 0.2


@contextlib.contextmanager
def cpu_accounting(server_pid: int) -> Iterator[dict[str, float]]:
    """Yield a dict that is filled, on exit, with the cores each party used meanwhile."""
    cores: dict[str, float] = {}
    before, started = cpu_ticks(server_pid), time.monotonic()
    yield cores
    after, seconds = cpu_ticks(server_pid), time.monotonic() - started
    used = {
        party: sum(ticks - before[party].get(pid, 0) for pid, ticks in after[party].items())
        / CLOCK_TICKS
        / seconds
        for party in ("gunicorn", "postgres", "machine")
    }
    cores["gunicorn"], cores["postgres"] = used["gunicorn"], used["postgres"]
    cores["wrk"] = (after["wrk"][0] - before["wrk"][0]) / CLOCK_TICKS / seconds
    cores["rest"] = max(0.0, used["machine"] - cores["gunicorn"] - cores["postgres"] - cores["wrk"])


def cpu_ticks(server_pid: int) -> dict[str, dict[int, int]]:
    """CPU ticks so far of gunicorn's processes, this database's PostgreSQL processes, the
    waited-for children (wrk) and the whole machine (busy time of all CPUs)."""
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT pid FROM pg_stat_activity WHERE pid <> pg_backend_pid()"
            " AND (datname = current_database() OR datname IS NULL)"
        )
        postgres = [pid for (pid,) in cursor.fetchall()]
    processes = process_table()
    gunicorn = [
        server_pid,
        *(pid for pid, (parent, _) in processes.items() if parent == server_pid),
    ]
    children = resource.getrusage(resource.RUSAGE_CHILDREN)
    try:
        cpu = [int(x) for x in Path("/proc/stat").read_text().split("\n", 1)[0].split()[1:]]
        machine_busy = sum(cpu[:8]) - cpu[3] - cpu[4]
    except OSError:
        machine_busy = 0
    return {
        "gunicorn": {pid: processes[pid][1] for pid in gunicorn if pid in processes},
        "postgres": {pid: processes[pid][1] for pid in postgres if pid in processes},
        "wrk": {0: round((children.ru_utime + children.ru_stime) * CLOCK_TICKS)},
        "machine": {0: machine_busy},
    }


def proc_stats() -> dict[int, list[str]]:
    """pid -> the fields of /proc/<pid>/stat after the command name, of every process."""
    stats = {}
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            # The command name, in parentheses, may hold spaces; the fields follow it.
            stats[int(stat.parent.name)] = stat.read_text().rsplit(")", 1)[1].split()
        except (OSError, IndexError):
            continue
    return stats


def cpu_ticks_of(fields: list[str]) -> int:
    """User + system ticks, from a process's `proc_stats` fields."""
    return int(fields[11]) + int(fields[12])


def process_table() -> dict[int, tuple[int, int]]:
    """pid -> (parent pid, user + system ticks) of every process, from /proc."""
    return {pid: (int(fields[1]), cpu_ticks_of(fields)) for pid, fields in proc_stats().items()}


def wait_until_settled(target: Target, prefix: str) -> None:
    """Let the server finish the requests wrk left in flight before anything is counted."""
    previous = None
    deadline = time.monotonic() + 15
    while time.monotonic() < deadline:
        current = target.stored(prefix)
        if current == previous:
            return
        previous = current
        time.sleep(0.5)


def print_configuration(args: argparse.Namespace, ports: dict[str, int], wrk: str) -> None:
    import gunicorn
    from django.conf import settings

    database = settings.DATABASES["default"]
    wrk_version = subprocess.run([wrk, "-v"], capture_output=True, text=True).stdout.split()[:2]
    print("LeadBridge intake benchmark")
    print(f"  machine   {os.cpu_count()} CPUs, shared by the server, PostgreSQL, Redis and wrk")
    print(
        f"  server    gunicorn {gunicorn.__version__}, {args.workers} {worker_class(args)} "
        f"workers x {args.threads} thread(s), no keep-alive, on {HOST}, port "
        + ", ".join(f"{port} (defences {mode})" for mode, port in ports.items())
        + "; "
        f"DEBUG={settings.DEBUG}, CONN_MAX_AGE={database['CONN_MAX_AGE']}, "
        f"CONN_HEALTH_CHECKS={database['CONN_HEALTH_CHECKS']}"
    )
    print(
        f"  data      PostgreSQL database {database['NAME']} (new), "
        f"Celery broker {settings.CELERY_BROKER_URL} (flushed, no worker)"
    )
    print(
        f"  load      {' '.join(wrk_version)}, 1 thread, {args.connections} connections, "
        f"{args.duration} s per target after {args.warmup} s of uncounted warm-up"
        + (f", {args.rounds} rounds" if args.rounds > 1 else "")
    )


def print_loads(targets: list[Target], runs: list[Run]) -> None:
    """One server's figures: each target's runs added up, and its ratio to the baseline's
    runs beside it (`flanking_baselines`), in all and run by run."""
    print()
    print(
        f"  {'':14} {'path':28} {'req/s':>8} {'p50 ms':>8} {'p95 ms':>8} {'p99 ms':>8} "
        f"{'ok':>7} {'failed':>7}   cores used: gunicorn, postgres, wrk, rest"
    )
    for target in targets:
        load = combined(loads_of(runs, target.name))
        path = target.path if len(target.path) <= 23 else target.path[:20] + "..."
        print(
            f"  {target.name:14} {'POST ' + path:28} {load.per_second:8.1f} "
            f"{load.p50_ms:8.1f} {load.p95_ms:8.1f} {load.p99_ms:8.1f} {load.accepted:7} "
            f"{load.failed:7}   {', '.join(f'{n:.2f}' for n in load.cores.values())}"
        )
        if load.failed:
            statuses = ", ".join(f"{n} x {s}" for s, n in load.other_statuses.items())
            print(
                f"  {'':14} failures: {statuses or 'none by status'}, {load.socket_errors} socket"
            )
    busy_neighbours = max(run.load.cores.get("rest", 0) for run in runs)
    if busy_neighbours > NEIGHBOUR_WARNING_CORES:
        print(
            f"  warning: other processes took up to {busy_neighbours:.2f} cores during a "
            "measurement, so the server got less than the machine; rerun on a quiet machine."
        )
    print()
    print("  against the baseline's runs just before and after (requests/s; server CPU per post)")
    for target in targets:
        if target.name == "baseline":
            continue
        own = [run for run in runs if run.target.name == target.name]
        pairs = [(run.load, combined(flanking_baselines(runs, run))) for run in own]
        load = combined([mine for mine, _ in pairs])
        beside = combined([flank for run in own for flank in flanking_baselines(runs, run)])
        each = "  ".join(ratios(mine, flank) for mine, flank in pairs)
        print(
            f"  {target.name}/baseline {ratios(load, beside)} ({load.server_cpu_ms:.2f} ms vs "
            f"{beside.server_cpu_ms:.2f} ms)" + (f"   run by run: {each}" if len(pairs) > 1 else "")
        )
    rates = ", ".join(f"{load.per_second:.0f}" for load in loads_of(runs, "baseline"))
    print(f"  the baseline's runs, requests/s in turn: {rates}")


def ratios(load: Load, baseline: Load) -> str:
    """By requests/s; by server CPU per post."""
    by_cpu = baseline.server_cpu_ms / load.server_cpu_ms
    return f"{load.per_second / baseline.per_second:.2f}; {by_cpu:.2f}"


def print_defences_cost(targets: list[Target], runs: list[Run]) -> None:
    """Issue 7: with all the defences on, intake stays within 10 % of its figure without them
    (each pair was measured back to back)."""
    on = {t.name: combined(loads_of([r for r in runs if r.mode == "on"], t.name)) for t in targets}
    off = {
        t.name: combined(loads_of([r for r in runs if r.mode == "off"], t.name)) for t in targets
    }
    print()
    print(
        f"  {'':14} {'req/s on':>9} {'req/s off':>9} {'on/off':>7} {'p95 on':>8} {'p95 off':>8}"
        f" {'CPU ms on':>10} {'CPU ms off':>10} {'off/on':>7}   (CPU: server per post)"
    )
    for target in targets:
        with_them, without = on[target.name], off[target.name]
        ratio = with_them.per_second / without.per_second if without.per_second else 0.0
        # CPU per post hardly moves when a neighbour takes cores: the steadier of the two.
        cpu_ratio = without.server_cpu_ms / with_them.server_cpu_ms
        verdict = "within 10 %" if cpu_ratio >= 0.9 else "MORE than 10 % costlier"
        if target.name == "baseline":
            verdict = "no defences here either: the spread of this run"
        print(
            f"  {target.name:14} {with_them.per_second:9.1f} {without.per_second:9.1f} "
            f"{ratio:7.2f} {with_them.p95_ms:8.1f} {without.p95_ms:8.1f} "
            f"{with_them.server_cpu_ms:10.2f} {without.server_cpu_ms:10.2f} {cpu_ratio:7.2f}"
            f"   {verdict}" + ("" if target.name == "baseline" else " by CPU per post")
        )


def check_stored(runs: list[Run], mode: str) -> bool:
    print()
    all_stored = True
    for run in runs:
        if run.mode != mode:
            continue
        load, rows = run.load, run.target.stored(run.prefix)
        stored = next(iter(rows.values()))
        fine = load.accepted <= stored <= load.sent and len(set(rows.values())) == 1
        all_stored &= fine
        counts = ", ".join(f"{n} {table}" for table, n in rows.items())
        extra = stored - load.accepted
        print(
            f"  {'OK' if fine else 'FAILED':6} {run.prefix}: {load.accepted} accepted, {counts} "
            f"stored; {load.sent - load.responses} were unanswered when wrk stopped and "
            + (f"{extra} more than accepted were stored" if extra >= 0 else f"{-extra} MISSING")
        )
    if not all_stored:
        print("  FAILED: an accepted post is missing from the database, or the counts disagree.")
    return all_stored


if __name__ == "__main__":
    sys.exit(main())
