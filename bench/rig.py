"""What bench/pipeline.py and bench/faults.py share: services of their own, the product's
processes (gunicorn, a Celery worker, beat), an open-loop HTTP poster, and the counts that
say whether every accepted lead was stored and routed exactly once.

Services of their own: a `redis-server` on a free port (stopped and stalled freely), and for
the faults a throwaway PostgreSQL cluster made with `initdb` as the `postgres` user (restarted
freely). The machine's shared PostgreSQL and Redis are never stopped, restarted or paused.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import resource
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

from bench.intake import HOST, BenchError, cpu_ticks_of, free_port, proc_stats, tail

ROOT = Path(__file__).resolve().parent.parent
EMAIL_DOMAIN = "acme.example"
# A valid, qualifying JSON submission of the demo's "Talk to sales" form, but the e-mail.
API_VALUES = {
    "first_name": "Ana",
    "last_name": "Souza",
    "company": "Acme Ltda",
    "company_size": "120",
    "country": "Brazil",
    "job_title": "Head of Sales",
    "consent": True,
}


def load() -> str:
    """The machine's load average, printed beside every figure: the machine is shared."""
    one, five, fifteen = os.getloadavg()
    return f"load {one:.2f} {five:.2f} {fifteen:.2f}"


def say(message: str) -> None:
    print(f"[{time.strftime('%H:%M:%S')}] {message}", flush=True)


# Services of our own.


class OwnRedis:
    def __init__(self) -> None:
        self.binary = shutil.which("redis-server")
        if self.binary is None:
            raise BenchError("redis-server is not installed (apt-get install redis-server)")
        self.port = free_port()
        self.url = f"redis://{HOST}:{self.port}/0"
        self.process: subprocess.Popen | None = None

    def start(self) -> None:
        self.process = subprocess.Popen(
            [self.binary, "--port", str(self.port), "--bind", HOST,
             "--save", "", "--appendonly", "no"],
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
        )  # fmt: skip
        wait_until(lambda: self.ping(), seconds=10, what=f"redis-server on port {self.port}")

    def ping(self) -> bool:
        try:
            with socket.create_connection((HOST, self.port), timeout=0.5) as conn:
                conn.sendall(b"PING\r\n")
                return conn.recv(16).startswith(b"+PONG")
        except OSError:
            return False

    def stop(self) -> None:
        if self.process is not None:
            self.process.send_signal(signal.SIGCONT)
            self.process.kill()
            self.process.wait(timeout=10)
            self.process = None

    def pause(self) -> None:
        self.process.send_signal(signal.SIGSTOP)

    def resume(self) -> None:
        self.process.send_signal(signal.SIGCONT)

    def client(self):
        import redis

        return redis.Redis.from_url(self.url, socket_timeout=2)


class OwnPostgres:
    """A throwaway cluster, owned by the `postgres` user, on a free port; removed at the end."""

    BIN = Path("/usr/lib/postgresql")

    def __init__(self) -> None:
        versions = sorted(self.BIN.glob("*/bin/initdb"), key=lambda p: int(p.parts[-3]))
        if not versions:
            raise BenchError("PostgreSQL's initdb is not installed under /usr/lib/postgresql")
        self.bin = versions[-1].parent
        self.port = free_port()
        self.data = Path(tempfile.mkdtemp(prefix="leadbridge-faults-pg-"))
        self.server = f"postgres://postgres@{HOST}:{self.port}"

    def _as_postgres(self, *command: str) -> None:
        argv = [str(self.bin / command[0]), *command[1:]]
        if os.geteuid() == 0:
            argv = ["su", "postgres", "-c", " ".join(argv)]
        # Not captured: the postmaster that pg_ctl starts would hold the pipe open forever.
        subprocess.run(argv, check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)

    def init(self) -> None:
        if os.geteuid() == 0:
            shutil.chown(self.data, "postgres", "postgres")
        self._as_postgres("initdb", "-D", str(self.data), "-U", "postgres", "--auth=trust")
        self.start()

    def _options(self) -> str:
        return f"'-p {self.port} -k /tmp -c listen_addresses={HOST}'"

    def start(self) -> None:
        log = self.data / "server.log"
        self._as_postgres("pg_ctl", "-D", str(self.data), "-o", self._options(), "-l", str(log),
                          "-w", "start")  # fmt: skip

    def restart(self) -> None:
        log = self.data / "server.log"
        self._as_postgres("pg_ctl", "-D", str(self.data), "-o", self._options(), "-l", str(log),
                          "-m", "fast", "-w", "restart")  # fmt: skip

    def destroy(self) -> None:
        with contextlib.suppress(subprocess.CalledProcessError):
            self._as_postgres("pg_ctl", "-D", str(self.data), "-m", "immediate", "-w", "stop")
        shutil.rmtree(self.data, ignore_errors=True)


# The product's processes.


@dataclass
class Processes:
    """gunicorn, the handoff worker, the bulk worker, beat and a mail server (`smtp`: takes
    every message at EMAIL_PORT), each in a session of its own (killable with its children),
    logging into `workdir`. Each one's PostgreSQL connections carry its name
    (`application_name` bench-NAME), so `CpuMeter` tells their backends apart."""

    workdir: Path
    env: dict[str, str]
    web_workers: int = 5
    port: int = field(default_factory=free_port)
    running: dict[str, subprocess.Popen] = field(default_factory=dict)

    def start(self, name: str) -> subprocess.Popen:
        commands = {
            "gunicorn": [
                *(sys.executable, "-m", "gunicorn", "portal.wsgi:application"),
                *("--bind", f"{HOST}:{self.port}", "--workers", str(self.web_workers)),
                *("--keep-alive", "0", "--log-level", "warning", "--timeout", "30"),
            ],
            "worker": [
                *(sys.executable, "-m", "celery", "-A", "portal", "worker"),
                *("--pool", "prefork", "--concurrency", "2", "--queues", "handoff"),
                *("--without-gossip", "--without-mingle", "--loglevel", "WARNING"),
            ],
            # As production runs it (docker-compose.yml, deploy/systemd): one process.
            "bulk": [
                *(sys.executable, "-m", "celery", "-A", "portal", "worker"),
                *("--pool", "prefork", "--concurrency", "1", "--queues", "bulk"),
                *("--hostname", "bulk@%h", "--without-gossip", "--without-mingle"),
                *("--loglevel", "WARNING"),
            ],
            "beat": [
                *(sys.executable, "-m", "celery", "-A", "portal", "beat", "--loglevel", "WARNING"),
                *("--schedule", str(self.workdir / "beat-schedule")),
            ],
            "smtp": [
                *(sys.executable, str(ROOT / "bench" / "smtp_sink.py")),
                *(self.env.get("EMAIL_PORT", "25"), str(self.mail_tally)),
            ],
        }
        env = {**self.env, "PGAPPNAME": f"bench-{name}"}
        with (self.workdir / f"{name}.log").open("a") as log:
            process = subprocess.Popen(
                commands[name], cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT,
                start_new_session=True,
            )  # fmt: skip
        self.running[name] = process
        return process

    @property
    def mail_tally(self) -> Path:
        return self.workdir / "smtp-tally"

    def kill(self, name: str) -> None:
        process = self.running.pop(name)
        with contextlib.suppress(ProcessLookupError):
            os.killpg(process.pid, signal.SIGKILL)
        process.wait()

    def stop(self, name: str) -> None:
        process = self.running.pop(name, None)
        if process is None:
            return
        process.terminate()
        try:
            process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(process.pid, signal.SIGKILL)
            process.wait()
        # A prefork worker's children, should the parent have left them behind.
        with contextlib.suppress(ProcessLookupError):
            os.killpg(process.pid, signal.SIGKILL)

    def stop_all(self) -> None:
        for name in list(self.running):
            self.stop(name)

    def log_tail(self, name: str) -> str:
        return tail(self.workdir / f"{name}.log")

    def wait_serving(self, seconds: float = 30) -> None:
        def answers() -> bool:
            if self.running["gunicorn"].poll() is not None:
                raise BenchError(f"gunicorn exited:\n{self.log_tail('gunicorn')}")
            address = (HOST, self.port)
            with contextlib.suppress(OSError), socket.create_connection(address, timeout=1) as conn:
                conn.sendall(b"GET /healthz/ HTTP/1.0\r\nHost: 127.0.0.1\r\n\r\n")
                return b" 200 " in conn.recv(64)
            return False

        wait_until(answers, seconds=seconds, what="gunicorn")


def product_environment(
    workdir: Path, database_url: str, broker_url: str, *, defences: bool = True, **extra
) -> dict:
    """The product's environment for a server or worker; `defences=False` serves it without
    the rate limits, fill time, spam checks and quarantine (`bench/settings.py`)."""
    import secrets

    return {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "portal.settings" if defences else "bench.settings",
        "BENCH_DEFENCES": "on" if defences else "off",
        "DATABASE_URL": database_url,
        "CELERY_BROKER_URL": broker_url,
        "DEBUG": "false",
        "SECRET_KEY": secrets.token_urlsafe(50),
        "ALLOWED_HOSTS": HOST,
        "SECURE_SSL_REDIRECT": "false",
        "STATIC_ROOT": str(workdir / "static"),
        "LOG_LEVEL": "WARNING",
        "PYTHONPATH": str(ROOT),
        # One client IP posts everything here: the limits stay on (Redis counts every post)
        # but too high to refuse one.
        "RATE_LIMIT_PER_IP_PER_MINUTE": "100000000",
        "RATE_LIMIT_PER_FORM_PER_MINUTE": "100000000",
        **{key: str(value) for key, value in extra.items()},
    }


def wait_until(predicate, *, seconds: float, what: str, every: float = 0.1) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if predicate():
            return
        time.sleep(every)
    raise BenchError(f"{what} did not answer within {seconds:.0f} s")


# The database, as the product's own code makes it.


def prepare_database(queues: int = 1) -> str:
    """Migrate, collect static files, and make the demo form, its agreement and the queues:
    one that takes every lead with five reps and no cap (so routing never waits for room), or
    `queues` queues of five reps each with mixed strategies (`mixed_queues`)."""
    from django.contrib.auth.models import Group
    from django.core.management import call_command

    from bench.intake import make_form_and_agreement
    from leads.routing.models import Queue, QueueMember
    from portal.accounts.models import User
    from portal.accounts.roles import Role

    call_command("migrate", interactive=False, verbosity=0)
    call_command("collectstatic", interactive=False, verbosity=0)
    slug = make_form_and_agreement()
    if queues > 1:
        mixed_queues(queues)
        return slug
    queue = Queue.objects.create(name="Everyone", priority=1)
    for position in range(5):
        # An address, as a real rep has: routing then queues their notification e-mails.
        rep = User.objects.create(username=f"rep{position}", email=f"rep{position}@bench.example")
        rep.groups.add(Group.objects.get(name=Role.SALES_REP.value))
        QueueMember.objects.create(queue=queue, rep=rep, position=position)
    return slug


STRATEGIES = ("round_robin", "weighted", "least_loaded")


def mixed_queues(count: int, reps_per_queue: int = 5) -> None:
    """`count` queues of `reps_per_queue` reps each (10 x 5: 50 reps), strategies in turn
    (round robin, weighted 1..5, least loaded), and caps high enough that routing never
    waits. Queue i < count - 1 takes the leads whose e-mail number ends in i, with a second
    condition (country is Brazil, which every bench post is); the last is the catch-all."""
    from django.contrib.auth.models import Group

    from leads.routing.models import Queue, QueueMember
    from portal.accounts.models import User
    from portal.accounts.roles import Role

    group = Group.objects.get(name=Role.SALES_REP.value)
    for i in range(count):
        conditions = []
        if i < count - 1:
            conditions = [
                {"attribute": "email", "operator": "matches", "value": rf"-\d*{i}@"},
                {"attribute": "country", "operator": "one_of", "value": ["BR", "Brazil"]},
            ]
        strategy = STRATEGIES[i % len(STRATEGIES)]
        queue = Queue.objects.create(
            name=f"Queue {i}",
            priority=i + 1,
            conditions=conditions,
            strategy=strategy,
            capacity_per_rep=100_000 if i % 2 else None,
            daily_cap_per_rep=100_000 if i % 4 == 1 else None,
        )
        for position in range(reps_per_queue):
            n = i * reps_per_queue + position
            rep = User.objects.create(username=f"rep{n}", email=f"rep{n}@bench.example")
            rep.groups.add(group)
            QueueMember.objects.create(queue=queue, rep=rep, position=position, weight=position + 1)


def api_body(email: str) -> bytes:
    return json.dumps({"email": email, **API_VALUES}).encode()


# An open-loop poster: request n leaves at start + n / rate whatever the server does, so a slow
# server cannot slow the client down and hide its own latency.


@dataclass
class Answer:
    email: str
    status: int  # 0: no answer (connection refused, reset, timed out)
    seconds: float
    content_type: str = ""
    retry_after: str = ""
    error: str = ""


async def _post(port: int, path: str, email: str, timeout: float) -> Answer:
    started = time.monotonic()
    body = api_body(email)
    head = (
        f"POST {path} HTTP/1.1\r\nHost: {HOST}\r\nContent-Type: application/json\r\n"
        f"Content-Length: {len(body)}\r\nConnection: close\r\n\r\n"
    ).encode()
    try:
        async with asyncio.timeout(timeout):
            reader, writer = await asyncio.open_connection(HOST, port)
            writer.write(head + body)
            await writer.drain()
            raw = await reader.read()
            writer.close()
    except (OSError, TimeoutError) as error:
        return Answer(email, 0, time.monotonic() - started, error=type(error).__name__)
    lines = raw.split(b"\r\n\r\n", 1)[0].decode("latin-1").split("\r\n")
    try:
        status = int(lines[0].split()[1])
    except (IndexError, ValueError):
        return Answer(email, 0, time.monotonic() - started, error="bad response")
    headers = {k.strip().lower(): v.strip() for k, _, v in (x.partition(":") for x in lines[1:])}
    return Answer(
        email,
        status,
        time.monotonic() - started,
        headers.get("content-type", ""),
        headers.get("retry-after", ""),
    )


async def _post_at_rate(
    port: int, path: str, prefix: str, rate: float, seconds: float, timeout: float
) -> list[Answer]:
    start = time.monotonic()
    tasks = []
    for n in range(round(rate * seconds)):
        delay = start + n / rate - time.monotonic()
        if delay > 0:
            await asyncio.sleep(delay)
        email = f"{prefix}-{n}@{EMAIL_DOMAIN}"
        tasks.append(asyncio.create_task(_post(port, path, email, timeout)))
    return list(await asyncio.gather(*tasks))


def post_at_rate(
    port: int, path: str, prefix: str, rate: float, seconds: float, timeout: float = 30
) -> list[Answer]:
    return asyncio.run(_post_at_rate(port, path, prefix, rate, seconds, timeout))


# The same open loop in C (bench/poster.c), where a C compiler is found: a Python asyncio
# poster spends ~0.7-0.9 ms of CPU a post (a sixth of the intake's own) on the two cores it
# measures, and when it is starved it answers the server's FIN late, which gunicorn's sync
# workers wait for after every response (gunicorn's close_graceful).

LOCAL_MARK = "@@LOCAL@@"


def native_poster(workdir: Path) -> str | None:
    """Compile bench/poster.c into `workdir`; its path, or None without a C compiler."""
    compiler = shutil.which("cc") or shutil.which("gcc")
    if compiler is None:
        return None
    binary = workdir / "poster"
    subprocess.run(
        [compiler, "-O2", "-o", str(binary), str(ROOT / "bench" / "poster.c")],
        check=True, capture_output=True,
    )  # fmt: skip
    return str(binary)


def post_at_rate_native(
    binary: str, port: int, path: str, prefix: str, rate: float, seconds: float, timeout: float = 30
) -> list[Answer]:
    before, after = api_body(f"{LOCAL_MARK}@{EMAIL_DOMAIN}").decode().split(LOCAL_MARK)
    finished = subprocess.run(
        [binary, HOST, str(port), path, f"{rate:g}", f"{seconds:g}", f"{timeout:g}",
         before, after, prefix],
        capture_output=True, text=True, check=False,
    )  # fmt: skip
    if finished.returncode != 0:
        raise BenchError(f"the poster failed ({finished.returncode}): {finished.stderr}")
    answers = []
    for line in finished.stdout.splitlines():
        n, status, micros = line.split()
        answers.append(
            Answer(
                f"{prefix}-{n}@{EMAIL_DOMAIN}",
                int(status),
                int(micros) / 1e6,
                error="" if int(status) else "no answer",
            )
        )
    return answers


def summarize(answers: list[Answer]) -> dict[str, int]:
    statuses = Counter(a.status for a in answers)
    return {
        "sent": len(answers),
        "2xx": sum(n for s, n in statuses.items() if 200 <= s < 300),
        "5xx": sum(n for s, n in statuses.items() if s >= 500),
        "other": sum(n for s, n in statuses.items() if 0 < s < 200 or 300 <= s < 500),
        "no answer": statuses.get(0, 0),
    }


# Where the CPU went: on two cores the poster, gunicorn, the worker, beat, PostgreSQL and
# Redis share the same cycles with whatever else runs on the machine.

CLOCK_TICKS = os.sysconf("SC_CLK_TCK")


def _process_groups() -> dict[int, tuple[int, int]]:
    """pid -> (process group, user + system ticks) of every process, from /proc."""
    return {pid: (int(fields[2]), cpu_ticks_of(fields)) for pid, fields in proc_stats().items()}


def _machine_busy_ticks() -> int:
    cpu = [int(x) for x in Path("/proc/stat").read_text().split("\n", 1)[0].split()[1:]]
    return sum(cpu[:8]) - cpu[3] - cpu[4]  # all but idle and iowait


@dataclass
class CpuMeter:
    """CPU ticks by party, between `start()` and `stop()`: each product process with its
    children (each runs in a process group of its own), this database's PostgreSQL backends,
    our Redis, this process (the poster), and the whole machine."""

    processes: Processes
    redis: OwnRedis
    started: dict[str, dict[int, int]] = field(default_factory=dict)
    used: dict[str, float] = field(default_factory=dict)  # party -> CPU seconds
    # The PostgreSQL backends' share by client (their `application_name`): in `used`'s
    # "postgres" already, never added to the parties' sum.
    backends_used: dict[str, float] = field(default_factory=dict)
    seconds: float = 0.0

    def _ticks(self) -> dict[str, dict[int, int]]:
        from django.db import connection

        with connection.cursor() as cursor:
            cursor.execute(
                "SELECT pid, application_name FROM pg_stat_activity"
                " WHERE pid <> pg_backend_pid() AND datname = current_database()"
            )
            backends = dict(cursor.fetchall())
        table = _process_groups()
        groups = {name: p.pid for name, p in self.processes.running.items()}
        ticks: dict[str, dict[int, int]] = {name: {} for name in groups}
        ticks["postgres"], ticks["redis"] = {}, {}
        for pid, (group, used) in table.items():
            for name, leader in groups.items():
                if group == leader:
                    ticks[name][pid] = used
            if pid in backends:
                ticks["postgres"][pid] = used
                client = backends[pid].removeprefix("bench-") or "other"
                ticks.setdefault(f"pg:{client}", {})[pid] = used
            if self.redis.process is not None and pid == self.redis.process.pid:
                ticks["redis"][pid] = used
        me, children = (
            resource.getrusage(who) for who in (resource.RUSAGE_SELF, resource.RUSAGE_CHILDREN)
        )
        poster = me.ru_utime + me.ru_stime + children.ru_utime + children.ru_stime
        ticks["poster"] = {0: round(poster * CLOCK_TICKS)}
        ticks["machine"] = {0: _machine_busy_ticks()}
        return ticks

    def start(self) -> None:
        self.started, self._at = self._ticks(), time.monotonic()

    def stop(self) -> None:
        ended, self.seconds = self._ticks(), time.monotonic() - self._at
        used = {
            party: sum(t - self.started.get(party, {}).get(pid, 0) for pid, t in now.items())
            / CLOCK_TICKS
            for party, now in ended.items()
        }
        self.used = {k: v for k, v in used.items() if not k.startswith("pg:")}
        self.backends_used = {k[3:]: v for k, v in used.items() if k.startswith("pg:")}

    def per_post(self, party: str, posts: int) -> float:
        """CPU ms per post of a party (or of a client's backends: "pg:bulk")."""
        if party.startswith("pg:"):
            return 1000 * self.backends_used.get(party[3:], 0.0) / max(posts, 1)
        return 1000 * self.used.get(party, 0.0) / max(posts, 1)

    def report(self, posts: int) -> str:
        """CPU seconds by party and per post, the machine's busy cores, and the share of the
        machine nobody here used (neighbours, the kernel)."""
        ours = sum(v for k, v in self.used.items() if k != "machine")
        parts = ", ".join(
            f"{party} {used:.1f} s ({1000 * used / max(posts, 1):.2f} ms/post)"
            for party, used in sorted(self.used.items(), key=lambda x: -x[1])
            if party != "machine"
        )
        machine = self.used.get("machine", 0.0)
        per_post = 1000 * ours / max(posts, 1)
        clients = ", ".join(
            f"{client} {1000 * used / max(posts, 1):.2f}"
            for client, used in sorted(self.backends_used.items(), key=lambda x: -x[1])
        )
        return (
            f"CPU over {self.seconds:.0f} s: {parts}; ours {ours:.1f} s ({per_post:.2f} ms/post); "
            f"machine busy {machine / self.seconds:.2f} cores, of which others "
            f"{max(0.0, machine - ours) / self.seconds:.2f}"
            + (f"; postgres by client, ms/post: {clients}" if clients else "")
        )


# What reached the database.


@dataclass(frozen=True)
class Outcome:
    stored: int  # submissions whose lead's e-mail has the prefix
    leads: int
    routed_once: int  # leads with exactly one assignment
    routed_twice: int  # leads with more than one: must be 0
    unrouted: int
    half_written: int  # a lead without its submission, or a submission without its event


def outcome(prefix: str) -> Outcome:
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute(
            """
            SELECT
              (SELECT count(*) FROM leads_submission s JOIN leads_lead l ON l.id = s.lead_id
                 WHERE l.email LIKE %(like)s),
              (SELECT count(*) FROM leads_lead WHERE email LIKE %(like)s),
              (SELECT count(*) FROM (SELECT a.lead_id FROM routing_assignment a
                 JOIN leads_lead l ON l.id = a.lead_id WHERE l.email LIKE %(like)s
                 GROUP BY a.lead_id HAVING count(*) = 1) once),
              (SELECT count(*) FROM (SELECT a.lead_id FROM routing_assignment a
                 JOIN leads_lead l ON l.id = a.lead_id WHERE l.email LIKE %(like)s
                 GROUP BY a.lead_id HAVING count(*) > 1) twice),
              (SELECT count(*) FROM leads_lead l WHERE l.email LIKE %(like)s
                 AND NOT EXISTS (SELECT 1 FROM routing_assignment a WHERE a.lead_id = l.id)),
              (SELECT count(*) FROM leads_lead l WHERE l.email LIKE %(like)s
                 AND NOT EXISTS (SELECT 1 FROM leads_submission s WHERE s.lead_id = l.id))
              + (SELECT count(*) FROM leads_submission s JOIN leads_lead l ON l.id = s.lead_id
                 WHERE l.email LIKE %(like)s AND NOT EXISTS (
                   SELECT 1 FROM leads_leadevent e
                   WHERE e.lead_id = l.id AND e.kind = 'submission_received'))
            """,
            {"like": f"{prefix}-%"},
        )
        return Outcome(*cursor.fetchone())


def stored_emails(prefix: str) -> set[str]:
    from leads.models import Lead

    return set(Lead.objects.filter(email__startswith=f"{prefix}-").values_list("email", flat=True))


def latencies(prefix: str) -> list[float]:
    """Seconds from each submission's arrival to its lead's assignment, sorted."""
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute(
            """
            SELECT EXTRACT(EPOCH FROM a.assigned_at - s.received_at)
            FROM routing_assignment a JOIN leads_lead l ON l.id = a.lead_id
            JOIN leads_submission s ON s.lead_id = l.id WHERE l.email LIKE %s
            """,
            [f"{prefix}-%"],
        )
        return sorted(float(x) for (x,) in cursor.fetchall())


def percentile(values: list[float], share: float) -> float:
    if not values:
        return float("nan")
    return values[min(len(values) - 1, int(share * len(values)))]
