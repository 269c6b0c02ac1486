"""NATS JetStream as the ingest bus for scale-out workers.

Publishers validate at the edge (the sender hears about a bad record at once) and put the good
reports, byte for byte, on ``<prefix>.<sector>``: one report per message, or (``per_message``)
up to that many reports of one sector as the NDJSON lines of one message, as a sensor gateway
batches them. A message is one JetStream write, so batching is what lets a stream that fsyncs
every message (one disk flush each, a few milliseconds on ordinary disks) carry thousands of
reports a second. Workers pull batches from one durable consumer, validate again (never trust the
wire), store the batch durably, and only then acknowledge its messages. A worker that dies
before acknowledging leaves its messages to be redelivered to another; the store's permanent
UNIQUE key turns that at-least-once delivery into exactly-once in effect. JetStream's own
duplicate window (``Nats-Msg-Id``) only trims re-sends within minutes.

The stream should live on a server whose JetStream fsyncs every message (``sync_interval:
always``): Jepsen found acknowledged writes lost under the default. ``tools/nats-server.conf``
shows the setting; the tests run a server configured that way.
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field, replace
from datetime import timedelta
from typing import Any

from truceline.ingest.checks import ContextChecks
from truceline.ingest.readers import Parsed, Rejected, parse_ndjson_line
from truceline.model import UsageError
from truceline.store import Store
from truceline.store.rows import Row, observation_row

DEFAULT_STREAM = "TRUCELINE_OBS"
DEFAULT_PREFIX = "truceline.obs"
DEFAULT_DURABLE = "truceline-worker"
PUBACK_TIMEOUT = 30.0
PUBLISH_ATTEMPTS = 3


def _nats() -> Any:
    try:
        import nats
    except ImportError as exc:  # pragma: no cover - the server extra is installed in tests
        raise UsageError("the NATS bus needs the server extra: pip install 'truceline[server]'") from exc
    return nats


async def ensure_stream(js: Any, stream: str, prefix: str, replicas: int = 1) -> None:
    """Create the stream if it does not exist (file storage, kept a week, 2-minute dedup window)."""
    from nats.js.api import StorageType, StreamConfig
    from nats.js.errors import NotFoundError

    try:
        await js.stream_info(stream)
    except NotFoundError:
        await js.add_stream(
            StreamConfig(
                name=stream,
                subjects=[f"{prefix}.>"],
                storage=StorageType.FILE,
                num_replicas=replicas,
                duplicate_window=120.0,
                max_age=7 * 86400.0,
            )
        )


def _servers(nats_url: str) -> list[str]:
    """``nats://a:4222,nats://b:4222`` → the list nats-py wants (it refuses a joined string)."""
    servers = [u.strip() for u in nats_url.split(",") if u.strip()]
    if not servers:
        raise UsageError("--nats: give at least one server URL, e.g. nats://127.0.0.1:4222")
    return servers


def subject_for(prefix: str, sector: str) -> str:
    return f"{prefix}.{sector or 'unsectored'}"


@dataclass
class PublishReport:
    read: int = 0
    published: int = 0
    rejected: int = 0
    seconds: float = 0.0
    messages: int = 0


def message_for(reports: Sequence[tuple[tuple[str, str, str], bytes]]) -> tuple[bytes, str]:
    """The payload and ``Nats-Msg-Id`` of one message carrying ``reports`` (``(dedup key, bytes)``).

    One report travels alone with its key as the id; several travel as NDJSON lines with an id
    that names them all (a digest of their keys), so an identical re-send is trimmed by JetStream.
    """
    if len(reports) == 1:
        key, body = reports[0]
        return body, "/".join(key)
    digest = hashlib.sha256("\n".join("/".join(k) for k, _ in reports).encode()).hexdigest()[:40]
    return b"\n".join(body for _, body in reports), f"batch/{len(reports)}/{digest}"


def publish_lines(
    lines: Sequence[tuple[str, int, bytes]],
    nats_url: str,
    checks: ContextChecks,
    sector_of: Callable[[float, float], str],
    *,
    stream: str = DEFAULT_STREAM,
    prefix: str = DEFAULT_PREFIX,
    on_reject: Callable[[Rejected], None] | None = None,
    in_flight: int = 512,
    per_message: int = 1,
) -> PublishReport:
    """Validate NDJSON lines (``(name, line number, bytes)``) and publish the good ones, up to
    ``per_message`` reports of one sector to a message. Each message waits for the stream's
    acknowledgement (at most ``in_flight`` messages unacknowledged at once)."""
    if per_message < 1:
        raise UsageError("per_message must be at least 1")
    return asyncio.run(_publish(lines, nats_url, checks, sector_of, stream, prefix, on_reject, in_flight, per_message))


async def _publish(
    lines: Sequence[tuple[str, int, bytes]],
    nats_url: str,
    checks: ContextChecks,
    sector_of: Callable[[float, float], str],
    stream: str,
    prefix: str,
    on_reject: Callable[[Rejected], None] | None,
    in_flight: int,
    per_message: int,
) -> PublishReport:
    nats = _nats()
    report = PublishReport()
    started = time.perf_counter()
    nc = await nats.connect(servers=_servers(nats_url), connect_timeout=5, max_reconnect_attempts=5)
    try:
        js = nc.jetstream()
        await ensure_stream(js, stream, prefix)
        now_checks = checks
        pending: list[Any] = []
        pending_reports = 0
        groups: dict[str, list[tuple[tuple[str, str, str], bytes]]] = {}

        async def settle() -> None:
            nonlocal pending, pending_reports
            await asyncio.gather(*pending)  # each awaits the stream's PubAck: stored by JetStream
            report.published += pending_reports
            report.messages += len(pending)
            pending, pending_reports = [], 0

        async def publish_one(subject: str, payload: bytes, msg_id: str) -> None:
            # A busy server may answer late: ask again with the same id (JetStream keeps one copy).
            for attempt in range(1, PUBLISH_ATTEMPTS + 1):
                try:
                    await js.publish(subject, payload, headers={"Nats-Msg-Id": msg_id}, timeout=PUBACK_TIMEOUT)
                    return
                except TimeoutError:
                    if attempt == PUBLISH_ATTEMPTS:
                        raise

        async def send(subject: str) -> None:
            nonlocal pending_reports
            group = groups.pop(subject)
            payload, msg_id = message_for(group)
            pending.append(publish_one(subject, payload, msg_id))
            pending_reports += len(group)
            if len(pending) >= in_flight:
                await settle()

        for name, lineno, raw in lines:
            item = parse_ndjson_line(name, lineno, raw)
            if item is None:
                continue
            report.read += 1
            if isinstance(item, Parsed):
                if report.read % 1000 == 1:  # the clock moves on during a long publish
                    now_checks = replace(checks, now=checks.now + timedelta(seconds=time.perf_counter() - started))
                problem = now_checks.check(item.record, item.observation)
                if problem is not None:
                    item = Rejected(item.record, lineno, (problem,), item.body.decode(errors="replace"))
            if isinstance(item, Rejected):
                report.rejected += 1
                if on_reject is not None:
                    on_reject(item)
                continue
            obs = item.observation
            loc = obs.location
            subject = subject_for(prefix, sector_of(loc.lon, loc.lat) if loc is not None else "")
            group = groups.setdefault(subject, [])
            group.append((obs.dedup_key, item.body))
            if len(group) >= per_message:
                await send(subject)
        for subject in list(groups):
            await send(subject)
        if pending:
            await settle()
    finally:
        await nc.close()
    report.seconds = time.perf_counter() - started
    return report


@dataclass
class WorkerReport:
    messages: int = 0
    received: int = 0
    stored: int = 0
    duplicates: int = 0
    rejected: int = 0
    batches: int = 0
    seconds: float = 0.0
    rejects: list[Rejected] = field(default_factory=list)


def run_worker(
    store: Store,
    checks: ContextChecks,
    nats_url: str,
    *,
    stream: str = DEFAULT_STREAM,
    prefix: str = DEFAULT_PREFIX,
    durable: str = DEFAULT_DURABLE,
    batch: int = 500,
    idle_exit: float | None = None,
    ack_wait: float = 30.0,
    on_reject: Callable[[Rejected], None] | None = None,
    on_batch: Callable[[WorkerReport], None] | None = None,
    fill: float = 0.02,
) -> WorkerReport:
    """Consume the stream into ``store`` until it is drained and idle for ``idle_exit`` seconds
    (or for ever). Messages not acknowledged within ``ack_wait`` seconds are redelivered.

    A batch is what is there when its first message arrives plus what comes within ``fill``
    seconds, up to about ``batch`` reports; it is committed while the next is fetched."""
    return asyncio.run(
        _work(store, checks, nats_url, stream, prefix, durable, batch, idle_exit, ack_wait, on_reject, on_batch, fill)
    )


async def _work(
    store: Store,
    checks: ContextChecks,
    nats_url: str,
    stream: str,
    prefix: str,
    durable: str,
    batch: int,
    idle_exit: float | None,
    ack_wait: float,
    on_reject: Callable[[Rejected], None] | None,
    on_batch: Callable[[WorkerReport], None] | None,
    fill: float,
) -> WorkerReport:
    from nats.errors import NoRespondersError
    from nats.js.api import AckPolicy, ConsumerConfig
    from nats.js.errors import ServiceUnavailableError

    # While a cluster elects a new stream leader, JetStream answers 503 or nobody answers: wait
    # and ask again instead of dying (unacknowledged messages are redelivered anyway).
    electing = (ServiceUnavailableError, NoRespondersError)

    nats = _nats()
    report = WorkerReport()
    started = time.perf_counter()
    clock_start = time.monotonic()
    nc = await nats.connect(servers=_servers(nats_url), connect_timeout=5, max_reconnect_attempts=-1)
    try:
        js = nc.jetstream()
        await ensure_stream(js, stream, prefix)
        sub = await js.pull_subscribe(
            f"{prefix}.>",
            durable=durable,
            stream=stream,
            config=ConsumerConfig(ack_policy=AckPolicy.EXPLICIT, ack_wait=ack_wait, max_ack_pending=20_000),
        )

        async def commit(rows: list[Row], msgs: list[Any]) -> None:
            if rows:
                # The commit is durable before any of its messages is acknowledged.
                result = await asyncio.to_thread(store.add_rows, rows)
                report.stored += result.inserted
                report.duplicates += result.duplicates
                report.rejected += len(result.conflicts)
            report.batches += 1
            for msg in msgs:
                await msg.ack()  # a buffered write each; a lost ack only means a redelivery
            if on_batch is not None:
                on_batch(report)

        # One batch is committed (in a thread, off the event loop) while the next is fetched and
        # validated; batches still commit one after another, each acknowledged after its own.
        committing: asyncio.Task[None] | None = None
        try:
            idle_since = time.monotonic()
            want = batch  # messages to ask for: about ``batch`` reports, however many a message carries
            while True:
                try:
                    # Wait (up to a second) for the first message, then take what else comes within
                    # ``fill`` seconds: a lingering pull for a whole batch would hold a lone report
                    # back for the full second.
                    msgs = await sub.fetch(1, timeout=1.0)
                    if want > 1:
                        with contextlib.suppress(TimeoutError):
                            msgs += await sub.fetch(want - 1, timeout=fill)
                except electing:
                    await asyncio.sleep(0.5)
                    continue
                except TimeoutError:  # nats-py's own, or asyncio's bare one from inside fetch
                    if committing is not None:
                        await committing
                        committing = None
                    if idle_exit is not None and time.monotonic() - idle_since >= idle_exit:
                        # Idle is not enough: messages a dead worker fetched but never acknowledged
                        # come back after ack_wait, and someone must be here to take them.
                        try:
                            info = await sub.consumer_info()
                        except electing:
                            await asyncio.sleep(0.5)
                            continue
                        if info.num_pending == 0 and info.num_ack_pending == 0:
                            break
                    continue
                idle_since = time.monotonic()
                # The clock of the checks moves on: a worker runs for days, and a fixed "now" would
                # refuse every report once it is ``future_tolerance`` past the worker's start.
                now_checks = replace(checks, now=checks.now + timedelta(seconds=idle_since - clock_start))
                rows: list[Row] = []
                received = report.received
                for msg in msgs:
                    seq = int(msg.metadata.sequence.stream)
                    lines = msg.data.split(b"\n")
                    report.messages += 1
                    for n, line in enumerate(lines, start=1):
                        # A one-report message is named by its stream sequence, a line of a batch by both.
                        item = (
                            parse_ndjson_line(f"nats:{stream}", seq, line)
                            if len(lines) == 1
                            else parse_ndjson_line(f"nats:{stream}:{seq}", n, line)
                        )
                        if item is None:
                            continue
                        report.received += 1
                        if isinstance(item, Parsed):
                            problem = now_checks.check(item.record, item.observation)
                            if problem is None:
                                rows.append(observation_row(item.observation, item.body))
                                continue
                            item = Rejected(item.record, item.position, (problem,), item.body.decode(errors="replace"))
                        report.rejected += 1
                        if on_reject is not None:
                            on_reject(item)
                per = (report.received - received) / len(msgs) if msgs else 1.0
                want = max(1, min(batch, round(batch / max(per, 1.0))))
                if committing is not None:
                    await committing  # raises if the previous commit failed: nothing of this batch is acked
                committing = asyncio.create_task(commit(rows, msgs))
            committing = None
        finally:
            if committing is not None:
                await asyncio.gather(committing, return_exceptions=True)
    finally:
        await nc.close()
    report.seconds = time.perf_counter() - started
    return report
