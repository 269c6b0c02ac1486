"""Grouping a batch into space-time buckets for the R*Tree, and reading buckets back."""

from __future__ import annotations

import math
import sys
from array import array
from collections.abc import Iterable

from truceline.store.rows import SPATIAL_CELL_DEG, ObservationRow

Bucket = tuple[list[int], float, float, float, float, float, float]


def buckets_of(first_seq: int, rows: Iterable[ObservationRow]) -> list[Bucket]:
    """Group rows (numbered from ``first_seq``) by grid cell; rows without a position are skipped."""
    cells: dict[tuple[int, int], list[int]] = {}
    positions: dict[int, tuple[float, float, float]] = {}
    seq = first_seq
    for row in rows:
        if row.lat is not None and row.lon is not None:
            cell = (math.floor(row.lon / SPATIAL_CELL_DEG), math.floor(row.lat / SPATIAL_CELL_DEG))
            cells.setdefault(cell, []).append(seq)
            positions[seq] = (row.lon, row.lat, row.time)
        seq += 1
    out: list[Bucket] = []
    for members in cells.values():
        lons = [positions[s][0] for s in members]
        lats = [positions[s][1] for s in members]
        times = [positions[s][2] for s in members]
        out.append((members, min(lons), max(lons), min(lats), max(lats), min(times), max(times)))
    return out


def pack(seqs: list[int]) -> bytes:
    a = array("q", seqs)
    if sys.byteorder != "little":  # pragma: no cover - all supported machines are little-endian
        a.byteswap()
    return a.tobytes()


def unpack(blob: bytes) -> array[int]:
    a = array("q")
    a.frombytes(blob)
    if sys.byteorder != "little":  # pragma: no cover
        a.byteswap()
    return a
