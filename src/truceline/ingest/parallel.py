"""Parallel validation of large NDJSON files.

Validation is CPU work that needs no shared state, while SQLite wants one writer. So worker
processes validate chunks of lines and turn them into plain store rows (cheap to send back),
and this process only writes: batches stay in input order, so acknowledgements still mean
"everything up to this line". The window of chunks in flight is bounded, so memory stays flat
however large the file.
"""

from __future__ import annotations

import multiprocessing
import os
import threading
import time
from collections import deque
from collections.abc import Iterator
from concurrent.futures import Future, ProcessPoolExecutor
from dataclasses import dataclass
from typing import BinaryIO

from truceline.ingest.checks import ContextChecks
from truceline.ingest.readers import Parsed, Rejected, parse_ndjson_line
from truceline.model import RecordError
from truceline.store.rows import Row, observation_row

CHUNK_LINES = 5_000
PARALLEL_MIN_BYTES = 8 << 20  # below this, starting workers costs more than it saves


@dataclass(frozen=True, slots=True)
class RejectedRow:
    """A rejected record in a form that crosses process boundaries (no exception objects)."""

    record: str
    position: int
    errors: tuple[tuple[str, str], ...]  # (field, reason)
    raw: str

    def to_rejected(self) -> Rejected:
        return Rejected(
            self.record,
            self.position,
            tuple(RecordError(self.record, f, r) for f, r in self.errors),
            self.raw,
        )


@dataclass(frozen=True, slots=True)
class ChunkResult:
    """One chunk, validated: rows to store (with their input positions) and rejects, in order."""

    rows: list[Row]
    positions: list[int]
    rejects: list[RejectedRow]
    last_position: int
    lines: int


def prepare_chunk(filename: str, first_line: int, lines: list[bytes], checks: ContextChecks) -> ChunkResult:
    """Validate ``lines`` (numbered from ``first_line``) into rows and rejects."""
    rows: list[Row] = []
    positions: list[int] = []
    rejects: list[RejectedRow] = []
    records = 0
    for offset, raw in enumerate(lines):
        lineno = first_line + offset
        item = parse_ndjson_line(filename, lineno, raw)
        if item is None:
            continue
        records += 1
        if isinstance(item, Parsed):
            problem = checks.check(item.record, item.observation)
            if problem is None:
                rows.append(tuple(observation_row(item.observation, item.body)))  # plain: cheaper to pickle
                positions.append(lineno)
                continue
            item = Rejected(item.record, lineno, (problem,), item.body.decode(errors="replace"))
        rejects.append(
            RejectedRow(item.record, item.position, tuple((e.field, e.reason) for e in item.errors), item.raw)
        )
    return ChunkResult(rows, positions, rejects, first_line + len(lines) - 1, records)


def _chunks(stream: BinaryIO, size: int) -> Iterator[tuple[int, list[bytes]]]:
    first = 1
    lines: list[bytes] = []
    for raw in stream:
        lines.append(raw)
        if len(lines) >= size:
            yield first, lines
            first += len(lines)
            lines = []
    if lines:
        yield first, lines


def _exit_with_parent(parent_pid: int) -> None:
    """Worker initializer: leave when the ingest process dies (e.g. SIGKILL), never linger."""

    def watch() -> None:
        while os.getppid() == parent_pid:
            time.sleep(0.5)
        os._exit(1)

    threading.Thread(target=watch, name="exit-with-parent", daemon=True).start()


def default_workers() -> int:
    """One validating worker per core: the writer spends much of its time waiting on fsync."""
    return max(1, os.cpu_count() or 1)


def validated_chunks(
    filename: str, stream: BinaryIO, checks: ContextChecks, workers: int, chunk_lines: int = CHUNK_LINES
) -> Iterator[ChunkResult]:
    """Chunks of ``stream`` validated by ``workers`` processes, yielded in input order."""
    ctx = multiprocessing.get_context("spawn")
    window = 2 * workers + 1
    with ProcessPoolExecutor(
        max_workers=workers, mp_context=ctx, initializer=_exit_with_parent, initargs=(os.getpid(),)
    ) as pool:
        pending: deque[Future[ChunkResult]] = deque()
        for first, lines in _chunks(stream, chunk_lines):
            pending.append(pool.submit(prepare_chunk, filename, first, lines, checks))
            if len(pending) >= window:
                yield pending.popleft().result()
        while pending:
            yield pending.popleft().result()
