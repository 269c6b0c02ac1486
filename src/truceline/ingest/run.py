"""Reading files into the store: batches, acknowledgements, rejects, progress.

A batch is acknowledged only when the store has committed it durably; ``on_ack`` is then told
the last input position it covers, so a sender (or ``--ack-file``) knows exactly what is safe.
Re-sending a file after a crash stores nothing twice: the store's permanent key sees to that.
"""

from __future__ import annotations

import io
import os
import sys
import time
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from typing import BinaryIO

from truceline.ingest.checks import ContextChecks
from truceline.ingest.parallel import PARALLEL_MIN_BYTES, validated_chunks
from truceline.ingest.readers import Parsed, Rejected, reader_for
from truceline.ledger import SignedTreeHead
from truceline.model import RecordError, UsageError
from truceline.store import Store
from truceline.store.rows import BODY, Row, observation_row

DEFAULT_BATCH_SIZE = 5_000


@dataclass
class IngestReport:
    """What an ingest run did, for the summary and the exit status."""

    files: int = 0
    read: int = 0
    stored: int = 0
    duplicates: int = 0
    rejected: int = 0
    batches: int = 0
    seconds: float = 0.0
    tree_head: SignedTreeHead | None = None
    formats: dict[str, str] = field(default_factory=dict)

    @property
    def accepted(self) -> int:
        return self.stored + self.duplicates

    @property
    def rate(self) -> float:
        return self.read / self.seconds if self.seconds > 0 else 0.0


RejectSink = Callable[[Rejected], None]
AckSink = Callable[[str, int], None]
ProgressSink = Callable[[int], None]


class _CountingStream(io.RawIOBase):
    """Wraps a binary stream to report bytes read (for the progress bar)."""

    def __init__(self, inner: BinaryIO, progress: ProgressSink | None, owns: bool = True) -> None:
        self._inner = inner
        self._progress = progress
        self._owns = owns

    def close(self) -> None:
        if not self.closed and self._owns:
            self._inner.close()
        super().close()

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: memoryview) -> int:  # type: ignore[override]
        data = self._inner.read(len(buffer))
        n = len(data)
        buffer[:n] = data
        if self._progress is not None and n:
            self._progress(n)
        return n


def open_input(path: str, progress: ProgressSink | None = None) -> tuple[str, io.BufferedReader]:
    """Open ``path`` (or ``-`` for standard input) as a peekable binary stream."""
    if path == "-":
        raw: BinaryIO = sys.stdin.buffer
        name = "<stdin>"
    else:
        if not os.path.exists(path):
            raise UsageError(f"{path}: no such file")
        if os.path.isdir(path):
            raise UsageError(f"{path}: is a directory; give the files inside it")
        try:
            raw = open(path, "rb")  # noqa: SIM115 - closed by the caller through the wrapper
        except OSError as exc:
            raise UsageError(f"{path}: cannot open: {exc.strerror}") from None
        name = path
    return name, io.BufferedReader(_CountingStream(raw, progress, owns=path != "-"), buffer_size=1 << 20)


class _Batcher:
    """Collects rows, writes them as one durable batch, and reports conflicts and acks."""

    def __init__(
        self,
        name: str,
        store: Store,
        report: IngestReport,
        on_reject: RejectSink | None,
        on_ack: AckSink | None,
    ) -> None:
        self.name = name
        self.store = store
        self.report = report
        self.on_reject = on_reject
        self.on_ack = on_ack
        self.rows: list[Row] = []
        self.positions: list[int] = []

    def add(self, row: Row, position: int) -> None:
        self.rows.append(row)
        self.positions.append(position)

    def reject(self, item: Rejected) -> None:
        self.report.rejected += 1
        if self.on_reject is not None:
            self.on_reject(item)

    def flush(self, acknowledged_up_to: int) -> None:
        report = self.report
        if self.rows:
            result = self.store.add_rows(self.rows)
            report.batches += 1
            report.stored += result.inserted
            report.duplicates += result.duplicates
            report.tree_head = result.tree_head
            for conflict in result.conflicts:
                row = self.rows[conflict.index]
                where = f"{self.name}:{self.positions[conflict.index]}"
                err = RecordError(where, "key", f"{conflict.reason} (stored as #{conflict.existing_seq})")
                self.reject(Rejected(where, self.positions[conflict.index], (err,), row[BODY].decode(errors="replace")))
            self.rows = []
            self.positions = []
        if self.on_ack is not None and acknowledged_up_to:
            self.on_ack(self.name, acknowledged_up_to)


def ingest_stream(
    name: str,
    stream: io.BufferedReader,
    store: Store,
    checks: ContextChecks,
    report: IngestReport,
    *,
    batch_size: int = DEFAULT_BATCH_SIZE,
    on_reject: RejectSink | None = None,
    on_ack: AckSink | None = None,
    workers: int = 0,
    size_hint: int | None = None,
    parallel_min_bytes: int = PARALLEL_MIN_BYTES,
) -> None:
    """Ingest one stream. With ``workers`` > 0, an NDJSON file of at least ``parallel_min_bytes``
    is validated in parallel (standard input, whose size is unknown, is read in this process)."""
    head = stream.peek(4096)[:4096]
    reader = reader_for(name, head)
    report.formats[name] = reader.name
    report.files += 1
    batcher = _Batcher(name, store, report, on_reject, on_ack)
    last_position = 0
    big = size_hint is not None and size_hint >= parallel_min_bytes
    if workers > 0 and reader.name == "ndjson" and big:
        for chunk in validated_chunks(name, stream, checks, workers):
            report.read += chunk.lines
            for rejected in chunk.rejects:
                batcher.reject(rejected.to_rejected())
            for row, position in zip(chunk.rows, chunk.positions, strict=True):
                batcher.add(row, position)
            last_position = chunk.last_position
            if len(batcher.rows) >= batch_size:
                batcher.flush(last_position)
        batcher.flush(last_position)
        return
    check = checks.check
    for item in reader.read(stream, name):
        report.read += 1
        last_position = item.position
        if isinstance(item, Rejected):
            batcher.reject(item)
            continue
        problem = check(item.record, item.observation)
        if problem is not None:
            batcher.reject(Rejected(item.record, item.position, (problem,), item.body.decode(errors="replace")))
            continue
        batcher.add(observation_row(item.observation, item.body), item.position)
        if len(batcher.rows) >= batch_size:
            batcher.flush(last_position)
    batcher.flush(last_position)


def ingest_paths(
    paths: Sequence[str],
    store: Store,
    checks: ContextChecks,
    *,
    batch_size: int = DEFAULT_BATCH_SIZE,
    on_reject: RejectSink | None = None,
    on_ack: AckSink | None = None,
    progress: ProgressSink | None = None,
    workers: int = 0,
    parallel_min_bytes: int = PARALLEL_MIN_BYTES,
) -> IngestReport:
    """Ingest every file in ``paths`` (``-`` is standard input) into ``store``.

    Arguments are checked before anything is read: a missing file is a :class:`UsageError`
    and nothing is stored.
    """
    if batch_size < 1:
        raise UsageError("batch size must be at least 1")
    for path in paths:
        if path != "-" and not os.path.isfile(path):
            raise UsageError(f"{path}: no such file" if not os.path.exists(path) else f"{path}: not a file")
    report = IngestReport()
    started = time.perf_counter()
    for path in paths:
        name, stream = open_input(path, progress)
        size = os.path.getsize(path) if path != "-" else None
        with stream:
            ingest_stream(
                name,
                stream,
                store,
                checks,
                report,
                batch_size=batch_size,
                on_reject=on_reject,
                on_ack=on_ack,
                workers=workers,
                size_hint=size,
                parallel_min_bytes=parallel_min_bytes,
            )
    report.seconds = time.perf_counter() - started
    return report


def iter_items(path: str) -> Iterator[Parsed | Rejected]:
    """Read a file without storing it (``truceline ingest --check``)."""
    name, stream = open_input(path)
    with stream:
        head = stream.peek(4096)[:4096]
        yield from reader_for(name, head).read(stream, name)
