"""Writing reports in the ingest format, fast: times as integer microseconds, lines as text.

High-volume kinds (acoustic arrivals) are formatted from numpy columns with one f-string per
line around a per-sensor prefix; the rest go through :meth:`DayOutput.record` and ``json.dumps``.
Every value is rounded before formatting so that what is written is exactly valid: a bearing
that would round to 360.0 is written as 0.0, an ellipse's minor axis never exceeds its major.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any, BinaryIO, Literal

import numpy as np
from numpy.typing import NDArray

Int64Array = NDArray[np.int64]
TimeUnit = Literal["s", "ms", "us"]

# Who may read what. Sensor data is shared within the mechanism; a party's own reports go to the
# mechanism and its lead; patrol logs are green (for the participants), statements are public.
SHARED_WITH = ("MVM", "USA", "UKR", "GBR", "FRA", "DEU", "POL")
PARTY_SHARES = ("MVM", "USA")


def iso(t_us: Int64Array | int, unit: TimeUnit = "ms") -> NDArray[np.str_]:
    """ISO 8601 UTC strings ('…Z') of epoch microseconds, at ``unit`` resolution ('s', 'ms', 'us')."""
    a = np.asarray(t_us, dtype=np.int64).astype("datetime64[us]")
    return np.char.add(np.datetime_as_string(a, unit=unit), "Z")


def iso1(t_us: int, unit: TimeUnit = "s") -> str:
    return str(iso(np.array([t_us]), unit)[0])


def markings(originator: str, tlp: str = "amber") -> dict[str, Any]:
    m: dict[str, Any] = {"tlp": tlp, "originator": originator}
    if tlp in ("amber", "amber+strict", "red"):
        pool = PARTY_SHARES if originator in ("UKR", "RUS") else SHARED_WITH
        m["releasable_to"] = [p for p in pool if p != originator]
    return m


def loc(lon: float, lat: float, major: float, minor: float | None = None, orientation: float = 0.0) -> dict[str, Any]:
    """A location with its 95 % error ellipse, rounded to what the schema accepts."""
    a = round(max(float(major), 0.1), 1)
    b = min(round(max(float(minor if minor is not None else major), 0.1), 1), a)
    o = round(float(orientation) % 180.0, 1) % 180.0
    return {
        "lat": round(float(lat), 6),
        "lon": round(float(lon), 6),
        "error": {"semi_major_m": a, "semi_minor_m": b, "orientation_deg": o},
    }


def bearing(deg: NDArray[np.float64] | float) -> NDArray[np.float64]:
    """Bearings rounded to 0.1° in [0, 360)."""
    return np.asarray(np.round(np.asarray(deg, dtype=np.float64) % 360.0, 1) % 360.0)


def ref_json(participant: str, source: str, key: str) -> str:
    return f'["{participant}","{source}","{key}"]'


@dataclass
class DayOutput:
    """One day's report lines (with their times) and the truth's links from events to reports."""

    times: list[Int64Array] = field(default_factory=list)
    lines: list[list[str]] = field(default_factory=list)
    ref_event: list[NDArray[np.intp]] = field(default_factory=list)
    ref_text: list[list[str]] = field(default_factory=list)
    counts: dict[str, int] = field(default_factory=dict)
    _one_t: list[int] = field(default_factory=list)
    _one_line: list[str] = field(default_factory=list)

    def add_lines(self, kind: str, t_us: Int64Array, lines: list[str]) -> None:
        self.times.append(np.asarray(t_us, dtype=np.int64))
        self.lines.append(lines)
        self.counts[kind] = self.counts.get(kind, 0) + len(lines)

    def link(self, events: NDArray[np.intp] | list[int], refs: list[str]) -> None:
        """Record that each event in ``events`` produced the report ``refs[k]`` (JSON triples)."""
        self.ref_event.append(np.asarray(events, dtype=np.intp))
        self.ref_text.append(refs)

    def record(
        self,
        kind: str,
        key: str,
        participant: str,
        source: str,
        t_us: int,
        location: dict[str, Any] | None,
        *,
        tlp: str = "amber",
        reliability: str = "B",
        credibility: int = 2,
        time_error_s: float = 1.0,
        unit: TimeUnit = "s",
        **fields: Any,
    ) -> str:
        """Add one report built from fields; returns its truth reference (a JSON triple)."""
        rec: dict[str, Any] = {
            "kind": kind,
            "key": key,
            "participant": participant,
            "source": source,
            "reliability": reliability,
            "credibility": credibility,
            "time": iso1(t_us, unit),
            "time_error_s": time_error_s,
        }
        if location is not None:
            rec["location"] = location
        rec["markings"] = markings(participant, tlp)
        rec.update({k: v for k, v in fields.items() if v is not None})
        self._one_t.append(int(t_us))
        self._one_line.append(json.dumps(rec, separators=(",", ":"), ensure_ascii=False))
        self.counts[kind] = self.counts.get(kind, 0) + 1
        return ref_json(participant, source, key)

    def write_sorted(self, f: BinaryIO, chunk: int = 200_000) -> None:
        """Write every line of the day in time order (stable: equal times keep their order of creation).

        Written in chunks, so a day of a million lines never exists twice in memory.
        """
        times = [*self.times, np.array(self._one_t, dtype=np.int64)]
        lines = [line for part in self.lines for line in part] + self._one_line
        t = np.concatenate(times) if times else np.zeros(0, dtype=np.int64)
        order = np.argsort(t, kind="stable").tolist()
        for a in range(0, len(order), chunk):
            f.write("".join([lines[i] + "\n" for i in order[a : a + chunk]]).encode("utf-8"))
