"""The reassurance force: coalition units at least the agreed distance from the line, inside their basing area.

Unit positions are not observations of the parties: the contributing nations declare them in the
coalition file (planned positions, and actual ones as reported). The rule itself is computed once,
in :mod:`truceline.guarantee.posture` (the same distances as :class:`~truceline.verify.ZoneChecker`,
a test holds the two together); this module turns its verdicts into the shared
:class:`~truceline.model.Finding` records, so a breach by a guarantor's unit sits in the findings
list beside the parties' breaches, under clause ``reassurance.distance`` or ``reassurance.basing``.

A unit that moves back into compliance closes its finding (a new, ``closed`` version); nothing is
ever deleted.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime

from truceline.guarantee import Coalition, posture
from truceline.model import CreationInfo, Finding, Markings
from truceline.verify._common import finding_id

__all__ = ["reassurance_findings"]

CLAUSES = ("reassurance.distance", "reassurance.basing")


def reassurance_findings(
    coalition: Coalition, *, now: datetime, existing: Mapping[str, Finding] | None = None
) -> list[Finding]:
    """Findings for every planned and actual position that breaches a clause; closures for those
    that no longer do (``existing``: the stored findings by id, to know which are open)."""
    existing = existing or {}
    out: list[Finding] = []
    for row in posture(coalition):
        breached = {f.clause_id: f for f in row.findings}
        for clause in CLAUSES:
            fid = finding_id("reassurance", row.unit.id, row.which, clause)
            found = breached.get(clause)
            if found is not None:
                # The contributing nation declared the position; every participant may read it.
                markings = Markings(tlp="green", originator=row.unit.participant)
                out.append(found.to_finding(fid, created=now, markings=markings))
                continue
            old = existing.get(fid)
            if old is not None and old.status != "closed":
                info = CreationInfo(agent="truceline.verify.reassurance", created=now)
                out.append(old.model_copy(update={"status": "closed", "last_seen": now, "creation_info": info}))
    return out
