"""Whose report it is: a participant's view through the policy layer, or the operator's full view.

A report for a participant is built only from what that participant may read: every collection
(observations of each kind, each type of derived record) is filtered through
:meth:`truceline.policy.Policy.visible_mask` *before* anything is counted, plotted or listed, so
no total, share, map point or "nothing here" sentence can depend on a record it may not see.
Each filtered collection leaves one ``count`` audit event in the policy's audit log.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import TypeVar

from truceline.model import Markings
from truceline.policy import TLP_LEVELS, MarkingsTable, Policy, PolicyContext, Principal

T = TypeVar("T")


@dataclass(frozen=True)
class Viewer:
    """Who the report is for. ``principal is None`` is the operator's full, unfiltered view.

    The full view is what ``truceline report`` gives an administrator of the embedded store by
    default: it is marked as such on every page and is not for release. The policy layer has no
    administrator bypass, so a report to be handed to a nation must be made with
    :meth:`for_participant`.
    """

    principal: Principal | None = None
    policy: Policy | None = None

    @classmethod
    def full(cls) -> Viewer:
        return cls()

    @classmethod
    def for_participant(cls, context: PolicyContext, participant: str, *, policy: Policy | None = None) -> Viewer:
        """The view of ``participant`` acting in every sharing group the context records for it."""
        principal = Principal(
            participant=participant,
            sharing_groups=tuple(sorted(context.memberships(participant))),
            subject="truceline-report",
        )
        return cls(principal=principal, policy=policy if policy is not None else Policy(context))

    @property
    def is_full(self) -> bool:
        return self.principal is None

    @property
    def label(self) -> str:
        if self.principal is None:
            return "full view (operator, unfiltered — not for release)"
        return f"{self.principal.participant}"

    def keep(self, collection: str, items: Sequence[T], markings_of: Callable[[T], Markings]) -> list[T]:
        """The items this viewer may read, in their order; one audit event per call."""
        if self.principal is None or self.policy is None:
            return list(items)
        if not items:
            self.policy.count(self.principal, f"report/{collection}", MarkingsTable.from_markings([]))
            return []
        table = MarkingsTable.from_markings(markings_of(item) for item in items)
        mask = self.policy.visible_mask(self.principal, table)
        # The count gate leaves the audit event; the mask above decides what is kept.
        self.policy.count(self.principal, f"report/{collection}", table)
        return [item for item, keep in zip(items, mask.tolist(), strict=True) if keep]

    def keep_reference(self, items: Sequence[T], markings_of: Callable[[T], Markings]) -> list[T]:
        """Plain per-item twin of :meth:`keep` (no audit), for tests."""
        if self.principal is None or self.policy is None:
            return list(items)
        return [item for item in items if self.policy.visible(self.principal, markings_of(item))]


def strictest_tlp(markings: Sequence[Markings]) -> str:
    """The most restrictive TLP level among ``markings`` (``clear`` when there are none).

    >>> strictest_tlp([Markings(tlp="green", originator="USA"), Markings(tlp="amber", originator="USA")])
    'amber'
    """
    levels = {m.tlp for m in markings}
    return max(levels, key=TLP_LEVELS.index) if levels else "clear"
