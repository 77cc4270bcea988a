"""Browser tests: Debian's chromium driven by Playwright against pytest-django's live server.

No browser is downloaded: Playwright launches the system chromium. Every page a test visits
can be saved as a full-page screenshot in test-artifacts/browser/ for a person to look at.
"""

import shutil
from collections.abc import Callable, Iterator
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


@pytest.fixture(scope="session")
def artifacts() -> Path:
    """test-artifacts/browser/, emptied of the last run's screenshots."""
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    for old in ARTIFACTS.glob("*.png"):
        old.unlink()
    return ARTIFACTS


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(item, call):
    report = yield
    if report.when == "call":
        item.call_failed = report.failed
    return report


@pytest.fixture
def page(request, live_server, monkeypatch, artifacts) -> Iterator:
    if CHROMIUM is None:
        pytest.skip("needs chromium: no `chromium` on PATH (apt-get install chromium)")
    from playwright.sync_api import sync_playwright

    # Playwright's sync API keeps an event loop running in this thread, and Django refuses
    # ORM calls from a thread with a running loop; the test's own set-up and checks are
    # plain synchronous code, so they are safe.
    monkeypatch.setenv("DJANGO_ALLOW_ASYNC_UNSAFE", "true")
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS
        )
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
            # While the loop runs, Django keeps this thread's connections apart from the
            # ones its test teardown closes; left open, they stop the test database from
            # being dropped.
            connections.close_all()
            context.close()
            browser.close()


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
