"""Browser tests: Debian's chromium driven by Playwright against pytest-django's live server.

No browser is downloaded: Playwright launches the system chromium, once per pytest process
(each test in a context of its own). Every page a test visits
can be saved as a full-page screenshot in test-artifacts/browser/ for a person to look at.
"""

import asyncio
import shutil
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager, suppress
from pathlib import Path

import pytest
from django.db import connections

CHROMIUM = shutil.which("chromium")
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
ARTIFACTS = Path(__file__).resolve().parents[2] / "test-artifacts" / "browser"
STARTED = time.time()  # this process's start, near enough: before any test of the run


@pytest.fixture(scope="session")
def artifacts() -> Path:
    """test-artifacts/browser/, emptied of the last run's screenshots. Under pytest-xdist each
    process empties it: only what is older than this process, never what another one of this
    run has just saved, nor a file another one removed first."""
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    for old in ARTIFACTS.glob("*.png"):
        with suppress(FileNotFoundError):
            if old.stat().st_mtime < STARTED:
                old.unlink()
    return ARTIFACTS


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(item, call):
    report = yield
    if report.when == "call":
        item.call_failed = report.failed
    return report


class SharedBrowser:
    """One chromium for all the browser tests of a pytest process: starting Playwright's
    driver and a browser cost each test about a second (docs/development.md). Each test still
    gets a context of its own (cookies, storage, cache), as a new browser would give it."""

    def __init__(self, playwright, loop: asyncio.AbstractEventLoop) -> None:
        self.playwright = playwright
        self.loop = loop
        self.browser = None

    @contextmanager
    def in_use(self) -> Iterator:
        """Playwright's sync API marks its event loop as this thread's running loop between
        its calls, and Django refuses ORM calls from a thread with a running loop: marked
        only while a browser test runs, so the process's other tests run as they would alone."""
        asyncio.events._set_running_loop(self.loop)
        try:
            if self.browser is None or not self.browser.is_connected():
                self.browser = self.playwright.chromium.launch(
                    executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS
                )
            yield self.browser
        finally:
            asyncio.events._set_running_loop(None)


@pytest.fixture(scope="session")
def shared_browser() -> Iterator[SharedBrowser]:
    if CHROMIUM is None:
        pytest.skip("needs chromium: no `chromium` on PATH (apt-get install chromium)")
    from playwright.sync_api import sync_playwright

    playwright = sync_playwright().start()
    shared = SharedBrowser(playwright, asyncio.get_running_loop())
    asyncio.events._set_running_loop(None)
    try:
        yield shared
    finally:
        with shared.in_use() as browser:
            browser.close()
            playwright.stop()


@pytest.fixture
def page(request, live_server, monkeypatch, artifacts, shared_browser) -> Iterator:
    # The test's own set-up and checks are plain synchronous code between Playwright's calls,
    # so Django's ORM is safe in them while the loop is marked (SharedBrowser.in_use).
    monkeypatch.setenv("DJANGO_ALLOW_ASYNC_UNSAFE", "true")
    with shared_browser.in_use() as browser:
        context = browser.new_context(
            base_url=live_server.url, viewport={"width": 1280, "height": 800}
        )
        context.set_default_timeout(10_000)
        page = context.new_page()
        try:
            yield page
            if getattr(request.node, "call_failed", False):
                page.screenshot(path=artifacts / f"failed-{request.node.name}.png", full_page=True)
        finally:
            # While the loop is marked, Django keeps this thread's connections apart from the
            # ones its test teardown closes; left open, they stop the test database from
            # being dropped.
            connections.close_all()
            context.close()


@pytest.fixture
def snap(page, artifacts) -> Callable[[str], Path]:
    """Save the whole page as NN-<name>.png, numbered in the order the test visits them."""
    taken = 0

    def save(name: str) -> Path:
        nonlocal taken
        taken += 1
        path = artifacts / f"{taken:02d}-{name}.png"
        page.screenshot(path=path, full_page=True)
        return path

    return save


@pytest.fixture
def csp_violations(page) -> list[str]:
    """What the browser refused under the Content-Security-Policy while the test ran: the
    console's "Refused to ..." lines. A page whose script is refused fails silently
    otherwise (a button that does nothing)."""
    refused: list[str] = []

    def seen(message) -> None:
        if "Content Security Policy" in message.text:
            refused.append(message.text)

    page.on("console", seen)
    return refused
