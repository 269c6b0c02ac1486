"""What analysts do with findings: review them, and read the daily compliance summary.

A review never edits a finding: it is a new version with the new status and the reviewer in its
creation info, so the store's record history is the audit trail (provisional → confirmed by
review → disputed → closed). The daily summary counts findings per sector, side and clause
family on a day against the day before, as the OSCE mission's daily report did.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, datetime, timedelta

from truceline.model import CreationInfo, Finding

__all__ = ["ALLOWED_REVIEWS", "DailyRow", "ReviewError", "daily_summary", "review"]

ALLOWED_REVIEWS: dict[str, tuple[str, ...]] = {
    "provisional": ("confirmed", "disputed", "closed"),
    "confirmed": ("disputed", "closed"),
    "disputed": ("confirmed", "closed"),
    "closed": ("provisional",),  # reopened: the item went missing again, the breach resumed
}
"""From each status, the statuses a review may move a finding to."""


class ReviewError(ValueError):
    """A review that the status rules do not allow; says which move and what is allowed."""


def review(
    finding: Finding, status: str, *, reviewer: str, participant: str | None, note: str, when: datetime
) -> Finding:
    """A new version of ``finding`` with ``status``, made by hand by ``reviewer``.

    >>> from datetime import UTC
    >>> from truceline.model import Markings
    >>> t = datetime(2026, 9, 2, tzinfo=UTC)
    >>> f = Finding(id="f1", clause_id="withdrawal.mlrs", clause_text="", confidence=0.9, first_seen=t,
    ...             last_seen=t, markings=Markings(tlp="green", originator="MVM"),
    ...             creation_info=CreationInfo(agent="truceline.verify", created=t))
    >>> r = review(f, "confirmed", reviewer="analyst-7", participant="USA", note="seen on imagery", when=t)
    >>> r.status, r.creation_info.mode, r.creation_info.agent
    ('confirmed', 'manual', 'analyst-7')
    """
    allowed = ALLOWED_REVIEWS.get(finding.status, ())
    if status not in allowed:
        raise ReviewError(
            f"finding {finding.id} is {finding.status}: a review may make it {', '.join(allowed) or 'nothing'}, "
            f"not {status}"
        )
    if not note.strip():
        raise ReviewError("a review needs a note saying why")
    info = CreationInfo(agent=reviewer, created=when, mode="manual", participant=participant, note=note)
    return finding.model_copy(update={"status": status, "creation_info": info})


@dataclass(frozen=True, slots=True)
class DailyRow:
    """Findings first seen on a day, per sector, side and clause family, with the day before."""

    sector: str
    side: str
    family: str
    count: int
    previous: int

    @property
    def change(self) -> int:
        return self.count - self.previous


def daily_summary(findings: Iterable[Finding], day: date) -> list[DailyRow]:
    """Counts of findings first seen on ``day`` and on the day before, per (sector, side, family).

    >>> from datetime import UTC
    >>> from truceline.model import Markings
    >>> def f(i, d):
    ...     t = datetime(2026, 9, d, 3, tzinfo=UTC)
    ...     return Finding(id=i, clause_id="ceasefire", clause_text="", side="RUS", sector="CL-07", confidence=0.9,
    ...                    first_seen=t, last_seen=t, markings=Markings(tlp="green", originator="MVM"),
    ...                    creation_info=CreationInfo(agent="t", created=t))
    >>> [(r.count, r.previous, r.change) for r in daily_summary([f("a", 1), f("b", 2), f("c", 2)], date(2026, 9, 2))]
    [(2, 1, 1)]
    """
    today: Counter[tuple[str, str, str]] = Counter()
    before: Counter[tuple[str, str, str]] = Counter()
    yesterday = day - timedelta(days=1)
    for f in findings:
        key = (f.sector or "-", f.side or "-", f.clause_id.split(".")[0])
        seen = f.first_seen.date()
        if seen == day:
            today[key] += 1
        elif seen == yesterday:
            before[key] += 1
    keys = sorted(set(today) | set(before))
    return [DailyRow(s, side, fam, today[(s, side, fam)], before[(s, side, fam)]) for s, side, fam in keys]
