"""The flat row an observation is stored as, computed once per report.

Ingest workers compute rows in parallel (they are plain tuples, cheap to send between
processes); the store only adds the sequence number, the arrival time and the ledger.
"""

from __future__ import annotations

from typing import Any, NamedTuple

from truceline.ledger import leaf_hash
from truceline.model import ObservationBase

SPATIAL_CELL_DEG = 0.25
"""Observations of one batch in the same cell of this size share one spatial-index entry."""


class ObservationRow(NamedTuple):
    participant: str
    source: str
    key: str
    kind: str
    time: float  # epoch seconds, UTC
    lat: float | None
    lon: float | None
    tlp: str
    sharing_group: str | None
    body: bytes
    leaf_hash: bytes


# Positions in a row, for code that receives rows as plain tuples (cheaper to send between
# processes than the NamedTuple).
PARTICIPANT, SOURCE, KEY, KIND, TIME, LAT, LON, TLP, SHARING_GROUP, BODY, LEAF_HASH = range(11)
Row = tuple[Any, ...]
"""An ObservationRow or a plain tuple with the same fields in the same order."""


def observation_row(obs: ObservationBase, body: bytes) -> ObservationRow:
    """The row for ``obs`` whose stored bytes are ``body``."""
    loc = obs.location
    m = obs.markings
    return ObservationRow(
        obs.participant,
        obs.source,
        obs.key,
        obs.kind,  # type: ignore[attr-defined]
        obs.time.timestamp(),
        None if loc is None else loc.lat,
        None if loc is None else loc.lon,
        m.tlp,
        m.sharing_group,
        body,
        leaf_hash(body),
    )
