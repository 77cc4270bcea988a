"""A soak: mixed traffic at a steady rate for a long time, against gunicorn + worker + beat.

    .venv/bin/python bench/soak.py                        # 30 minutes, 5-minute windows, 10/s
    .venv/bin/python bench/soak.py --minutes 3 --window 1 --rate 20

Needs PostgreSQL on 127.0.0.1:5432 (user postgres, trust), the `redis-server` binary and
Python 3.11+. What one run does:
1. Makes a new database `leadbridge_bench_soak` on the shared PostgreSQL (dropped at the end)
   with the demo form, its agreement, one queue of five reps without a cap (bench/rig.py) and a
   sales manager, starts a Redis of its own on a free port, gunicorn (5 sync workers,
   DEBUG=false, the defences on), one handoff worker (prefork, 2 processes) and beat, with the
   product's own settings (the sweeper every 60 s). Logs the five reps and the manager in.
2. Sends `--rate` requests/s in all, open loop (request n leaves at n / rate whatever the server
   does), in a fixed mix (MIX): posts on the four intakes (the hosted form, the JSON API,
   HubSpot's open and secure endpoints, Salesforce Web-to-Lead: 60 % of the requests), the
   reps' inbox (their routed leads) and their moves on their own leads (accept, log contact,
   add a note; with the CSRF token, as the page posts them), and the manager's dashboard and
   lead pages. 10/s by default: a soak looks for creep, so it runs well below what the
   machine serves; at 20/s on two cores shared with others' work (load 15-17) the server fell
   behind and queued until requests timed out. The first `--warmup` seconds are not
   measured; then `--minutes` in windows of `--window` minutes.
3. Prints a table per window: requests, errors by kind (no answer within `--timeout`, no
   connection, a status other than the request's expected one: the intake's 302/201/200, a
   move's 302, a page's 200), p50/p95/p99 per kind of request, and the resident memory (the
   mean of /proc samples every 10 s) of gunicorn's master and workers, of the Celery worker
   and its pool, and of beat. Then a summary: total errors, whether p95 stayed flat (the last
   window's p95 of all requests at most `--p95-tolerance` % above the first's), whether the
   resident memory trends up (the least-squares slope over the windows, times the run's
   length, above `--rss-tolerance` % of the first window's), and whether every lead posted
   was stored and routed exactly once (waits up to `--settle-timeout` for the last).
4. Exit status 1 if there was an error or a lead was lost, routed twice or half-written; the
   verdicts on p95 and memory are printed, not enforced (`--strict` enforces them too).
   Processes are killed, the Redis stopped and the database dropped, also after ^C.
Every window carries the load average: the machine may be shared.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import fcntl
import math
import os
import random
import re
import sys
import tempfile
import time
import urllib.parse
from collections import Counter, deque
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.intake import HOST, POSTGRES_SERVER, BenchError  # noqa: E402

DATABASE_NAME = "leadbridge_bench_soak"
LOCK_FILE = Path(tempfile.gettempdir()) / "leadbridge-bench-soak.lock"
PREFIX = "soak"
PASSWORD = "soak-password-not-secret"
MANAGER = "soak-manager"
MIB = 1024 * 1024

# One cycle of the mix, as request kinds: 20 requests, sent in this order again and again.
POSTS = ("intake", "json", "hubspot", "secure-hubspot", "web-to-lead")
MIX: dict[str, int] = {
    "intake": 3,
    "json": 3,
    "hubspot": 2,
    "secure-hubspot": 2,
    "web-to-lead": 2,
    "inbox": 2,  # a rep's list of routed leads
    "move": 3,  # a rep's accept, log contact or note on a lead of theirs
    "dashboard": 1,  # the manager's
    "lead": 2,  # the manager opens a lead's page
}
MOVES = ("accept", "contact", "note")
PROCESS_GROUPS = ("gunicorn", "worker", "beat")


# The pure part: windows, percentiles and the verdicts (tests/bench/test_soak.py).


@dataclass(frozen=True)
class Sample:
    """One request: its kind, when it was sent (seconds into the measured period; negative
    in the warm-up), how long its answer took, and the error, blank when it succeeded."""

    kind: str
    at: float
    seconds: float
    error: str = ""  # "timeout", "no connection", "bad answer", or "status NNN"


ERROR_CLASSES = (
    ("status", "unexpected status"),
    ("timeout", "timeout"),
    ("no connection", "no connection"),
    ("bad answer", "bad answer"),
)


def error_class(error: str) -> str:
    return "status" if error.startswith("status") else error


def percentile(values: Sequence[float], share: float) -> float:
    """The nearest-rank percentile of sorted `values`; NaN when there are none."""
    if not values:
        return math.nan
    rank = math.ceil(share * len(values))
    return values[min(len(values), max(rank, 1)) - 1]


@dataclass(frozen=True)
class Latency:
    count: int
    p50: float
    p95: float
    p99: float

    @classmethod
    def of(cls, seconds: Iterable[float]) -> Latency:
        ordered = sorted(seconds)
        return cls(len(ordered), *(percentile(ordered, q) for q in (0.50, 0.95, 0.99)))


@dataclass(frozen=True)
class Window:
    number: int  # from 0; -1 is the warm-up
    start: float
    end: float
    requests: int
    errors: Counter  # error class -> count
    error_details: Counter  # (kind, error) -> count
    latency: dict[str, Latency]  # request kind -> latency; "all" for every request
    rss: dict[str, float] = field(default_factory=dict)  # process group -> mean bytes

    @property
    def error_count(self) -> int:
        return sum(self.errors.values())


def window_of(at: float, window: float) -> int:
    return -1 if at < 0 else int(at // window)


def windows_of(
    samples: Iterable[Sample],
    *,
    window: float,
    count: int,
    rss: Iterable[tuple[float, str, float]] = (),
    warmup: float = 0.0,
) -> list[Window]:
    """The warm-up (if any) and `count` windows of `window` seconds. A sample sent at or after
    the end of the last window counts in the last one. `rss` holds (at, group, bytes)
    readings; each window has the mean of its readings by group."""
    grouped: dict[int, list[Sample]] = {n: [] for n in range(-1 if warmup else 0, count)}
    for sample in samples:
        grouped[min(window_of(sample.at, window), count - 1)].append(sample)
    readings: dict[int, dict[str, list[float]]] = {n: {} for n in grouped}
    for at, group, value in rss:
        number = min(window_of(at, window), count - 1)
        if number in readings:
            readings[number].setdefault(group, []).append(value)
    result = []
    for number, in_window in grouped.items():
        kinds: dict[str, list[float]] = {}
        for sample in in_window:
            kinds.setdefault(sample.kind, []).append(sample.seconds)
        latency = {kind: Latency.of(values) for kind, values in sorted(kinds.items())}
        latency["all"] = Latency.of(s.seconds for s in in_window)
        failed = [s for s in in_window if s.error]
        start, end = (-warmup, 0.0) if number < 0 else (number * window, (number + 1) * window)
        result.append(
            Window(
                number,
                start,
                end,
                len(in_window),
                Counter(error_class(s.error) for s in failed),
                Counter((s.kind, s.error) for s in failed),
                latency,
                {group: sum(v) / len(v) for group, v in readings[number].items()},
            )
        )
    return result


def slope(xs: Sequence[float], ys: Sequence[float]) -> float:
    """The least-squares slope of ys over xs; 0 with fewer than two points."""
    if len(xs) < 2:
        return 0.0
    mean_x, mean_y = sum(xs) / len(xs), sum(ys) / len(ys)
    spread = sum((x - mean_x) ** 2 for x in xs)
    if spread == 0:
        return 0.0
    return sum((x - mean_x) * (y - mean_y) for x, y in zip(xs, ys, strict=True)) / spread


@dataclass(frozen=True)
class Trend:
    growth: float  # the fitted rise from the first window's middle to the last's
    share: float  # growth as a share of the first window's value
    rising: bool


def trend(values: Sequence[float], *, tolerance: float) -> Trend:
    """Does a per-window value trend up by more than `tolerance` (a share, 0.05 = 5 %) of the
    first window's value over the run, by the least-squares line through all windows? One
    window says nothing: not rising."""
    if len(values) < 2 or not values[0]:
        return Trend(0.0, 0.0, False)
    positions = list(range(len(values)))
    growth = slope(positions, values) * (len(values) - 1)
    share = growth / values[0]
    return Trend(growth, share, share > tolerance)


def p95_flat(first: float, last: float, *, tolerance: float) -> bool:
    """The last window's p95 is at most `tolerance` (a share) above the first's."""
    if math.isnan(first) or math.isnan(last):
        return False
    return last <= first * (1 + tolerance)


def mix_cycle(mix: dict[str, int]) -> list[str]:
    """The mix as one cycle of kinds, each kind spread evenly through it (smooth weighted
    round robin), so a window of any length gets the mix, not a burst of one kind."""
    total, current, cycle = sum(mix.values()), dict.fromkeys(mix, 0), []
    for _ in range(total):
        for kind, weight in mix.items():
            current[kind] += weight
        chosen = max(current, key=lambda kind: current[kind])
        current[chosen] -= total
        cycle.append(chosen)
    return cycle


# The table.


def ms(seconds: float) -> str:
    return "-" if math.isnan(seconds) else f"{1000 * seconds:.0f}"


def mib(value: float | None) -> str:
    return "-" if value is None else f"{value / MIB:.1f}"


def minutes(seconds: float) -> str:
    sign, seconds = ("-" if seconds < 0 else ""), abs(seconds)
    return f"{sign}{int(seconds // 60)}:{int(seconds % 60):02d}"


def window_block(window: Window, load: str = "") -> list[str]:
    name = "warm-up" if window.number < 0 else f"window {window.number + 1}"
    errors = ", ".join(f"{label} {window.errors.get(key, 0)}" for key, label in ERROR_CLASSES)
    rss = ", ".join(f"{group} {mib(window.rss.get(group))}" for group in PROCESS_GROUPS)
    lines = [
        f"{name} [{minutes(window.start)}-{minutes(window.end)}]: {window.requests} requests, "
        f"{window.error_count} errors ({errors}); RSS MiB {rss}" + (f"; {load}" if load else ""),
        f"  {'kind':<16}{'n':>7}{'p50 ms':>9}{'p95 ms':>9}{'p99 ms':>9}",
    ]
    for kind, latency in window.latency.items():
        lines.append(
            f"  {kind:<16}{latency.count:>7}{ms(latency.p50):>9}{ms(latency.p95):>9}"
            f"{ms(latency.p99):>9}"
        )
    for (kind, error), count in sorted(window.error_details.items()):
        lines.append(f"  error: {kind} {error} x {count}")
    return lines


def summary_lines(windows: list[Window], *, p95_tolerance: float, rss_tolerance: float):
    """The summary table and the verdicts; also whether p95 was flat and memory steady."""
    measured = [w for w in windows if w.number >= 0]
    lines = [
        f"{'window':<10}{'requests':>9}{'errors':>8}{'p50 ms':>8}{'p95 ms':>8}{'p99 ms':>8}"
        + "".join(f"{group + ' MiB':>13}" for group in PROCESS_GROUPS)
    ]
    for w in windows:
        name = "warm-up" if w.number < 0 else str(w.number + 1)
        every = w.latency["all"]
        lines.append(
            f"{name:<10}{w.requests:>9}{w.error_count:>8}{ms(every.p50):>8}{ms(every.p95):>8}"
            f"{ms(every.p99):>8}" + "".join(f"{mib(w.rss.get(g)):>13}" for g in PROCESS_GROUPS)
        )
    total = sum(w.error_count for w in windows)
    lines.append(f"errors: {total} of {sum(w.requests for w in windows)} requests")
    first, last = measured[0].latency["all"].p95, measured[-1].latency["all"].p95
    flat = p95_flat(first, last, tolerance=p95_tolerance)
    change = (last / first - 1) * 100 if first and not math.isnan(first) else math.nan
    lines.append(
        f"p95: first window {ms(first)} ms, last {ms(last)} ms ({change:+.0f} %): "
        + ("flat" if flat else "NOT flat")
        + f" (at most {p95_tolerance * 100:.0f} % above the first)"
    )
    steady = True
    for group in PROCESS_GROUPS:
        values = [w.rss.get(group, 0.0) for w in measured]
        found = trend(values, tolerance=rss_tolerance)
        steady &= not found.rising
        lines.append(
            f"RSS {group}: {mib(values[0])} -> {mib(values[-1])} MiB; fitted "
            f"{found.growth / MIB:+.1f} MiB ({found.share * 100:+.1f} %) over the windows: "
            + ("TRENDS UP" if found.rising else "no upward trend")
            + f" (tolerance {rss_tolerance * 100:.0f} %)"
        )
    return lines, flat, steady


# Traffic: an HTTP/1.1 exchange per request on a new connection, as gunicorn's sync workers
# (keep-alive 0) serve them.


@dataclass
class Reply:
    status: int
    headers: list[tuple[str, str]]
    body: bytes

    def header(self, name: str) -> str:
        return next((v for k, v in self.headers if k == name), "")

    def cookies(self) -> dict[str, str]:
        found = {}
        for name, value in self.headers:
            if name == "set-cookie":
                key, _, rest = value.partition("=")
                found[key.strip()] = rest.split(";", 1)[0]
        return found


async def exchange(
    port: int, method: str, path: str, *, body: bytes = b"", headers: dict[str, str] | None = None,
    timeout: float,
) -> Reply:  # fmt: skip
    head = [f"{method} {path} HTTP/1.1", f"Host: {HOST}", "Connection: close"]
    head += [f"{k}: {v}" for k, v in (headers or {}).items()]
    if body or method == "POST":
        head.append(f"Content-Length: {len(body)}")
    async with asyncio.timeout(timeout):
        reader, writer = await asyncio.open_connection(HOST, port)
        try:
            writer.write(("\r\n".join(head) + "\r\n\r\n").encode() + body)
            await writer.drain()
            raw = await reader.read()
        finally:
            writer.close()
    top, _, content = raw.partition(b"\r\n\r\n")
    lines = top.decode("latin-1").split("\r\n")
    status = int(lines[0].split()[1])
    parsed = [(k.strip().lower(), v.strip()) for k, _, v in (x.partition(":") for x in lines[1:])]
    return Reply(status, parsed, content)


@dataclass
class Session:
    """A logged-in person: their cookies, and for a rep, the leads they may move next."""

    username: str
    cookies: dict[str, str] = field(default_factory=dict)
    routed: deque = field(default_factory=deque)  # to accept
    accepted: deque = field(default_factory=deque)  # to log contact on
    worked: list = field(default_factory=list)  # accepted or contacted: to note on
    taken: set = field(default_factory=set)  # ever picked for a move: not offered again

    def cookie_header(self) -> dict[str, str]:
        return {"Cookie": "; ".join(f"{k}={v}" for k, v in self.cookies.items())}

    def form(self, fields: dict[str, str]) -> tuple[bytes, dict[str, str]]:
        body = {"csrfmiddlewaretoken": self.cookies.get("csrftoken", ""), **fields}
        headers = {**self.cookie_header(), "Content-Type": "application/x-www-form-urlencoded"}
        return urllib.parse.urlencode(body).encode(), headers


@dataclass
class Request:
    """What a request turned out to be: a move's kind is chosen when it is sent (accept,
    contact, note), and a request that times out is still counted under it."""

    kind: str


LEAD_LINK = re.compile(rb'href="/leads/(\d+)/"')
EXPECTED_PAGE, EXPECTED_MOVE = 200, 302


class Traffic:
    """Sends one request of a kind; picks whom and what it is about from what it has seen."""

    def __init__(self, port: int, targets: dict, timeout: float, seed: int = 1) -> None:
        self.port, self.targets, self.timeout = port, targets, timeout
        self.reps: list[Session] = []
        self.manager: Session | None = None
        self.known: list[int] = []  # lead ids seen in the reps' inboxes
        self.samples: list[Sample] = []
        self.posted: Counter = Counter()  # intake -> accepted posts
        self.sent_posts = 0
        self.random = random.Random(seed)
        self.turns: Counter = Counter()

    async def login(self, username: str) -> Session:
        session = Session(username)
        page = await exchange(self.port, "GET", "/login/", timeout=self.timeout)
        session.cookies.update(page.cookies())
        body, headers = session.form({"username": username, "password": PASSWORD})
        reply = await exchange(
            self.port, "POST", "/login/", body=body, headers=headers, timeout=self.timeout
        )
        session.cookies.update(reply.cookies())
        if reply.status != 302 or "sessionid" not in session.cookies:
            raise BenchError(f"{username} could not log in: {reply.status}")
        return session

    def next_rep(self, kind: str) -> Session:
        """The reps in turn, counted by kind: with one count, a cycle of 2 inbox + 3 move
        slots gives each of 5 reps always the same kind, and the movers never see new leads."""
        self.turns[kind] += 1
        return self.reps[self.turns[kind] % len(self.reps)]

    async def send(self, kind: str, n: int, at: float) -> None:
        started, request = time.monotonic(), Request(kind)
        try:
            handler = getattr(self, "_" + kind.replace("-", "_"), self._post)
            error = await handler(request, n)
        except TimeoutError:
            error = "timeout"
        except OSError:
            error = "no connection"
        except (IndexError, ValueError):
            error = "bad answer"
        self.samples.append(Sample(request.kind, at, time.monotonic() - started, error))

    @staticmethod
    def _check(reply: Reply, expected: int) -> str:
        return "" if reply.status == expected else f"status {reply.status}"

    async def _post(self, request: Request, n: int) -> str:
        kind = request.kind
        target = self.targets[kind]
        headers = {"Content-Type": target.content_type}
        if target.authorization:
            headers["Authorization"] = target.authorization
        self.sent_posts += 1
        reply = await exchange(
            self.port, "POST", target.path, body=target.body_for(f"{PREFIX}-{kind}-{n}").encode(),
            headers=headers, timeout=self.timeout,
        )  # fmt: skip
        error = self._check(reply, target.accepted_status)
        self.posted[kind] += not error
        return error

    async def _get(self, session: Session, path: str) -> Reply:
        return await exchange(
            self.port, "GET", path, headers=session.cookie_header(), timeout=self.timeout
        )

    async def _inbox(self, request: Request, n: int) -> str:
        request.kind = "inbox"
        rep = self.next_rep("inbox")
        reply = await self._get(rep, "/leads/?stage=routed")
        ids = [int(x) for x in LEAD_LINK.findall(reply.body)]
        for lead in ids:
            if lead not in rep.taken:
                rep.taken.add(lead)
                rep.routed.append(lead)
                self.known.append(lead)
        return self._check(reply, EXPECTED_PAGE)

    async def _move(self, request: Request, n: int) -> str:
        rep = self.next_rep("move")
        wanted = MOVES[n % len(MOVES)]
        order = [wanted, *(m for m in MOVES if m != wanted)]
        pools = {"accept": rep.routed, "contact": rep.accepted, "note": rep.worked}
        move = next((m for m in order if pools[m]), None)
        if move is None:  # nothing of theirs seen yet: look at the inbox instead
            return await self._inbox(request, n)
        request.kind = move
        if move == "note":
            lead = self.random.choice(rep.worked)
            fields = {"note-text": f"Soak note {n}."}
        else:
            lead = pools[move].popleft()
            fields = (
                {"contact-channel": "call", "contact-note": "Soak."} if move == "contact" else {}
            )
        body, headers = rep.form(fields)
        reply = await exchange(
            self.port, "POST", f"/leads/{lead}/{move}/", body=body, headers=headers,
            timeout=self.timeout,
        )  # fmt: skip
        error = self._check(reply, EXPECTED_MOVE)
        if not error and move == "accept":
            rep.accepted.append(lead)
            rep.worked.append(lead)
        return error

    async def _dashboard(self, request: Request, n: int) -> str:
        request.kind = "dashboard"
        return self._check(await self._get(self.manager, "/dashboard/"), EXPECTED_PAGE)

    async def _lead(self, request: Request, n: int) -> str:
        if not self.known:
            return await self._dashboard(request, n)
        lead = self.random.choice(self.known)
        return self._check(await self._get(self.manager, f"/leads/{lead}/"), EXPECTED_PAGE)


async def drive(traffic: Traffic, *, rate: float, seconds: float, warmup: float) -> None:
    """Open loop: request n leaves at start + n / rate, whatever the server does."""
    cycle = mix_cycle(MIX)
    start = time.monotonic()
    pending: set[asyncio.Task] = set()
    for n in range(round(rate * (warmup + seconds))):
        delay = start + n / rate - time.monotonic()
        if delay > 0:
            await asyncio.sleep(delay)
        task = asyncio.create_task(traffic.send(cycle[n % len(cycle)], n, n / rate - warmup))
        pending.add(task)
        task.add_done_callback(pending.discard)
    await asyncio.gather(*pending)


# Memory, from /proc: the resident set of every process in each product process's group
# (each runs in a session of its own: gunicorn's master and workers, Celery's worker and pool).

PAGE_SIZE = os.sysconf("SC_PAGE_SIZE")


def rss_by_group(leaders: dict[str, int]) -> dict[str, float]:
    from bench.intake import proc_stats

    totals = dict.fromkeys(leaders, 0.0)
    for fields in proc_stats().values():
        # After the command name: state, ppid, pgrp, ... rss (in pages) is the 22nd.
        for name, leader in leaders.items():
            if int(fields[2]) == leader:
                totals[name] += int(fields[21]) * PAGE_SIZE
    return totals


async def sample_rss(
    leaders: dict[str, int], readings: list, *, every: float, warmup: float
) -> None:
    start = time.monotonic()
    while True:
        at = time.monotonic() - start - warmup
        for group, value in rss_by_group(leaders).items():
            readings.append((at, group, value))
        await asyncio.sleep(every)


# The run.


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--minutes", type=float, default=30, help="measured length (30)")
    parser.add_argument("--window", type=float, default=5, help="window, in minutes (5)")
    parser.add_argument("--rate", type=float, default=10, help="requests/s in all (10)")
    parser.add_argument("--warmup", type=float, default=30, help="seconds not measured (30)")
    parser.add_argument("--timeout", type=float, default=10, help="seconds per request (10)")
    parser.add_argument("--web-workers", type=int, default=5, help="gunicorn sync workers (5)")
    parser.add_argument(
        "--p95-tolerance", type=float, default=50, help="%% the last p95 may exceed the first's"
    )
    parser.add_argument(
        "--rss-tolerance", type=float, default=10, help="%% of growth that counts as a trend"
    )
    parser.add_argument("--settle-timeout", type=float, default=180, help="wait for routing")
    parser.add_argument("--strict", action="store_true", help="exit 1 on a p95 or RSS verdict")
    args = parser.parse_args(argv)
    args.windows = max(1, math.ceil(args.minutes / args.window - 1e-9))
    return args


@contextlib.contextmanager
def one_run_at_a_time() -> Iterator[None]:
    with LOCK_FILE.open("w") as lock:
        try:
            fcntl.flock(lock, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError as error:
            raise BenchError(f"another soak holds {LOCK_FILE}; wait for it") from error
        yield


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    try:
        with contextlib.ExitStack() as cleanup:
            cleanup.enter_context(one_run_at_a_time())
            workdir = Path(cleanup.enter_context(tempfile.TemporaryDirectory(prefix="soak-")))
            return run(args, workdir, cleanup)
    except BenchError as error:
        print(f"soak: {error}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("soak: interrupted; processes stopped, database dropped", file=sys.stderr)
        return 130


def prepare_people() -> None:
    """Passwords for the rig's five reps, and a sales manager to read the dashboard."""
    from django.contrib.auth.models import Group

    from portal.accounts.models import User
    from portal.accounts.roles import Role

    manager = User.objects.create(username=MANAGER)
    manager.groups.add(Group.objects.get(name=Role.SALES_MANAGER.value))
    for user in User.objects.filter(username__in=[MANAGER, *(f"rep{i}" for i in range(5))]):
        user.set_password(PASSWORD)
        user.save(update_fields=["password"])


def run(args: argparse.Namespace, workdir: Path, cleanup: contextlib.ExitStack) -> int:
    from bench import rig
    from bench.intake import drop_database, form_and_token, make_targets, recreate_database

    redis = rig.OwnRedis()
    redis.start()
    cleanup.callback(redis.stop)
    # The dashboard's kept figures in Redis, shared by the web workers, as in production.
    cache_url = redis.url.rsplit("/", 1)[0] + "/1"
    env = rig.product_environment(
        workdir, f"{POSTGRES_SERVER}/{DATABASE_NAME}", redis.url, CACHE_URL=cache_url
    )
    os.environ.update(env)
    recreate_database(POSTGRES_SERVER, DATABASE_NAME)
    cleanup.callback(drop_database, POSTGRES_SERVER, DATABASE_NAME)

    import django

    django.setup()
    slug = rig.prepare_database()
    prepare_people()
    targets = {t.name: t for t in make_targets(*form_and_token(slug)) if t.name in POSTS}
    processes = rig.Processes(workdir, env, web_workers=args.web_workers)
    cleanup.callback(processes.stop_all)
    for name in ("gunicorn", "worker", "beat"):
        processes.start(name)
    processes.wait_serving(seconds=120)  # a machine shared with others' work starts slowly

    traffic = Traffic(processes.port, targets, args.timeout)
    readings: list[tuple[float, str, float]] = []
    seconds = args.minutes * 60
    rig.say(
        f"soak: {args.rate:g} requests/s for {args.minutes:g} min in {args.windows} windows of "
        f"{args.window:g} min after {args.warmup:g} s of warm-up; gunicorn {args.web_workers} "
        f"sync workers, 1 worker x 2 processes (prefork), beat; database {DATABASE_NAME}, "
        f"Redis {redis.url}; {rig.load()}"
    )
    rig.say("mix per cycle of 20: " + ", ".join(f"{k} {v}" for k, v in MIX.items()))
    loads: dict[int, str] = {}

    async def soak() -> None:
        traffic.reps = [await traffic.login(f"rep{i}") for i in range(5)]
        traffic.manager = await traffic.login(MANAGER)
        leaders = {name: processes.running[name].pid for name in PROCESS_GROUPS}
        sampler = asyncio.create_task(
            sample_rss(leaders, readings, every=10, warmup=args.warmup)
        )  # fmt: skip
        reporter = asyncio.create_task(report_windows(traffic, readings, args, loads))
        try:
            await drive(traffic, rate=args.rate, seconds=seconds, warmup=args.warmup)
            loads.setdefault(args.windows - 1, rig.load())  # when the last answer beat its end
        finally:
            sampler.cancel()
            reporter.cancel()

    asyncio.run(soak())
    windows = windows_of(
        traffic.samples, window=args.window * 60, count=args.windows, rss=readings,
        warmup=args.warmup,
    )  # fmt: skip
    print()
    print("Per window (latency from the request's send to its answer's end):")
    for window in windows:
        for line in window_block(window, loads.get(window.number, "")):
            print(line)
    print()
    lines, flat, steady = summary_lines(
        windows, p95_tolerance=args.p95_tolerance / 100, rss_tolerance=args.rss_tolerance / 100
    )
    for line in lines:
        print(line)
    routed = check_routing(traffic, args.settle_timeout)
    errors = sum(w.error_count for w in windows)
    rig.say(f"soak done; {rig.load()}")
    failed = errors > 0 or not routed or (args.strict and not (flat and steady))
    return 1 if failed else 0


async def report_windows(traffic: Traffic, readings: list, args, loads: dict[int, str]) -> None:
    """Say each window's requests and errors as it ends, so a long run shows its progress."""
    from bench import rig

    window = args.window * 60
    start = time.monotonic() + args.warmup
    for number in range(args.windows):
        await asyncio.sleep(max(0.0, start + (number + 1) * window - time.monotonic()))
        loads[number] = rig.load()
        done = [s for s in traffic.samples if window_of(s.at, window) == number]
        rss = {g: v for at, g, v in readings if window_of(at, window) == number}
        rig.say(
            f"window {number + 1}: {len(done)} answered so far, "
            f"{sum(1 for s in done if s.error)} errors; RSS MiB "
            + ", ".join(f"{g} {mib(v)}" for g, v in rss.items())
            + f"; {loads[number]}"
        )


def check_routing(traffic: Traffic, settle_timeout: float) -> bool:
    """Every post answered as accepted is stored, once, and routed exactly once."""
    from bench import rig

    deadline = time.monotonic() + settle_timeout
    result = rig.outcome(PREFIX)
    while result.unrouted and time.monotonic() < deadline:
        time.sleep(1)
        result = rig.outcome(PREFIX)
    accepted = sum(traffic.posted.values())
    ok = (
        accepted <= result.leads <= traffic.sent_posts
        and result.stored == result.leads
        and result.routed_once == result.leads
        and not (result.routed_twice or result.unrouted or result.half_written)
    )
    print(
        f"leads: {traffic.sent_posts} posted, {accepted} accepted ("
        + ", ".join(f"{k} {v}" for k, v in sorted(traffic.posted.items()))
        + f"), {result.leads} leads and {result.stored} submissions stored; routed exactly once "
        f"{result.routed_once}, more than once {result.routed_twice}, not routed "
        f"{result.unrouted}, half-written {result.half_written}: "
        + ("every lead routed exactly once" if ok else "FAILED")
    )
    return ok


if __name__ == "__main__":
    sys.exit(main())
