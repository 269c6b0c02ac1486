"""NATS JetStream as the ingest bus for scale-out workers.

Publishers validate at the edge (the sender hears about a bad record at once) and put each good
report, byte for byte, on ``<prefix>.<sector>``. Workers pull batches from one durable consumer,
validate again (never trust the wire), store the batch durably, and only then acknowledge its
messages. A worker that dies before acknowledging leaves its messages to be redelivered to
another; the store's permanent UNIQUE key turns that at-least-once delivery into exactly-once in
effect. JetStream's own duplicate window (``Nats-Msg-Id``) only trims re-sends within minutes.

The stream should live on a server whose JetStream fsyncs every message (``sync_interval:
always``): Jepsen found acknowledged writes lost under the default. ``tools/nats-server.conf``
shows the setting; the tests run a server configured that way.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

from truceline.ingest.checks import ContextChecks
from truceline.ingest.readers import Parsed, Rejected, parse_ndjson_line
from truceline.model import UsageError
from truceline.store import Store
from truceline.store.rows import Row, observation_row

DEFAULT_STREAM = "TRUCELINE_OBS"
DEFAULT_PREFIX = "truceline.obs"
DEFAULT_DURABLE = "truceline-worker"


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
) -> PublishReport:
    """Validate NDJSON lines (``(name, line number, bytes)``) and publish the good ones."""
    return asyncio.run(_publish(lines, nats_url, checks, sector_of, stream, prefix, on_reject, in_flight))


async def _publish(
    lines: Sequence[tuple[str, int, bytes]],
    nats_url: str,
    checks: ContextChecks,
    sector_of: Callable[[float, float], str],
    stream: str,
    prefix: str,
    on_reject: Callable[[Rejected], None] | None,
    in_flight: int,
) -> PublishReport:
    nats = _nats()
    report = PublishReport()
    started = time.perf_counter()
    nc = await nats.connect(servers=_servers(nats_url), connect_timeout=5, max_reconnect_attempts=5)
    try:
        js = nc.jetstream()
        await ensure_stream(js, stream, prefix)
        pending: list[Any] = []
        for name, lineno, raw in lines:
            item = parse_ndjson_line(name, lineno, raw)
            if item is None:
                continue
            report.read += 1
            if isinstance(item, Parsed):
                problem = checks.check(item.record, item.observation)
                if problem is not None:
                    item = Rejected(item.record, lineno, (problem,), item.body.decode(errors="replace"))
            if isinstance(item, Rejected):
                report.rejected += 1
                if on_reject is not None:
                    on_reject(item)
                continue
            obs = item.observation
            loc = obs.location
            sector = sector_of(loc.lon, loc.lat) if loc is not None else ""
            msg_id = "/".join(obs.dedup_key)
            pending.append(js.publish(subject_for(prefix, sector), item.body, headers={"Nats-Msg-Id": msg_id}))
            if len(pending) >= in_flight:
                await asyncio.gather(*pending)  # each awaits the stream's PubAck: stored by JetStream
                report.published += len(pending)
                pending = []
        if pending:
            await asyncio.gather(*pending)
            report.published += len(pending)
    finally:
        await nc.close()
    report.seconds = time.perf_counter() - started
    return report


@dataclass
class WorkerReport:
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
) -> WorkerReport:
    """Consume the stream into ``store`` until it is drained and idle for ``idle_exit`` seconds
    (or for ever). Messages not acknowledged within ``ack_wait`` seconds are redelivered."""
    return asyncio.run(
        _work(store, checks, nats_url, stream, prefix, durable, batch, idle_exit, ack_wait, on_reject, on_batch)
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
) -> WorkerReport:
    from nats.errors import NoRespondersError
    from nats.errors import TimeoutError as NatsTimeout
    from nats.js.api import AckPolicy, ConsumerConfig
    from nats.js.errors import ServiceUnavailableError

    # While a cluster elects a new stream leader, JetStream answers 503 or nobody answers: wait
    # and ask again instead of dying (unacknowledged messages are redelivered anyway).
    electing = (ServiceUnavailableError, NoRespondersError)

    nats = _nats()
    report = WorkerReport()
    started = time.perf_counter()
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
        idle_since = time.monotonic()
        while True:
            try:
                msgs = await sub.fetch(batch, timeout=1.0)
            except electing:
                await asyncio.sleep(0.5)
                continue
            except NatsTimeout:
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
            rows: list[Row] = []
            for msg in msgs:
                where = f"nats:{stream}"
                item = parse_ndjson_line(where, int(msg.metadata.sequence.stream), msg.data)
                report.received += 1
                if isinstance(item, Parsed):
                    problem = checks.check(item.record, item.observation)
                    if problem is None:
                        rows.append(observation_row(item.observation, item.body))
                        continue
                    item = Rejected(item.record, item.position, (problem,), item.body.decode(errors="replace"))
                if isinstance(item, Rejected):
                    report.rejected += 1
                    if on_reject is not None:
                        on_reject(item)
            if rows:
                # The commit is durable before any message is acknowledged.
                result = await asyncio.to_thread(store.add_rows, rows)
                report.stored += result.inserted
                report.duplicates += result.duplicates
                report.rejected += len(result.conflicts)
            report.batches += 1
            await asyncio.gather(*(msg.ack() for msg in msgs))
            if on_batch is not None:
                on_batch(report)
    finally:
        await nc.close()
    report.seconds = time.perf_counter() - started
    return report
