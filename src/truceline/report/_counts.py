"""Counting incidents per sector and side, with the attribution's uncertainty carried along.

Each incident has a most likely side (the preferred attribution's argmax when it reaches
:data:`DECISIVE_P`, else ``undetermined``) and a probability per side; a table shows both the
count of incidents most likely fired by a side and the *expected* count (the sum of its
probabilities), so a reader sees how much of a figure rests on uncertain attributions.

The vectorised counts have a plain twin (``*_reference``) and a test holds them equal.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, date

import numpy as np
from numpy.typing import NDArray

from truceline.agreement import Agreement
from truceline.model import Incident

DECISIVE_P = 0.6
"""A side is named for an incident only when its probability reaches this; below it, ``undetermined``."""
UNDETERMINED = "undetermined"
NO_SECTOR = "outside sectors"
EXPLOSIVE_CLASSES = frozenset(
    {"artillery_ge100", "artillery_lt100", "mlrs", "heavy_mlrs_missile", "tank", "mortar", "anti_tank_gun"}
)
"""Weapon classes whose fire an observer logs as explosions (the rest as bursts or shots)."""


@dataclass(frozen=True)
class IncidentColumns:
    """Incidents as columns: day, sector, most likely side, P(side) per party, explosive or not."""

    day: NDArray[np.str_]
    sector: NDArray[np.str_]
    side: NDArray[np.str_]
    p_side: NDArray[np.float64]
    """Shape (n, parties): the preferred attribution's probability of each party."""
    explosive: NDArray[np.bool_]
    known_class: NDArray[np.bool_]
    lon: NDArray[np.float64]
    lat: NDArray[np.float64]
    parties: tuple[str, ...]

    def __len__(self) -> int:
        return int(self.day.shape[0])


def incident_columns(incidents: Sequence[Incident], agreement: Agreement) -> IncidentColumns:
    """Columns of ``incidents``; a missing sector is found from the preferred origin."""
    parties = tuple(p.id for p in agreement.parties)
    n = len(incidents)
    lon = np.full(n, np.nan)
    lat = np.full(n, np.nan)
    p_side = np.zeros((n, len(parties)))
    sector = np.array([inc.sector or "" for inc in incidents], dtype=object)
    for i, inc in enumerate(incidents):
        origin = inc.preferred_origin
        if origin is not None:
            lon[i], lat[i] = origin.location.lon, origin.location.lat
        elif inc.impacts:
            lon[i], lat[i] = inc.impacts[0].lon, inc.impacts[0].lat
        attribution = _preferred_attribution(inc)
        if attribution is not None:
            for j, party in enumerate(parties):
                p_side[i, j] = attribution.get(party, 0.0)
    missing = (sector == "") & np.isfinite(lon)
    if missing.any():
        sector[missing] = agreement.sector_of(lon[missing], lat[missing])
    sector[sector == ""] = NO_SECTOR
    best = p_side.argmax(axis=1) if n else np.zeros(0, dtype=np.int64)
    decisive = p_side.max(axis=1, initial=0.0) >= DECISIVE_P if n else np.zeros(0, dtype=bool)
    side = np.where(decisive, np.array(parties, dtype=object)[best] if n else np.zeros(0, dtype=object), UNDETERMINED)
    weapon = [inc.weapon_class for inc in incidents]
    return IncidentColumns(
        day=np.array([inc.start.astimezone(UTC).date().isoformat() for inc in incidents], dtype="<U10"),
        sector=sector.astype(str),
        side=side.astype(str),
        p_side=p_side,
        explosive=np.array([w in EXPLOSIVE_CLASSES for w in weapon], dtype=bool),
        known_class=np.array([w is not None and w != "unknown" for w in weapon], dtype=bool),
        lon=lon,
        lat=lat,
        parties=parties,
    )


def _preferred_attribution(incident: Incident) -> dict[str, float] | None:
    for attribution in incident.attributions:
        if attribution.id == incident.preferred_attribution_id:
            return dict(attribution.probabilities)
    return dict(incident.attributions[-1].probabilities) if incident.attributions else None


@dataclass(frozen=True)
class SideCounts:
    """Per (sector, side): most-likely counts, expected counts and explosive counts for one day."""

    sectors: tuple[str, ...]
    sides: tuple[str, ...]
    count: NDArray[np.int64]
    expected: NDArray[np.float64]
    explosive: NDArray[np.int64]
    known_class: NDArray[np.int64]


def count_by_sector_side(cols: IncidentColumns, day: date, sectors: Sequence[str]) -> SideCounts:
    """One day's incidents per sector (rows, in ``sectors`` order) and side (parties, then undetermined)."""
    sides = (*cols.parties, UNDETERMINED)
    sel = cols.day == day.isoformat()
    sector_code = _codes(cols.sector[sel], sectors)
    side_code = _codes(cols.side[sel], sides)
    ok = (sector_code >= 0) & (side_code >= 0)
    flat = sector_code[ok] * len(sides) + side_code[ok]
    size = len(sectors) * len(sides)

    def tally(weights: NDArray[np.float64] | None = None) -> NDArray[np.float64]:
        counts: NDArray[np.float64] = np.bincount(flat, weights=weights, minlength=size).astype(np.float64)
        return counts.reshape(len(sectors), len(sides))

    expected = np.zeros((len(sectors), len(sides)))
    p = cols.p_side[sel][ok]
    for j in range(len(cols.parties)):
        expected[:, j] = np.bincount(sector_code[ok], weights=p[:, j], minlength=len(sectors))
    # What the attributions leave unassigned (no attribution, or probability on other actors).
    expected[:, -1] = np.bincount(sector_code[ok], weights=1.0 - p.sum(axis=1), minlength=len(sectors))
    return SideCounts(
        sectors=tuple(sectors),
        sides=sides,
        count=tally().astype(np.int64),
        expected=expected,
        explosive=tally(cols.explosive[sel][ok].astype(np.float64)).astype(np.int64),
        known_class=tally(cols.known_class[sel][ok].astype(np.float64)).astype(np.int64),
    )


def count_by_sector_side_reference(cols: IncidentColumns, day: date, sectors: Sequence[str]) -> SideCounts:
    """Plain-loop twin of :func:`count_by_sector_side`."""
    sides = (*cols.parties, UNDETERMINED)
    count = np.zeros((len(sectors), len(sides)), dtype=np.int64)
    expected = np.zeros((len(sectors), len(sides)))
    explosive = np.zeros_like(count)
    known = np.zeros_like(count)
    for i in range(len(cols)):
        if cols.day[i] != day.isoformat() or cols.sector[i] not in sectors or cols.side[i] not in sides:
            continue
        r, c = list(sectors).index(str(cols.sector[i])), sides.index(str(cols.side[i]))
        count[r, c] += 1
        explosive[r, c] += int(cols.explosive[i])
        known[r, c] += int(cols.known_class[i])
        for j in range(len(cols.parties)):
            expected[r, j] += cols.p_side[i, j]
        expected[r, -1] += 1.0 - float(cols.p_side[i].sum())
    return SideCounts(tuple(sectors), sides, count, expected, explosive, known)


def daily_counts(cols: IncidentColumns, days: Sequence[date], keys: Sequence[str], by: str) -> NDArray[np.int64]:
    """Incidents per day (columns) for each key (rows) of column ``by`` (``"sector"`` or ``"side"``)."""
    values = cols.sector if by == "sector" else cols.side
    day_code = _codes(cols.day, [d.isoformat() for d in days])
    key_code = _codes(values, keys)
    ok = (day_code >= 0) & (key_code >= 0)
    flat = key_code[ok] * len(days) + day_code[ok]
    return np.bincount(flat, minlength=len(keys) * len(days)).reshape(len(keys), len(days)).astype(np.int64)


def _codes(values: NDArray[np.str_], vocabulary: Sequence[str]) -> NDArray[np.int64]:
    """Position of each value in ``vocabulary``, or -1."""
    if not len(vocabulary) or not values.shape[0]:
        return np.full(values.shape[0], -1, dtype=np.int64)
    vocab = np.asarray(list(vocabulary), dtype=str)
    order = np.argsort(vocab)
    pos = np.searchsorted(vocab[order], values)
    pos = np.clip(pos, 0, len(vocab) - 1)
    found = vocab[order][pos] == values
    return np.where(found, order[pos], -1).astype(np.int64)
