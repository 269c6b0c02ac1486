"""Wires the stages together; the only module that imports all of them.

For now the flow holds ingest → store + ledger. ``process`` walks the observations that arrived
since it last ran (a cursor in the store) and hands them to every stage that exists; as stages
land (fuse, attribute, verify, assess, act) they are called from here in that order.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field

from truceline.store import ObservationQuery, Store

PROCESS_CURSOR = "process"


@dataclass
class ProcessReport:
    """What one ``process`` run saw and did."""

    first_seq: int
    last_seq: int
    by_kind: Counter[str] = field(default_factory=Counter)
    stages_run: tuple[str, ...] = ()

    @property
    def new_observations(self) -> int:
        return sum(self.by_kind.values())


STAGES: tuple[str, ...] = ()
"""Stages that exist after ingest, in flow order (filled as they land)."""


def process(store: Store) -> ProcessReport:
    """Run every existing stage over observations not yet processed; safe to run again."""
    start = store.get_cursor(PROCESS_CURSOR)
    report = ProcessReport(first_seq=start + 1, last_seq=start)
    for stored in store.observations(ObservationQuery(after_seq=start)):
        report.by_kind[stored.observation.kind] += 1  # type: ignore[attr-defined]
        report.last_seq = stored.seq
    report.stages_run = STAGES
    if report.last_seq > start:
        store.set_cursor(PROCESS_CURSOR, report.last_seq)
    return report
