"""Webhook delivery throughput: events written to the outbox as the handoff writes them
(batches of 250 in one transaction each), delivered by a real Celery worker on the bulk
queue to a local receiver; prints events written/s and delivered/s.

    .venv/bin/python bench/webhooks.py [--events 10000] [--pool threads --concurrency 16]
                                       [--tree DIR] [--profile FILE]

Needs PostgreSQL on 127.0.0.1:5432 (user postgres, trust auth) and `redis-server`. It makes
its own database (`leadbridge_bench_webhooks`, dropped after) and its own Redis on a free port.

The receiver is a minimal asyncio HTTP/1.1 server in a process of its own (keep-alive, answers
200 at once) that counts requests and distinct webhook-ids, so a delivery sent twice under
two ids would show. `--receiver-delay 10` makes it answer after 10 s instead (a slow
receiver: the worker's time-out then decides).

Beside the rates it prints the CPU each party used per delivery, from /proc: the worker (its
process group), the worker's PostgreSQL backends, the receiver, this process (the writer) and
its backend, and the cores the rest of the machine used meanwhile. `--phases` sends from this
process instead of a worker, through sending.py's own steps, and prints their CPU per
delivery: claim, resolve (the guard), sign (body and signature), HTTP (the send pool's
requests, less the signing) and record, each with its PostgreSQL backend's. `--tree DIR` runs
the worker from another checkout (`git archive REV | tar -x -C DIR`), for before/after pairs on
the same machine state. `BENCH_WEBHOOKS_DATABASE` names the database (parallel checkouts).
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import multiprocessing
import os
import resource
import signal
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench import rig  # noqa: E402
from bench.intake import (  # noqa: E402
    POSTGRES_SERVER,
    BenchError,
    cpu_ticks_of,
    drop_database,
    free_port,
    proc_stats,
    recreate_database,
)

# Parallel checkouts on one PostgreSQL each set a name of their own.
DATABASE_NAME = os.environ.get("BENCH_WEBHOOKS_DATABASE", "leadbridge_bench_webhooks")
BATCH = 250
# A receiver on this machine: plain http to a loopback address, which production refuses.
# Notification e-mails go to a queue no one reads, as they do in the intake and pipeline
# benches without a bulk worker: the bulk worker started here sends webhooks only.
RECEIVER_ENV = {
    "WEBHOOKS_ALLOW_HTTP": "true",
    "WEBHOOKS_ALLOWED_NETWORKS": "127.0.0.0/8",
    "CELERY_NOTIFY_QUEUE": "bench-unread",
}


def parse_args(argv):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--events", type=int, default=10_000)
    parser.add_argument("--pool", default="threads", choices=["threads", "prefork", "gevent"])
    parser.add_argument("--concurrency", type=int, default=16)
    parser.add_argument("--receiver-delay", type=float, default=0.0)
    parser.add_argument("--timeout", type=float, default=300, help="seconds to wait for all")
    parser.add_argument(
        "--phases",
        action="store_true",
        help="no worker: send the outbox from this process, batch by batch, and print the CPU "
        "(this process's and its PostgreSQL backend's) per delivery of each phase",
    )
    parser.add_argument(
        "--tree",
        type=Path,
        default=ROOT,
        help="the checkout the worker runs from (default: this one)",
    )
    parser.add_argument(
        "--profile",
        metavar="FILE",
        help="record the worker with py-spy into FILE (collapsed stacks, --format raw)",
    )
    return parser.parse_args(argv)


def receive(port: int, delay: float, ready) -> None:
    """The receiver process: counts requests and webhook-ids; GET answers the counts."""
    seen: set[str] = set()
    count = 0

    async def handle(reader, writer):
        nonlocal count
        try:
            while True:
                head = await reader.readuntil(b"\r\n\r\n")
                lines = head.decode("latin-1").split("\r\n")
                headers = {
                    k.strip().lower(): v.strip()
                    for k, _, v in (line.partition(":") for line in lines[1:] if line)
                }
                length = int(headers.get("content-length", 0))
                if length:
                    await reader.readexactly(length)
                if lines[0].startswith("GET"):
                    body = json.dumps({"requests": count, "ids": len(seen)}).encode()
                else:
                    if delay:
                        await asyncio.sleep(delay)
                    count += 1
                    seen.add(headers.get("webhook-id", ""))
                    body = b"ok"
                writer.write(
                    b"HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nContent-Length: "
                    + str(len(body)).encode()
                    + b"\r\n\r\n"
                    + body
                )
                await writer.drain()
        except (asyncio.IncompleteReadError, ConnectionError):
            pass
        finally:
            writer.close()

    async def main():
        server = await asyncio.start_server(handle, rig.HOST, port, backlog=1024)
        ready.set()
        async with server:
            await server.serve_forever()

    asyncio.run(main())


def counts(port: int) -> dict:
    with socket.create_connection((rig.HOST, port), timeout=5) as conn:
        conn.sendall(b"GET /stats HTTP/1.1\r\nHost: x\r\n\r\n")
        data = b""
        while b"}" not in data:
            data += conn.recv(4096)
    return json.loads(data.split(b"\r\n\r\n", 1)[1])


def main(argv=None) -> int:
    args = parse_args(argv)
    try:
        with contextlib.ExitStack() as cleanup:
            workdir = Path(cleanup.enter_context(tempfile.TemporaryDirectory(prefix="bench-")))
            return run(args, workdir, cleanup)
    except BenchError as error:
        print(f"bench: {error}", file=sys.stderr)
        return 2


def start_receiver(delay: float, cleanup: contextlib.ExitStack) -> int:
    """The receiver in a process of its own; its port."""
    return _start_receiver(delay, cleanup)[0]


def _start_receiver(delay: float, cleanup: contextlib.ExitStack) -> tuple[int, int]:
    """The receiver in a process of its own; its port and pid."""
    port = free_port()
    ready = multiprocessing.Event()
    receiver = multiprocessing.Process(target=receive, args=(port, delay, ready), daemon=True)
    receiver.start()
    cleanup.callback(receiver.kill)
    if not ready.wait(10):
        raise BenchError("the webhook receiver did not start")
    return port, receiver.pid


def start_sender(
    env: dict,
    workdir: Path,
    cleanup: contextlib.ExitStack,
    *,
    pool: str = "threads",
    concurrency: int = 16,
    profile: str | None = None,
    tree: Path = ROOT,
) -> subprocess.Popen:
    """A Celery worker on the bulk queue (where webhooks are sent), logging into `workdir`,
    running `tree`'s code."""
    command = [
        *(sys.executable, "-m", "celery", "-A", "portal", "worker"),
        *("--pool", pool, "--concurrency", str(concurrency)),
        *("--queues", "bulk", "--without-gossip", "--without-mingle"),
        *("--loglevel", "WARNING", "--prefetch-multiplier", "4"),
    ]
    if profile:
        spy = str(Path(sys.executable).with_name("py-spy"))
        spy_options = ["--subprocesses", "-r", "200", "-f", "raw", "-o", profile]
        command = [spy, "record", *spy_options, "--", *command]
    with (workdir / "sender.log").open("a") as log:
        worker = subprocess.Popen(
            command, cwd=tree, env={**env, "PYTHONPATH": str(tree)}, stdout=log,
            stderr=subprocess.STDOUT, start_new_session=True,
        )  # fmt: skip

    def stop():
        # The whole session: py-spy writes its file on ^C, and Celery shuts down on either.
        os.killpg(worker.pid, signal.SIGINT if profile else signal.SIGTERM)
        try:
            worker.wait(60)
        except subprocess.TimeoutExpired:
            os.killpg(worker.pid, signal.SIGKILL)
            worker.wait()
        with contextlib.suppress(ProcessLookupError):
            os.killpg(worker.pid, signal.SIGKILL)  # a prefork worker's children, if left

    cleanup.callback(stop)
    return worker


def slow_receiver(delay: float, env: dict, workdir: Path, cleanup: contextlib.ExitStack) -> str:
    """For the intake and pipeline benches (`--webhook-receiver-delay`): a receiver answering
    after `delay` s, an endpoint subscribed to every event kind pointing at it (in the database
    Django is set up on), and a worker on the bulk queue sending to it. Says what it made."""
    from portal.integrations.webhooks.event_types import EVENT_TYPES
    from portal.integrations.webhooks.models import Endpoint

    port = start_receiver(delay, cleanup)
    Endpoint.objects.create(
        name="bench receiver", url=f"http://{rig.HOST}:{port}/hooks", kinds=list(EVENT_TYPES)
    )
    start_sender({**env, **RECEIVER_ENV}, workdir, cleanup, pool="prefork", concurrency=2)
    return (
        f"a webhook endpoint for every event kind, its receiver answering after {delay:g} s, "
        "a bulk worker (prefork x2) sending to it"
    )


class CpuMeter:
    """CPU seconds by party between `start()` and `stop()`, from /proc: the worker's process
    group, its PostgreSQL backends (this database's, but this process's own), the receiver,
    this process and its backend, and the whole machine."""

    def __init__(self, worker: subprocess.Popen, receiver_pid: int) -> None:
        self.worker, self.receiver_pid = worker, receiver_pid
        self.used: dict[str, float] = {}

    def _ticks(self) -> dict[str, dict[int, int]]:
        from django.db import connection

        with connection.cursor() as cursor:
            cursor.execute(
                "SELECT pid, pid = pg_backend_pid() FROM pg_stat_activity"
                " WHERE datname = current_database()"
            )
            backends = dict(cursor.fetchall())
        ticks: dict[str, dict[int, int]] = {
            "worker": {}, "worker's postgres": {}, "receiver": {}, "writer's postgres": {}
        }  # fmt: skip
        for pid, fields in proc_stats().items():
            used = cpu_ticks_of(fields)
            if int(fields[2]) == self.worker.pid:  # its process group
                ticks["worker"][pid] = used
            elif pid in backends:
                ticks["writer's postgres" if backends[pid] else "worker's postgres"][pid] = used
            elif pid == self.receiver_pid:
                ticks["receiver"][pid] = used
        me = resource.getrusage(resource.RUSAGE_SELF)
        ticks["writer"] = {0: round((me.ru_utime + me.ru_stime) * rig.CLOCK_TICKS)}
        cpu = [int(x) for x in Path("/proc/stat").read_text().split("\n", 1)[0].split()[1:]]
        ticks["machine"] = {0: sum(cpu[:8]) - cpu[3] - cpu[4]}  # all but idle and iowait
        return ticks

    def start(self) -> None:
        self.started, self.at = self._ticks(), time.monotonic()

    def stop(self) -> None:
        ended, self.seconds = self._ticks(), time.monotonic() - self.at
        self.used = {
            party: sum(t - self.started[party].get(pid, 0) for pid, t in now.items())
            / rig.CLOCK_TICKS
            for party, now in ended.items()
        }

    def report(self, deliveries: int) -> str:
        ours = {k: v for k, v in self.used.items() if k != "machine"}
        parts = ", ".join(
            f"{party} {used:.1f} s ({1000 * used / max(deliveries, 1):.3f} ms)"
            for party, used in ours.items()
        )
        others = max(0.0, self.used["machine"] - sum(ours.values())) / self.seconds
        return (
            f"CPU per delivery: {parts}; the rest of the machine used {others:.2f} cores "
            f"over these {self.seconds:.1f} s"
        )


def _backend_ticks() -> int:
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_backend_pid()")
        (pid,) = cursor.fetchone()
    return cpu_ticks_of(proc_stats_of(pid))


def proc_stats_of(pid: int) -> list[str]:
    return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()


def phases(args, port: int) -> int:
    """The outbox sent from this process by sending.py's steps, batch by batch as a task
    does, timing each step."""
    from django.db import transaction
    from django.utils import timezone

    from portal.integrations.webhooks import sender, sending
    from portal.integrations.webhooks.models import Delivery
    from portal.integrations.webhooks.services import events_emit
    from portal.integrations.webhooks.tasks import CHUNK

    data = {"lead": {"id": 0, "email": "ana@acme.example", "company": "Acme"}, "event": {}}
    for first in range(0, args.events, BATCH):
        with transaction.atomic():
            last = min(args.events, first + BATCH)
            events_emit([("lead.won", {**data, "n": n}) for n in range(first, last)])
    ids = list(Delivery.objects.order_by("pk").values_list("pk", flat=True))
    names = ["claim", "resolve", "sign", "send", "record"]
    spent = {name: [0.0, 0, 0.0] for name in names}  # CPU s, backend ticks, wall s

    @contextlib.contextmanager
    def phase(name: str):
        cpu, ticks, wall = time.process_time(), _backend_ticks(), time.monotonic()
        yield
        total = spent[name]
        total[0] += time.process_time() - cpu
        total[1] += _backend_ticks() - ticks
        total[2] += time.monotonic() - wall

    rig.say(f"webhooks phases: {len(ids)} deliveries in batches of {CHUNK}; {rig.load()}")
    started = time.monotonic()
    for first in range(0, len(ids), CHUNK):
        now = timezone.now()
        with phase("claim"):
            claimed = sending.deliveries_claim(ids=ids[first : first + CHUNK], now=now)
        with phase("resolve"):
            targets = {d.endpoint_id: sender.resolved(d.endpoint.url) for d in claimed}
        with phase("sign"):
            for d in claimed:
                body = sender.body_of(d.payload)
                sender.signed_headers(secret=d.endpoint.secret, msg_id=d.msg_id, body=body)

        def one(d, targets=targets):
            return sender.send(
                url=d.endpoint.url,
                secret=d.endpoint.secret,
                msg_id=d.msg_id,
                payload=d.payload,
                target=targets[d.endpoint_id],
            )

        with phase("send"):
            outcomes = list(sending.send_pool().map(one, claimed))
        with phase("record"):
            sending._attempts_recorded(claimed, outcomes, at=now)
    took = time.monotonic() - started
    delivered = Delivery.objects.filter(status=Delivery.Status.DELIVERED).count()
    rig.say(f"  delivered {delivered} of {len(ids)} in {took:.1f} s ({delivered / took:,.0f}/s)")
    spent["HTTP"] = [spent["send"][0] - spent["sign"][0], spent["send"][1], spent["send"][2]]
    for name in ["claim", "resolve", "sign", "HTTP", "record"]:
        cpu, ticks, wall = spent[name]
        rig.say(
            f"  {name:8} python {1000 * cpu / len(ids):.3f} ms, postgres "
            f"{1000 * ticks / rig.CLOCK_TICKS / len(ids):.3f} ms, "
            f"wall {1000 * wall / len(ids):.3f} ms per delivery"
        )
    cpu = sum(spent[n][0] for n in names)
    ticks = sum(spent[n][1] for n in names)
    rig.say(
        f"  all: python {1000 * cpu / len(ids):.3f} ms, postgres "
        f"{1000 * ticks / rig.CLOCK_TICKS / len(ids):.3f} ms per delivery; {rig.load()}"
    )
    return 0 if delivered == len(ids) else 1


def run(args, workdir: Path, cleanup: contextlib.ExitStack) -> int:
    redis = rig.OwnRedis()
    redis.start()
    cleanup.callback(redis.stop)
    port, receiver_pid = _start_receiver(args.receiver_delay, cleanup)

    database_url = f"{POSTGRES_SERVER}/{DATABASE_NAME}"
    env = rig.product_environment(
        workdir, database_url, redis.url, SWEEP_EVERY_SECONDS=10, **RECEIVER_ENV
    )
    os.environ.update(env)
    recreate_database(POSTGRES_SERVER, DATABASE_NAME)
    cleanup.callback(drop_database, POSTGRES_SERVER, DATABASE_NAME)

    import django

    django.setup()
    from django.core.management import call_command
    from django.db import transaction

    from portal.integrations.webhooks.models import Delivery, Endpoint
    from portal.integrations.webhooks.services import events_emit

    call_command("migrate", interactive=False, verbosity=0)
    Endpoint.objects.create(name="bench", url=f"http://{rig.HOST}:{port}/hooks", kinds=["lead.won"])
    if args.phases:
        return phases(args, port)
    worker = start_sender(
        env,
        workdir,
        cleanup,
        pool=args.pool,
        concurrency=args.concurrency,
        profile=args.profile,
        tree=args.tree.resolve(),
    )
    time.sleep(3)  # the worker connects
    rig.say(
        f"webhooks bench: {args.events} events, worker --pool {args.pool} "
        f"--concurrency {args.concurrency} from {args.tree}, receiver delay "
        f"{args.receiver_delay} s; {rig.load()}"
    )
    meter = CpuMeter(worker, receiver_pid)
    meter.start()
    data = {"lead": {"id": 0, "email": "ana@acme.example", "company": "Acme"}, "event": {}}
    started = time.monotonic()
    for first in range(0, args.events, BATCH):
        with transaction.atomic():
            events_emit(
                [
                    ("lead.won", {**data, "n": n})
                    for n in range(first, min(args.events, first + BATCH))
                ]
            )
    written = time.monotonic() - started
    rig.say(f"  written: {args.events / written:,.0f} events/s into the outbox ({written:.1f} s)")
    deadline = started + args.timeout
    delivered = 0
    while time.monotonic() < deadline:
        delivered = Delivery.objects.filter(status=Delivery.Status.DELIVERED).count()
        if delivered >= args.events:
            break
        time.sleep(0.2)
    took = time.monotonic() - started
    meter.stop()
    seen = counts(port)
    rig.say(
        f"  delivered: {delivered}/{args.events} in {took:.1f} s = {delivered / took:,.0f}/s "
        f"end to end; receiver saw {seen['requests']} requests, {seen['ids']} distinct "
        f"webhook-ids (a request answered after the time-out is sent again, under the same "
        f"id); {rig.load()}"
    )
    rig.say(f"  {meter.report(delivered)}")
    return 0 if delivered >= args.events and seen["ids"] == args.events else 1


if __name__ == "__main__":
    sys.exit(main())
