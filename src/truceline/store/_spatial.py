"""Grouping a batch into space-time buckets for the R*Tree, and reading buckets back."""

from __future__ import annotations

import sys
from array import array
from collections.abc import Sequence

import numpy as np

from truceline.store.rows import LAT, LON, SPATIAL_CELL_DEG, TIME, Row

Bucket = tuple[list[int], float, float, float, float, float, float]


def buckets_of(first_seq: int, rows: Sequence[Row]) -> list[Bucket]:
    """Group rows (numbered from ``first_seq``) by grid cell; rows without a position are skipped.

    Vectorised: one sort by cell, then per-group minima and maxima with ``reduceat``.
    """
    lat = np.array([r[LAT] if r[LAT] is not None else np.nan for r in rows], dtype=float)
    lon = np.array([r[LON] if r[LON] is not None else np.nan for r in rows], dtype=float)
    time = np.array([r[TIME] for r in rows], dtype=float)
    seq = np.arange(first_seq, first_seq + len(rows), dtype=np.int64)
    keep = ~(np.isnan(lat) | np.isnan(lon))
    if not keep.any():
        return []
    lat, lon, time, seq = lat[keep], lon[keep], time[keep], seq[keep]
    cell = np.floor(lon / SPATIAL_CELL_DEG).astype(np.int64) * 100_000 + np.floor(lat / SPATIAL_CELL_DEG).astype(
        np.int64
    )
    order = np.argsort(cell, kind="stable")
    cell, lat, lon, time, seq = cell[order], lat[order], lon[order], time[order], seq[order]
    starts = np.flatnonzero(np.r_[True, cell[1:] != cell[:-1]])
    bounds = [
        np.minimum.reduceat(lon, starts),
        np.maximum.reduceat(lon, starts),
        np.minimum.reduceat(lat, starts),
        np.maximum.reduceat(lat, starts),
        np.minimum.reduceat(time, starts),
        np.maximum.reduceat(time, starts),
    ]
    members = np.split(seq, starts[1:])
    return [(m.tolist(), *(float(b[i]) for b in bounds)) for i, m in enumerate(members)]


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
