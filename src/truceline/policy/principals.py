"""Who is asking, and the agreement's view of participants and sharing groups.

A :class:`Principal` is what authentication hands to the policy layer: the participant it acts
for, its roles (which govern *actions*, never visibility) and the sharing groups it acts in. The
:class:`PolicyContext` is the registry those claims are checked against — the participants of the
mechanism and the members of each sharing group.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Annotated, Literal

from pydantic import StringConstraints, TypeAdapter, model_validator

from truceline.model import Identifier, Participant, ParticipantId, Record

PrincipalRole = Literal["analyst", "reviewer", "administrator", "observer"]
PRINCIPAL_ROLES: tuple[PrincipalRole, ...] = ("analyst", "reviewer", "administrator", "observer")

Action = Literal["read", "export", "write", "review", "administer"]
"""What a principal asks to do. ``read`` and ``export`` are decided by markings alone."""

ROLE_ACTIONS: dict[PrincipalRole, frozenset[Action]] = {
    "analyst": frozenset({"write"}),
    "reviewer": frozenset({"review"}),
    "administrator": frozenset({"administer"}),
    "observer": frozenset(),
}
"""The actions each role grants beyond reading. No role grants any extra visibility."""


_PARTICIPANT_IDS: TypeAdapter[tuple[str, ...]] = TypeAdapter(tuple[ParticipantId, ...])


class Principal(Record):
    """An authenticated participant.

    ``sharing_groups`` are the groups this principal acts in (a token may be scoped to fewer than
    its participant belongs to); a claim counts only where the :class:`PolicyContext` confirms the
    membership, so a token issued before a participant left a group stops working for it at once.
    ``subject`` names the user or token for the audit log; it plays no part in any decision.
    """

    participant: ParticipantId
    roles: tuple[PrincipalRole, ...] = ()
    sharing_groups: tuple[Identifier, ...] = ()
    subject: Identifier | None = None

    @model_validator(mode="after")
    def _no_repeats(self) -> Principal:
        if len(set(self.roles)) != len(self.roles):
            raise ValueError("roles lists a role twice")
        if len(set(self.sharing_groups)) != len(self.sharing_groups):
            raise ValueError("sharing_groups lists a group twice")
        return self


class SharingGroup(Record):
    """A named set of participants; records marked with it are for its members only."""

    id: Identifier
    members: tuple[ParticipantId, ...]
    description: Annotated[str, StringConstraints(max_length=2_000)] = ""

    @model_validator(mode="after")
    def _no_repeats(self) -> SharingGroup:
        if len(set(self.members)) != len(self.members):
            raise ValueError(f"sharing group {self.id!r} lists a member twice")
        return self


@dataclass(frozen=True, eq=False)
class PolicyContext:
    """The participants known to the agreement and its sharing groups.

    A plain frozen dataclass rather than a record: it is consulted on every decision, and its
    lookup tables are built once here instead of being reached through pydantic on each call.

    >>> ctx = PolicyContext(participants=("UKR", "USA"), sharing_groups=(SharingGroup(id="G", members=("USA",)),))
    >>> ctx.acting_groups(Principal(participant="USA", sharing_groups=("G",)))
    frozenset({'G'})
    >>> ctx.acting_groups(Principal(participant="UKR", sharing_groups=("G",)))
    frozenset()
    """

    participants: tuple[str, ...]
    sharing_groups: tuple[SharingGroup, ...] = ()
    _participants: frozenset[str] = field(init=False, repr=False)
    _groups: dict[str, SharingGroup] = field(init=False, repr=False)
    _memberships: dict[str, frozenset[str]] = field(init=False, repr=False)

    def __post_init__(self) -> None:
        participants = _PARTICIPANT_IDS.validate_python(tuple(self.participants))
        if len(set(participants)) != len(participants):
            raise ValueError("participants lists a participant twice")
        groups: dict[str, SharingGroup] = {}
        memberships: dict[str, set[str]] = {}
        for group in self.sharing_groups:
            if not isinstance(group, SharingGroup):
                raise TypeError(f"sharing_groups must hold SharingGroup records, not {type(group).__name__}")
            if group.id in groups:
                raise ValueError(f"sharing group {group.id!r} is defined twice")
            groups[group.id] = group
            # A member the agreement does not know could only be a typo or a departed participant;
            # either way it must not silently gain access if that code is admitted later.
            strangers = sorted(set(group.members) - set(participants))
            if strangers:
                raise ValueError(f"sharing group {group.id!r} names unknown participants {strangers}")
            for member in group.members:
                memberships.setdefault(member, set()).add(group.id)
        object.__setattr__(self, "participants", participants)
        object.__setattr__(self, "sharing_groups", tuple(self.sharing_groups))
        object.__setattr__(self, "_participants", frozenset(participants))
        object.__setattr__(self, "_groups", groups)
        object.__setattr__(self, "_memberships", {p: frozenset(gs) for p, gs in memberships.items()})

    @classmethod
    def of(
        cls, participants: Iterable[Participant | str], sharing_groups: Iterable[SharingGroup] = ()
    ) -> PolicyContext:
        """Build a context from participant records (or their ids) and groups."""
        ids = tuple(p.id if isinstance(p, Participant) else p for p in participants)
        return cls(participants=ids, sharing_groups=tuple(sharing_groups))

    def is_participant(self, participant: str) -> bool:
        """Whether ``participant`` is a current participant of the mechanism."""
        return participant in self._participants

    def group(self, group_id: str) -> SharingGroup | None:
        """The group with this id. Not for answering requesters: see ``Policy.groups_visible_to``."""
        return self._groups.get(group_id)

    def memberships(self, participant: str) -> frozenset[str]:
        """Every group ``participant`` is a member of, as the context records it."""
        return self._memberships.get(participant, frozenset())

    def acting_groups(self, principal: Principal) -> frozenset[str]:
        """The groups the principal claims *and* the context confirms; only these count."""
        confirmed = self._memberships.get(principal.participant)
        if not confirmed:
            return frozenset()
        return confirmed.intersection(principal.sharing_groups)
