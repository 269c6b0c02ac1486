"""The coalition as loaded: the menu, every version of every pledge, ratification, requirements, units.

A pledge is never edited: :func:`amend` and :func:`withdraw` make a new version, and
:class:`Coalition` keeps them all (``history``) with the latest one current. A
:class:`Situation` says which pledges count right now — before or after a cease-fire, at which
warning level, and whether only guarantors whose ratification is in force are counted.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import date
from types import MappingProxyType
from typing import TYPE_CHECKING, Any

from truceline.agreement import Agreement
from truceline.guarantee.catalogue import Catalogue
from truceline.guarantee.records import Pledge, Ratification, ReassuranceUnit

if TYPE_CHECKING:
    from truceline.guarantee.forceplan import ForcePlan

__all__ = ["Coalition", "Requirement", "Situation", "amend", "withdraw"]


@dataclass(frozen=True, slots=True)
class Requirement:
    """What the plan needs of one capability from ``warning_level`` on (1 = in peacetime)."""

    capability: str
    quantity: float
    warning_level: int = 1
    note: str = ""


@dataclass(frozen=True, slots=True)
class Situation:
    """The circumstances under which pledges are counted.

    >>> Situation().describe()
    'after a cease-fire, warning level 1'
    """

    ceasefire: bool = True
    warning_level: int = 1
    ratified_only: bool = False

    def __post_init__(self) -> None:
        if not 1 <= self.warning_level <= 5:
            raise ValueError(f"warning level must be 1–5, got {self.warning_level}")

    def describe(self) -> str:
        text = f"{'after' if self.ceasefire else 'before'} a cease-fire, warning level {self.warning_level}"
        return text + (", ratified guarantors only" if self.ratified_only else "")


def _revise(pledge: Pledge, as_of: date, reason: str, changes: Mapping[str, Any]) -> Pledge:
    if as_of < pledge.as_of:
        raise ValueError(f"pledge {pledge.id}: a change on {as_of} cannot precede its version of {pledge.as_of}")
    if pledge.status == "withdrawn":
        raise ValueError(f"pledge {pledge.id} was withdrawn on {pledge.as_of}; pledge anew instead")
    unknown = set(changes) - set(Pledge.model_fields)
    if unknown or {"id", "participant", "capability"} & set(changes):
        raise ValueError(f"pledge {pledge.id}: cannot change {sorted(unknown or set(changes))}")
    # Re-validate the whole record so a change cannot break a cross-field rule (deliveries ≤ quantity).
    return Pledge.model_validate({**dict(pledge), **changes, "as_of": as_of, "reason": reason})


def amend(pledge: Pledge, *, as_of: date, reason: str, **changes: Any) -> Pledge:
    """A new version of ``pledge`` with ``changes`` (quantity, deliveries, conditions …)."""
    return _revise(pledge, as_of, reason, changes)


def withdraw(pledge: Pledge, *, as_of: date, reason: str) -> Pledge:
    """A new version marking ``pledge`` withdrawn; tranches delivered before ``as_of`` stay delivered."""
    return _revise(pledge, as_of, reason, {"status": "withdrawn"})


@dataclass(frozen=True)
class Coalition:
    """A coalition file, loaded and cross-checked against its agreement."""

    id: str
    title: str
    as_of: date
    source: str
    note: str
    agreement: Agreement
    catalogue: Catalogue
    versions: Mapping[str, tuple[Pledge, ...]]
    ratifications: Mapping[str, Ratification]
    requirements: tuple[Requirement, ...]
    units: tuple[ReassuranceUnit, ...]
    force_plan: ForcePlan | None = None

    def __post_init__(self) -> None:
        object.__setattr__(self, "versions", MappingProxyType(dict(self.versions)))
        object.__setattr__(self, "ratifications", MappingProxyType(dict(self.ratifications)))

    # -- pledges ----------------------------------------------------------------------------
    def pledges(self, *, include_withdrawn: bool = False) -> list[Pledge]:
        """The current version of every pledge, in file order."""
        latest = [v[-1] for v in self.versions.values()]
        return latest if include_withdrawn else [p for p in latest if p.status == "active"]

    def pledge(self, pledge_id: str) -> Pledge:
        try:
            return self.versions[pledge_id][-1]
        except KeyError:
            raise KeyError(f"no pledge {pledge_id!r} in {self.id}") from None

    def history(self, pledge_id: str) -> tuple[Pledge, ...]:
        """Every version of a pledge, oldest first: its audit trail."""
        self.pledge(pledge_id)
        return self.versions[pledge_id]

    def participants(self) -> list[str]:
        """Participants with at least one pledge (current or withdrawn), in file order."""
        return list(dict.fromkeys(v[0].participant for v in self.versions.values()))

    def counts(self, pledge: Pledge, situation: Situation) -> bool:
        """Whether ``pledge`` is available in ``situation``."""
        if pledge.status != "active":
            return False
        if pledge.after_ceasefire and not situation.ceasefire:
            return False
        if pledge.warning_level is not None and pledge.warning_level > situation.warning_level:
            return False
        if situation.ratified_only or pledge.after_ratification:
            # A pledge that waits for ratification binds only once the procedure is complete.
            ratification = self.ratifications.get(pledge.participant)
            if ratification is None or not ratification.in_force:
                return False
        return True

    def available(self, situation: Situation | None = None) -> list[Pledge]:
        situation = situation or Situation()
        return [p for p in self.pledges() if self.counts(p, situation)]

    def requirement_at(self, capability: str, warning_level: int) -> float:
        """The quantity of ``capability`` the plan needs at ``warning_level`` (the highest step reached)."""
        steps = [r for r in self.requirements if r.capability == capability and r.warning_level <= warning_level]
        return max((r.quantity for r in steps), default=0.0)

    def directives(self) -> dict[str, list[Pledge]]:
        """Playbook directive id → the current pledges it calls on."""
        out: dict[str, list[Pledge]] = {}
        for p in self.pledges():
            for d in p.directives:
                out.setdefault(d, []).append(p)
        return dict(sorted(out.items()))

    def activated_by(self, directives: Iterable[str]) -> list[Pledge]:
        """The current pledges that any of ``directives`` activates (for the playbook engine)."""
        wanted = set(directives)
        return [p for p in self.pledges() if wanted & set(p.directives)]
