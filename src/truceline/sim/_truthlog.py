"""What the generators remember for the truth while they write reports (never written to reports)."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any


@dataclass
class TruthLog:
    """Report references are JSON triples (text) while a run is written, lists in the truth."""

    sightings: dict[int, list[Any]] = field(default_factory=dict)  # object row -> report refs
    radar_by_position: dict[int, list[Any]] = field(default_factory=dict)  # firing position row -> radar refs
    denials: list[dict[str, Any]] = field(default_factory=list)
    jamming_reports: list[Any] = field(default_factory=list)
    storage_visits: list[dict[str, Any]] = field(default_factory=list)
    claims: list[dict[str, Any]] = field(default_factory=list)
    incursions: list[dict[str, Any]] = field(default_factory=list)
    declarations: list[dict[str, Any]] = field(default_factory=list)
    false_detections: list[Any] = field(default_factory=list)
    outlier_picks: list[Any] = field(default_factory=list)
    patrols: list[dict[str, Any]] = field(default_factory=list)
    imagery_passes: list[dict[str, Any]] = field(default_factory=list)
    uav_flights: list[dict[str, Any]] = field(default_factory=list)
    crater_analyses: list[dict[str, Any]] = field(default_factory=list)  # each with its shot's event id

    def saw(self, row: int, ref: str) -> None:
        self.sightings.setdefault(row, []).append(ref)
