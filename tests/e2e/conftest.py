"""Browser tests: a live server the tests start (own data directory and database), Debian's Chromium
driven by Playwright (one browser per session, a fresh context per test) and a screenshot of every step
under test-artifacts/screenshots/<test>/. Without /usr/bin/chromium every browser test is skipped with
one reason; the API fuzz test in this folder needs no browser and always runs."""

from __future__ import annotations

import os
import re
import shutil
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import Browser, BrowserContext, Page, sync_playwright

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
NO_CHROMIUM = "Chromium not installed: /usr/bin/chromium missing; .ci/run installs it"
REPO_ROOT = Path(__file__).resolve().parents[2]
SCREENSHOTS = REPO_ROOT / "test-artifacts" / "screenshots"
ADMIN_EMAIL = "e2e-admin@example.com"
ADMIN_PASSWORD = "Qiantang-Admin-2026"
SECRET_KEY = "e2e-secret-key-fixed-for-the-browser-tests-0123456789"
DESKTOP = {"width": 1280, "height": 900}
PHONE = {"width": 390, "height": 844}
TIMEOUT_MS = 10_000
SCREENSHOTS_TAKEN = pytest.StashKey[bool]()


@dataclass(frozen=True)
class LiveServer:
    url: str
    admin_email: str
    admin_password: str
    database_url: str
    log: Path


# ---------------------------------------------------------------------------------------------- server


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _academy_command() -> list[str]:
    script = Path(sys.executable).parent / "academy"
    return [str(script)] if script.exists() else [sys.executable, "-m", "backend.cli"]


@pytest.fixture(scope="session")
def chromium() -> Path:
    """The browser binary; every browser test depends on it, so all of them skip with the same reason."""
    if not CHROMIUM.exists():
        pytest.skip(NO_CHROMIUM)
    return CHROMIUM


@pytest.fixture(scope="session")
def server_database(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """SQLite in the server's own folder; on a PostgreSQL CI run, a database of its own on that server
    (the unit tests empty theirs after every test, which must not touch the live server's rows)."""
    test_url = os.environ.get("ACADEMY_TEST_DATABASE_URL", "")
    if not test_url.startswith("postgres"):
        yield f"sqlite:///{tmp_path_factory.mktemp('e2e-db') / 'academy.sqlite3'}"
        return
    from sqlalchemy import create_engine
    from sqlalchemy.engine import make_url

    base = make_url(test_url).set(drivername="postgresql+psycopg")
    name = f"{base.database}_e2e"
    admin = create_engine(base, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.exec_driver_sql(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        conn.exec_driver_sql(f'CREATE DATABASE "{name}"')
    yield base.set(drivername="postgresql", database=name).render_as_string(hide_password=False)
    with admin.connect() as conn:
        conn.exec_driver_sql(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    admin.dispose()


@pytest.fixture(scope="session")
def live_server(
    chromium: Path, server_database: str, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[LiveServer]:
    """`academy init` then `academy serve` on a free loopback port, as an operator would run them."""
    data_dir = tmp_path_factory.mktemp("e2e-data")
    env = {key: value for key, value in os.environ.items() if not key.startswith("ACADEMY_")}
    env.update(
        ACADEMY_ENV="development",
        ACADEMY_DATA_DIR=str(data_dir),
        ACADEMY_DATABASE_URL=server_database,
        ACADEMY_SECRET_KEY=SECRET_KEY,
        ACADEMY_ADMIN_EMAIL=ADMIN_EMAIL,
        ACADEMY_ADMIN_PASSWORD=ADMIN_PASSWORD,
        ACADEMY_COURSES_DIR=str(REPO_ROOT / "courses"),
    )
    init = subprocess.run(
        [*_academy_command(), "init"],
        cwd=REPO_ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )
    if init.returncode != 0:
        pytest.fail(f"academy init failed ({init.returncode}):\n{init.stdout}\n{init.stderr}")
    port = _free_port()
    log = data_dir / "server.log"
    with log.open("w") as log_file:
        process = subprocess.Popen(
            [*_academy_command(), "serve", "--host", "127.0.0.1", "--port", str(port)],
            cwd=REPO_ROOT,
            env=env,
            stdout=log_file,
            stderr=subprocess.STDOUT,
        )
    url = f"http://127.0.0.1:{port}"
    try:
        _wait_until_healthy(url, process, log)
        yield LiveServer(url, ADMIN_EMAIL, ADMIN_PASSWORD, server_database, log)
    finally:
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


def _wait_until_healthy(url: str, process: subprocess.Popen[bytes], log: Path) -> None:
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if process.poll() is not None:
            pytest.fail(f"academy serve exited with {process.returncode}:\n{log.read_text()[-4000:]}")
        try:
            with urllib.request.urlopen(f"{url}/healthz", timeout=2) as response:
                if response.status == 200:
                    return
        except OSError:
            pass
        time.sleep(0.2)
    pytest.fail(f"academy serve did not answer /healthz within 60 s:\n{log.read_text()[-4000:]}")


# --------------------------------------------------------------------------------------------- browser


@pytest.fixture(scope="session")
def browser(chromium: Path) -> Iterator[Browser]:
    with sync_playwright() as playwright:
        instance = playwright.chromium.launch(executable_path=str(chromium), args=CHROMIUM_ARGS)
        yield instance
        instance.close()


@pytest.fixture
def new_context(
    browser: Browser, live_server: LiveServer, request: pytest.FixtureRequest, screenshots: Screenshots
) -> Iterator[Callable[..., BrowserContext]]:
    """Make a browser context as a person in China would have it: Chinese first, Beijing time."""
    contexts: list[BrowserContext] = []

    def make(
        *, javascript: bool = True, viewport: dict[str, int] | None = None, **options: Any
    ) -> BrowserContext:
        context = browser.new_context(
            base_url=live_server.url,
            locale="zh-CN",
            timezone_id="Asia/Shanghai",
            java_script_enabled=javascript,
            viewport=viewport or DESKTOP,  # type: ignore[arg-type]
            **options,
        )
        context.set_default_timeout(TIMEOUT_MS)
        context.set_default_navigation_timeout(TIMEOUT_MS)
        contexts.append(context)
        return context

    yield make
    report = getattr(request.node, "rep_call", None)
    if report is not None and report.failed:
        for context in contexts:
            for page in context.pages:
                screenshots(page, "failure")
    for context in contexts:
        context.close()


@pytest.fixture
def page(new_context: Callable[..., BrowserContext]) -> Page:
    return new_context().new_page()


@pytest.fixture
def page_nojs(new_context: Callable[..., BrowserContext]) -> Page:
    return new_context(javascript=False).new_page()


@pytest.fixture(params=[True, False], ids=["js", "nojs"])
def javascript(request: pytest.FixtureRequest) -> bool:
    """Journeys run twice: with JavaScript (htmx) and without, where pages promise to work without it."""
    return bool(request.param)


@pytest.fixture
def person(new_context: Callable[..., BrowserContext], javascript: bool) -> Page:
    """The page of the person on the journey, with or without JavaScript as the test id says."""
    return new_context(javascript=javascript).new_page()


# ------------------------------------------------------------------------------------------ screenshots


class Screenshots:
    """`shot(page, "step")` writes test-artifacts/screenshots/<test>/<nn-step>.png (whole page)."""

    def __init__(self, folder: Path, config: pytest.Config) -> None:
        self.folder = folder
        self.config = config
        self.count = 0

    def __call__(self, page: Page, step: str) -> Path:
        self.count += 1
        self.folder.mkdir(parents=True, exist_ok=True)
        path = self.folder / f"{self.count:02d}-{_slug(step)}.png"
        page.screenshot(path=str(path), full_page=True)
        self.config.stash[SCREENSHOTS_TAKEN] = True
        return path


def _slug(text: str) -> str:
    return re.sub(r"[^A-Za-z0-9._-]+", "-", text).strip("-") or "step"


@pytest.fixture
def screenshots(request: pytest.FixtureRequest) -> Screenshots:
    folder = SCREENSHOTS / _slug(request.node.name)
    shutil.rmtree(folder, ignore_errors=True)
    return Screenshots(folder, request.config)


# ---------------------------------------------------------------------------------------------- hooks


@pytest.hookimpl(wrapper=True, tryfirst=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo[None]) -> Iterator[object]:
    """Keep the call's report on the item, so fixtures can take a failure screenshot at teardown; and
    give every "no Chromium" skip the same location, so the summary folds them into one line."""
    report = yield
    if call.when == "call":
        item.rep_call = report  # type: ignore[attr-defined]
    if report.skipped and isinstance(report.longrepr, tuple) and NO_CHROMIUM in str(report.longrepr[2]):
        report.longrepr = (__file__, None, report.longrepr[2])  # type: ignore[assignment]
    return report


def pytest_terminal_summary(terminalreporter: pytest.TerminalReporter, config: pytest.Config) -> None:
    if config.stash.get(SCREENSHOTS_TAKEN, False):
        terminalreporter.write_line(f"browser screenshots: {SCREENSHOTS}")
