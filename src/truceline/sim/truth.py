"""Reading a run's ``truth.json`` (only ``evaluate`` does; the pipeline never may).

:class:`Truth` wraps the parsed document and indexes what the scores need: which true event
each report belongs to, the claims, the violations, the offensives and the Hawkes parameters.
Tests build small truths by hand as plain dicts with only the sections they need.
"""

from __future__ import annotations

import json
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import Any

from truceline.model import UsageError

__all__ = ["Ref", "Truth", "load_truth"]

Ref = tuple[str, str, str]
"""A report's permanent identity: (participant, source, key)."""


def _ref(value: Any) -> Ref:
    p, s, k = value
    return (str(p), str(s), str(k))


def _time(text: str | None) -> datetime | None:
    return None if text is None else datetime.fromisoformat(text.replace("Z", "+00:00"))


class Truth:
    """A truth document with indexes. Every section is optional (hand-made truths hold few)."""

    def __init__(self, doc: dict[str, Any]) -> None:
        self.doc = doc
        self.events: list[dict[str, Any]] = list(doc.get("events", []))
        self.event_of: dict[Ref, list[int]] = {}
        for i, ev in enumerate(self.events):
            for r in ev.get("observations", []):
                self.event_of.setdefault(_ref(r), []).append(i)
        self.false_detections: set[Ref] = {_ref(r) for r in doc.get("false_detections", [])}
        self.claims: list[dict[str, Any]] = list(doc.get("claims", []))
        self.violations: list[dict[str, Any]] = list(doc.get("violations", []))
        self.offensives: list[dict[str, Any]] = list(doc.get("offensives", []))
        self.hawkes: dict[str, dict[str, Any]] = dict(doc.get("hawkes", {}))
        window = doc.get("window", {})
        self.start: datetime | None = _time(window.get("start"))
        self.days: int | None = window.get("days")

    @property
    def start_date(self) -> date | None:
        return None if self.start is None else self.start.date()

    def day_index(self, day: str | date) -> int | None:
        """Days since the window's start for a YYYY-MM-DD day (None without a window)."""
        if self.start is None:
            return None
        d = date.fromisoformat(day) if isinstance(day, str) else day
        return (d - self.start.date()).days

    def offensive_days(self) -> list[tuple[str, int]]:
        """(sector, day index) of every offensive."""
        out = []
        for o in self.offensives:
            if "day" in o:
                out.append((str(o["sector"]), int(o["day"])))
            elif self.start is not None and o.get("date"):
                t = _time(o["date"])
                assert t is not None
                out.append((str(o["sector"]), (t.date() - self.start.date()).days))
        return out

    def window_end(self) -> datetime | None:
        if self.start is None or self.days is None:
            return None
        return self.start + timedelta(days=int(self.days))

    @staticmethod
    def ref(value: Any) -> Ref:
        return _ref(value)

    @staticmethod
    def time(text: str | None) -> datetime | None:
        return _time(text)


def load_truth(path: str | Path) -> Truth:
    """Load ``truth.json``; a missing or malformed file is a :class:`UsageError` naming it."""
    p = Path(path)
    if not p.is_file():
        raise UsageError(f"{p}: no such truth file (simulate writes DIR/truth.json)")
    try:
        doc = json.loads(p.read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise UsageError(f"{p}: not a truth file: {exc}") from None
    if not isinstance(doc, dict) or not str(doc.get("format", "")).startswith("truceline-truth/"):
        raise UsageError(f"{p}: not a truth file (no 'format': 'truceline-truth/…')")
    return Truth(doc)
