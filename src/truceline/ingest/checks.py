"""Checks that need context beyond one record: known participants and clock tolerance."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta

from truceline.model import ObservationBase, RecordError

# Fields naming a participant, beyond the envelope's own ``participant`` and markings.
_PARTY_FIELDS = ("claimant", "accused", "denied_by", "declaring_party", "identified_side")


@dataclass(frozen=True)
class ContextChecks:
    """What an observation must agree with: the known participants and the current time.

    ``future_tolerance`` allows for sensor clock error; a report further in the future than
    that is refused rather than silently corrupting time-ordered analyses.
    """

    participants: frozenset[str]
    now: datetime
    future_tolerance: timedelta = timedelta(minutes=10)

    def check(self, record: str, obs: ObservationBase) -> RecordError | None:
        known = self.participants
        if obs.participant not in known:
            return RecordError(record, "participant", f"unknown participant {obs.participant!r}{_hint(known)}")
        m = obs.markings
        if m.originator not in known:
            return RecordError(record, "markings.originator", f"unknown participant {m.originator!r}")
        for i, p in enumerate(m.releasable_to):
            if p not in known:
                return RecordError(record, f"markings.releasable_to.{i}", f"unknown participant {p!r}")
        fields = obs.__dict__  # plain dict access: pydantic's __getattr__ is slow for absent names
        for name in _PARTY_FIELDS:
            value = fields.get(name)
            if value is not None and value not in known:
                return RecordError(record, name, f"unknown participant {value!r}")
        limit = self.now + self.future_tolerance
        if obs.time > limit:
            return RecordError(
                record,
                "time",
                f"{obs.time.isoformat()} is in the future (more than {_fmt(self.future_tolerance)} "
                "ahead of this machine's clock); check the sensor's clock",
            )
        claimed = fields.get("claimed_time")
        if claimed is not None and claimed > limit:
            return RecordError(record, "claimed_time", f"{claimed.isoformat()} is in the future")
        return None


def _hint(known: Iterable[str]) -> str:
    names = sorted(known)
    shown = ", ".join(names[:12])
    more = f", … ({len(names)} in all)" if len(names) > 12 else ""
    return f"; the agreement's participants are {shown}{more}"


def _fmt(delta: timedelta) -> str:
    seconds = int(delta.total_seconds())
    return f"{seconds // 60} min" if seconds % 60 == 0 else f"{seconds} s"
