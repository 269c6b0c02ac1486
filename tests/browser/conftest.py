"""A real server on loopback and Debian's headless Chromium driven by Playwright.

The server is ``create_app`` over an embedded SQLite store seeded by :mod:`tests.browser.seed`,
run by uvicorn in a thread on a free loopback port. Chromium is the system's
(``/usr/bin/chromium``): no browser is ever downloaded. Without it the browser tests skip (CI
installs it); the API tests beside them need no browser and always run.
Screenshots go to ``tests/artifacts/browser/`` (ignored by git), or ``$TRUCELINE_ARTIFACTS``.
"""

from __future__ import annotations

import os
import socket
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

import pytest
import uvicorn
from playwright.sync_api import Browser, Page, sync_playwright

from tests.browser.seed import Seeded, seed
from truceline.agreement import default_agreement
from truceline.policy import InMemoryAuditLog, PolicyContext
from truceline.server import ServerSettings, TokenRegistry, create_app
from truceline.store import SQLiteStore

CHROMIUM = Path("/usr/bin/chromium")

STARTUP_S = 30.0
TIMEOUT_MS = 20_000
ARTIFACTS = Path(os.environ.get("TRUCELINE_ARTIFACTS", Path(__file__).resolve().parents[1] / "artifacts")) / "browser"


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@dataclass
class LiveServer:
    url: str
    tokens: TokenRegistry
    seeded: Seeded
    audit: InMemoryAuditLog
    store: SQLiteStore

    def token(self, participant: str, *roles: str) -> str:
        secret, _ = self.tokens.issue(participant, roles, subject=f"{participant.lower()}-browser-test")  # type: ignore[arg-type]
        return secret


@pytest.fixture(scope="session")
def live_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveServer]:
    agreement = default_agreement()
    workdir = tmp_path_factory.mktemp("dashboard")
    store = SQLiteStore(workdir / "truceline.db")
    seeded = seed(store, agreement)
    tokens = TokenRegistry(str(workdir / "tokens.sqlite"))
    audit = InMemoryAuditLog()
    settings = ServerSettings(
        context=PolicyContext.of(sorted(agreement.participant_ids()), ()), tokens=tokens, audit=audit
    )
    port = free_port()
    config = uvicorn.Config(create_app(settings, store), host="127.0.0.1", port=port, log_level="warning")
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, name="uvicorn", daemon=True)
    thread.start()
    deadline = time.monotonic() + STARTUP_S
    while not server.started:
        if time.monotonic() > deadline or not thread.is_alive():
            raise RuntimeError(f"uvicorn did not start on 127.0.0.1:{port} within {STARTUP_S} s")
        time.sleep(0.05)
    try:
        yield LiveServer(f"http://127.0.0.1:{port}", tokens, seeded, audit, store)
    finally:
        server.should_exit = True
        thread.join(timeout=10)
        store.close()
        tokens.close()


# Module scope, not session: Playwright's sync API runs an asyncio loop in the main thread while it
# is open, and every later test that calls asyncio.run() (the NATS bus, act's delivery) would fail.
@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    if not CHROMIUM.exists():
        pytest.skip(f"Debian's Chromium ({CHROMIUM}) is not installed")
    # Root (as in CI containers) cannot use Chromium's sandbox.
    args = ["--no-sandbox"] if hasattr(os, "geteuid") and os.geteuid() == 0 else []
    with sync_playwright() as p:
        b = p.chromium.launch(executable_path=str(CHROMIUM), headless=True, args=args)
        try:
            yield b
        finally:
            b.close()


@pytest.fixture
def page(browser: Browser, request: pytest.FixtureRequest) -> Iterator[Page]:
    context = browser.new_context(viewport={"width": 1400, "height": 950})
    context.set_default_timeout(TIMEOUT_MS)
    pg = context.new_page()
    errors: list[str] = []
    refused: list[str] = []
    pg.on("pageerror", lambda exc: errors.append(str(exc)))
    # Chromium logs every Content-Security-Policy refusal (an inline style, a script, a fetch
    # elsewhere) as a console error: the dashboard must work with none.
    pg.on("console", lambda msg: refused.append(msg.text) if csp_refusal(msg.type, msg.text) else None)
    try:
        yield pg
    finally:
        context.close()
    # An uncaught script error is a bug even when the page still looked right.
    assert not errors, f"script errors in {request.node.name}: {errors}"
    assert not refused, f"Content-Security-Policy refusals in {request.node.name}: {refused}"


def csp_refusal(kind: str, text: str) -> bool:
    return kind == "error" and "Content Security Policy" in text


def screenshot(page: Page, name: str) -> Path:
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    path = ARTIFACTS / f"{name}.png"
    page.screenshot(path=str(path), full_page=True)
    return path


def log_in(page: Page, server: LiveServer, token: str, path: str = "/dashboard/") -> None:
    """Log in through the login page as a person does, and wait for ``path`` to be ready."""
    page.goto(f"{server.url}/dashboard/login.html?{urlencode({'next': path})}")
    page.fill("#token", token)
    page.click("#login")
    page.wait_for_selector("body[data-ready='true']")


def shown_ids(page: Page) -> list[Any]:
    return page.eval_on_selector_all("#incident-list tbody tr", "rows => rows.map(r => r.dataset.id)")
