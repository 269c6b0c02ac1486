"""Delivery: files per participant, webhooks on loopback with retries and backoff, nothing lost."""

from __future__ import annotations

import sys
import threading
from collections.abc import Iterator
from datetime import timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest

from tests.unit.act.factories import T0, assessment
from truceline.act import (
    ActSettings,
    ActStage,
    AlertSigner,
    DeliveryAttempt,
    DeskSettings,
    FileSink,
    NatsSink,
    RetryPolicy,
    SignedCap,
    WebhookSink,
    verify_cap_signature,
)
from truceline.agreement import Agreement
from truceline.interop.cap import validate_cap
from truceline.model import CreationInfo, FixedClock, Markings
from truceline.store import MemoryStore


class Server:
    """A loopback webhook answering from a script of status codes (then 200), recording what it got."""

    def __init__(self, script: list[int], delay_s: float = 0.0) -> None:
        self.script = list(script)
        self.delay_s = delay_s
        self.received: list[tuple[dict[str, str], bytes]] = []
        outer = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers["Content-Length"]))
                outer.received.append((dict(self.headers), body))
                if outer.delay_s:
                    threading.Event().wait(outer.delay_s)
                code = outer.script.pop(0) if outer.script else 200
                self.send_response(code)
                self.send_header("Content-Length", "0")
                self.end_headers()

            def log_message(self, *args: object) -> None:
                pass

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.httpd.server_address[1]}/alerts"
        self.thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)
        self.thread.start()

    def close(self) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()


@pytest.fixture
def server_factory() -> Iterator[list[Server]]:
    servers: list[Server] = []
    yield servers
    for s in servers:
        s.close()


def _stage(store: MemoryStore, agreement: Agreement, sinks: list[object], sleeps: list[float],
           attempts: int = 4) -> ActStage:
    desk = DeskSettings(signer=AlertSigner.generate(), sinks=sinks,  # type: ignore[arg-type]
                        retry=RetryPolicy(attempts=attempts, base_s=0.5, factor=2.0, max_s=3.0),
                        clock=FixedClock(T0 + timedelta(days=3)), sleep=sleeps.append)
    return ActStage(store, agreement, ActSettings(desk=desk))


def _attempts(store: MemoryStore) -> list[DeliveryAttempt]:
    return sorted((s.record for s in store.records("deliveryattempt") if isinstance(s.record, DeliveryAttempt)),
                  key=lambda a: a.attempt)


def test_webhook_answering_500_is_retried_with_backoff_until_it_accepts(
    agreement: Agreement, server_factory: list[Server]
) -> None:
    server = Server([500, 503])
    server_factory.append(server)
    store = MemoryStore()
    store.put_records([assessment("CL-06", "2026-09-02", 4)])
    sleeps: list[float] = []
    sink = WebhookSink(server.url, recipient="GBR", timeout_s=2.0)
    _stage(store, agreement, [sink], sleeps).tick(T0 + timedelta(days=3))
    attempts = _attempts(store)
    assert [(a.attempt, a.ok, a.status_code) for a in attempts] == [(1, False, 500), (2, False, 503), (3, True, 200)]
    assert "500" in attempts[0].error
    assert sleeps == [0.5, 1.0]
    headers, body = server.received[-1]
    validate_cap(body)
    (signed,) = [s.record for s in store.records("signedcap") if isinstance(s.record, SignedCap)]
    assert headers["Content-Type"] == "application/common-alerting-protocol+xml"
    assert headers["X-Truceline-Recipient"] == "GBR"
    assert body == signed.xml.encode() and headers["X-Truceline-Signature"] == signed.signature


def test_webhook_that_times_out_keeps_the_alert_pending_and_a_later_run_delivers_it(
    agreement: Agreement, server_factory: list[Server]
) -> None:
    server = Server([], delay_s=0.5)
    server_factory.append(server)
    store = MemoryStore()
    store.put_records([assessment("CL-06", "2026-09-02", 4)])
    sleeps: list[float] = []
    sink = WebhookSink(server.url, recipient="USA", timeout_s=0.1)
    stage = _stage(store, agreement, [sink], sleeps, attempts=2)
    report = stage.tick(T0 + timedelta(days=3))
    assert len(report.alerts) == 1
    failed = _attempts(store)
    assert [a.ok for a in failed] == [False, False]
    assert all("timed out" in a.error for a in failed)
    assert store.get_record("alert", report.alerts[0].id) is not None  # stored before any attempt: not lost
    server.delay_s = 0.0
    assert stage.desk.retry_pending() == 1
    assert stage.desk.retry_pending() == 0  # delivered once, never again
    assert sum(a.ok for a in _attempts(store)) == 1


def test_a_client_error_is_not_retried(agreement: Agreement, server_factory: list[Server]) -> None:
    server = Server([404])
    server_factory.append(server)
    store = MemoryStore()
    store.put_records([assessment("CL-06", "2026-09-02", 4)])
    sleeps: list[float] = []
    _stage(store, agreement, [WebhookSink(server.url, recipient="USA")], sleeps).tick(T0 + timedelta(days=3))
    assert [(a.attempt, a.status_code) for a in _attempts(store)] == [(1, 404)]
    assert sleeps == []


def test_an_unreachable_webhook_is_recorded_attempt_by_attempt(agreement: Agreement) -> None:
    store = MemoryStore()
    store.put_records([assessment("CL-06", "2026-09-02", 4)])
    sleeps: list[float] = []
    sink = WebhookSink("http://127.0.0.1:9/alerts", recipient="USA", timeout_s=0.5)
    _stage(store, agreement, [sink], sleeps, attempts=3).tick(T0 + timedelta(days=3))
    assert [a.ok for a in _attempts(store)] == [False, False, False]
    assert sleeps == [0.5, 1.0]


def test_files_are_written_only_for_the_participants_the_markings_allow(agreement: Agreement, tmp_path: Path) -> None:
    store = MemoryStore()
    amber = Markings(tlp="amber", originator="USA", releasable_to=("UKR",))
    store.put_records([assessment("CL-06", "2026-09-02", 4, markings=amber)])
    signer = AlertSigner.generate()
    desk = DeskSettings(signer=signer, sinks=[FileSink(tmp_path)], clock=FixedClock(T0))
    ActStage(store, agreement, ActSettings(desk=desk)).tick(T0 + timedelta(days=3))
    assert sorted(p.name for p in tmp_path.iterdir()) == ["UKR", "USA"]
    xml = (tmp_path / "UKR" / "alert--warning--CL-06--2026-09-02--L4.xml").read_bytes()
    sig = (tmp_path / "UKR" / "alert--warning--CL-06--2026-09-02--L4.sig").read_text()
    import json

    assert verify_cap_signature(xml, json.loads(sig)["signature"], signer.public_key)


def test_a_webhook_for_a_participant_outside_the_audience_gets_nothing(
    agreement: Agreement, server_factory: list[Server]
) -> None:
    server = Server([])
    server_factory.append(server)
    store = MemoryStore()
    amber = Markings(tlp="amber", originator="USA", releasable_to=("UKR",))
    store.put_records([assessment("CL-06", "2026-09-02", 4, markings=amber)])
    _stage(store, agreement, [WebhookSink(server.url, recipient="RUS")], []).tick(T0 + timedelta(days=3))
    assert server.received == [] and _attempts(store) == []


def test_a_webhook_needs_an_http_url() -> None:
    with pytest.raises(ValueError, match="http"):
        WebhookSink("file:///etc/passwd")


NATS_SERVER = Path(sys.executable).parent / "nats-server"


@pytest.mark.skipif(not NATS_SERVER.exists(), reason="nats-server is not installed (pip install '.[server]')")
def test_nats_subject_per_participant_receives_the_signed_alert(tmp_path: Path) -> None:
    import asyncio
    import socket
    import subprocess
    import time

    import nats

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = int(s.getsockname()[1])
    with subprocess.Popen([str(NATS_SERVER), "-a", "127.0.0.1", "-p", str(port)], stdout=subprocess.DEVNULL,
                          stderr=subprocess.DEVNULL) as server:
        try:
            deadline = time.monotonic() + 10
            while time.monotonic() < deadline:
                with socket.socket() as s:
                    if s.connect_ex(("127.0.0.1", port)) == 0:
                        break
                time.sleep(0.05)
            url = f"nats://127.0.0.1:{port}"
            message = SignedCap(id="a1", alert_id="a1", xml="<alert/>", sha256="ab", signature="cd", key_id="ef",
                                addresses=("USA",), markings=Markings(tlp="green", originator="MVM"),
                                creation_info=CreationInfo(agent="t", created=T0))
            sink = NatsSink(url, subject="truceline.alerts", timeout_s=2.0)

            async def exchange() -> tuple[str, bytes, dict[str, str]]:
                client = await nats.connect(url)
                sub = await client.subscribe("truceline.alerts.*")
                await client.flush()
                await asyncio.get_running_loop().run_in_executor(None, sink.send, message, "USA")
                got = await sub.next_msg(timeout=5)
                await client.close()
                return got.subject, got.data, dict(got.headers or {})

            subject, data, headers = asyncio.run(exchange())
        finally:
            server.terminate()
            server.wait(timeout=10)
    assert subject == "truceline.alerts.USA" and data == b"<alert/>"
    assert headers["X-Truceline-Signature"] == "cd"
