"""Helpers shared by the store implementations: record typing, comparisons, query matching."""

from __future__ import annotations

import json
import math
import re
from collections.abc import Iterable, Iterator, Sequence
from datetime import UTC, datetime
from typing import Any

from truceline.model import ObservationBase, Record, observation_adapter
from truceline.store.base import ObservationQuery, SourceActivity, StoredObservation


def record_type(record: Record, type: str | None = None) -> str:
    """The type name a derived record is stored under (``Incident`` → ``incident``)."""
    if type is not None:
        return type
    return record.__class__.__name__.lower()


def record_id(record: Record) -> str:
    rid = getattr(record, "id", None)
    if not isinstance(rid, str) or not rid:
        raise TypeError(f"{record.__class__.__name__} has no string id; only identified records are stored")
    return rid


def serialise(record: Record) -> bytes:
    """The bytes a derived record is stored and logged as (pydantic JSON, no nulls)."""
    return record.model_dump_json(exclude_none=True).encode()


def parse_observation(body: bytes) -> ObservationBase:
    return observation_adapter.validate_json(body)


def same_report(existing_body: bytes, new: ObservationBase, new_body: bytes) -> bool:
    """Whether a re-sent report carries the same content as the stored one.

    Bodies are compared first (the usual re-send is byte-identical); otherwise both are parsed
    and compared as records, so a re-send that differs only in JSON whitespace or key order is
    still a duplicate and not a conflict.
    """
    if existing_body == new_body:
        return True
    try:
        old = parse_observation(existing_body)
    except ValueError:
        return False
    return bool(
        json.loads(old.model_dump_json(exclude_none=True)) == json.loads(new.model_dump_json(exclude_none=True))
    )


def seq_of(name: str) -> int:
    """The sequence number a record name such as ``observation #17 (…)`` gives, or a large one."""
    match = re.search(r"#(\d+)", name)
    return int(match.group(1)) if match else 1 << 62


def epoch(t: datetime) -> float:
    return t.timestamp()


def from_epoch(x: float) -> datetime:
    return datetime.fromtimestamp(x, UTC)


def matches(query: ObservationQuery, seq: int, obs: ObservationBase) -> bool:
    """Reference implementation of a query filter (the memory store uses it; SQL mirrors it)."""
    if seq <= query.after_seq:
        return False
    if query.kinds is not None and obs.kind not in query.kinds:  # type: ignore[attr-defined]
        return False
    if query.participants is not None and obs.participant not in query.participants:
        return False
    if query.start is not None and obs.time < query.start:
        return False
    if query.end is not None and obs.time >= query.end:
        return False
    if query.bbox is not None:
        loc = obs.location
        if loc is None:
            return False
        min_lon, min_lat, max_lon, max_lat = query.bbox
        if not (min_lon <= loc.lon <= max_lon and min_lat <= loc.lat <= max_lat):
            return False
    return True


def observation_fields_of(
    stored: Iterable[tuple[StoredObservation, bytes]], fields: Sequence[str]
) -> Iterator[tuple[Any, ...]]:
    """Reference :meth:`Store.observation_fields` over (observation, its stored body) pairs."""
    for s, body in stored:
        o = s.observation
        doc = json.loads(body)
        loc = getattr(o, "location", None)
        yield (
            s.seq, o.participant, o.source, o.key, o.time.timestamp(),
            None if loc is None else loc.lon, None if loc is None else loc.lat,
            *(doc.get(name) for name in fields),
        )  # fmt: skip


def kind_counts_of(stored: Iterable[StoredObservation], after_seq: int, upto_seq: int) -> dict[str, int]:
    """Reference :meth:`Store.kind_counts`: the kinds of the observations with seq in (after, upto]."""
    out: dict[str, int] = {}
    for s in stored:
        if after_seq < s.seq <= upto_seq:
            kind = str(s.observation.kind)  # type: ignore[attr-defined]
            out[kind] = out.get(kind, 0) + 1
    return out


HOUR_S = 3600.0


def hour_of(epoch_s: float) -> int:
    """The UTC hour (hours since the epoch) a report's time falls in, computed the same way by
    every store (one IEEE division, then the floor) so the stores agree at an hour's edge."""
    return math.floor(epoch_s / HOUR_S)


def hours_overlapping(start: datetime, end: datetime) -> tuple[int, int]:
    """The hours ``[lo, hi)`` that overlap the window ``[start, end)`` (empty when ``end <= start``)."""
    lo = hour_of(start.timestamp())
    hi = math.ceil(end.timestamp() / HOUR_S) if end > start else lo
    return lo, max(hi, lo)


def source_hours_of(
    stored: Iterable[StoredObservation],
    kind: str,
    start: datetime,
    end: datetime,
    bbox: tuple[float, float, float, float] | None = None,
) -> list[SourceActivity]:
    """Reference :meth:`Store.source_hours` over observations in ``seq`` order: the sources'
    reports of ``kind`` in the whole hours overlapping ``[start, end)``, aggregated as
    :func:`source_activity_of` does, then kept if the first one's place lies in ``bbox``."""
    lo, hi = hours_overlapping(start, end)
    inside = [
        s
        for s in stored
        if s.observation.kind == kind and lo <= hour_of(s.observation.time.timestamp()) < hi  # type: ignore[attr-defined]
    ]
    return [a for a in source_activity_of(inside) if in_bbox(a.lon, a.lat, bbox)]


def in_bbox(lon: float, lat: float, bbox: tuple[float, float, float, float] | None) -> bool:
    """Whether (lon, lat) lies in ``bbox`` (min_lon, min_lat, max_lon, max_lat; edges included)."""
    if bbox is None:
        return True
    min_lon, min_lat, max_lon, max_lat = bbox
    return min_lon <= lon <= max_lon and min_lat <= lat <= max_lat


def source_activity_of(stored: Iterable[StoredObservation]) -> list[SourceActivity]:
    """Reference :meth:`Store.source_activity` over observations in ``seq`` order (the SQL mirrors it)."""
    where: dict[tuple[str, str], tuple[float, float]] = {}
    first: dict[tuple[str, str], datetime] = {}
    last: dict[tuple[str, str], datetime] = {}
    count: dict[tuple[str, str], int] = {}
    for s in stored:
        o = s.observation
        key = (o.participant, o.source)
        if key not in where:
            where[key] = (o.location.lon, o.location.lat)
            first[key] = last[key] = o.time
            count[key] = 0
        first[key] = min(first[key], o.time)
        last[key] = max(last[key], o.time)
        count[key] += 1
    return [
        SourceActivity(p, src, where[(p, src)][0], where[(p, src)][1], first[(p, src)], last[(p, src)], count[(p, src)])
        for p, src in sorted(where)
    ]
