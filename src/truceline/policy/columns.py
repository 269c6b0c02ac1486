"""Markings as columns, and the read rules over a million records at once.

A :class:`MarkingsTable` holds the markings of many records as numpy arrays (dictionary-encoded
participants and groups, ``releasable_to`` in compressed-row form), the shape a store can fill
straight from its columns. :func:`visible_mask` and :func:`export_mask` are the vectorised twins
of :func:`~truceline.policy.rules.visible` and :func:`~truceline.policy.rules.may_export`; a
property test holds each equal to the scalar rule and to the reference policy.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence, Set
from dataclasses import dataclass, field
from typing import Any, get_args

import numpy as np
from numpy.typing import NDArray

from truceline.model import TLP, Markings
from truceline.policy.principals import PolicyContext, Principal
from truceline.policy.rules import NOT_ONWARD

TLP_LEVELS: tuple[str, ...] = get_args(TLP)
"""TLP levels in increasing strictness; ``MarkingsTable.tlp`` holds positions in this tuple."""
_CODE = {level: np.uint8(i) for i, level in enumerate(TLP_LEVELS)}
_NAMED_LEVELS = np.array([_CODE["amber"], _CODE["amber+strict"], _CODE["red"]], dtype=np.uint8)
_NOT_ONWARD_LEVELS = np.array(sorted(_CODE[level] for level in NOT_ONWARD), dtype=np.uint8)

BoolArray = NDArray[np.bool_]


@dataclass(frozen=True, eq=False)
class MarkingsTable:
    """The markings of ``n`` records as columns.

    ``tlp[i]`` indexes :data:`TLP_LEVELS`; ``originator[i]`` indexes ``participants``;
    ``sharing_group[i]`` indexes ``groups`` or is -1 for none; record ``i``'s ``releasable_to`` is
    ``releasable[releasable_offsets[i]:releasable_offsets[i + 1]]`` (indexes into ``participants``).

    >>> t = MarkingsTable.from_markings([Markings(tlp="green", originator="USA"),
    ...                                  Markings(tlp="red", originator="USA", releasable_to=("UKR",))])
    >>> len(t), t.participants, t.releasable.tolist()
    (2, ('USA', 'UKR'), [1])
    """

    tlp: NDArray[np.uint8]
    originator: NDArray[np.int32]
    releasable_offsets: NDArray[np.int64]
    releasable: NDArray[np.int32]
    sharing_group: NDArray[np.int32]
    participants: tuple[str, ...]
    groups: tuple[str, ...] = ()
    _participant_code: dict[str, int] = field(init=False, repr=False)
    _group_code: dict[str, int] = field(init=False, repr=False)

    def __post_init__(self) -> None:
        n = self.tlp.shape[0]
        _expect(self.tlp, np.uint8, n, "tlp")
        _expect(self.originator, np.int32, n, "originator")
        _expect(self.sharing_group, np.int32, n, "sharing_group")
        _expect(self.releasable_offsets, np.int64, n + 1, "releasable_offsets")
        _expect(self.releasable, np.int32, self.releasable.shape[0], "releasable")
        offsets = self.releasable_offsets
        if offsets[0] != 0 or offsets[-1] != self.releasable.shape[0] or np.any(np.diff(offsets) < 0):
            raise ValueError("releasable_offsets must rise from 0 to len(releasable)")
        # Out-of-range codes would silently match the wrong participant or group: refuse them.
        if n and int(self.tlp.max()) >= len(TLP_LEVELS):
            raise ValueError("tlp holds a code that is no TLP level")
        for name, codes, size, low in (
            ("originator", self.originator, len(self.participants), 0),
            ("releasable", self.releasable, len(self.participants), 0),
            ("sharing_group", self.sharing_group, len(self.groups), -1),
        ):
            if codes.size and (int(codes.min()) < low or int(codes.max()) >= size):
                raise ValueError(f"{name} holds a code outside its vocabulary")
        if len(set(self.participants)) != len(self.participants) or len(set(self.groups)) != len(self.groups):
            raise ValueError("a vocabulary lists a name twice")
        object.__setattr__(self, "_participant_code", {p: i for i, p in enumerate(self.participants)})
        object.__setattr__(self, "_group_code", {g: i for i, g in enumerate(self.groups)})

    def __len__(self) -> int:
        return int(self.tlp.shape[0])

    @classmethod
    def from_markings(cls, markings: Iterable[Markings]) -> MarkingsTable:
        """Encode markings objects (a Python loop: stores should build the columns directly)."""
        participants: dict[str, int] = {}
        groups: dict[str, int] = {}
        tlp: list[int] = []
        originator: list[int] = []
        group: list[int] = []
        offsets: list[int] = [0]
        releasable: list[int] = []
        for m in markings:
            tlp.append(int(_CODE[m.tlp]))
            originator.append(participants.setdefault(m.originator, len(participants)))
            group.append(-1 if m.sharing_group is None else groups.setdefault(m.sharing_group, len(groups)))
            releasable.extend(participants.setdefault(p, len(participants)) for p in m.releasable_to)
            offsets.append(len(releasable))
        return cls(
            tlp=np.array(tlp, dtype=np.uint8),
            originator=np.array(originator, dtype=np.int32),
            releasable_offsets=np.array(offsets, dtype=np.int64),
            releasable=np.array(releasable, dtype=np.int32),
            sharing_group=np.array(group, dtype=np.int32),
            participants=tuple(participants),
            groups=tuple(groups),
        )

    def take(self, rows: Sequence[int] | NDArray[np.integer[Any]]) -> MarkingsTable:
        """The table of the given rows, in that order (vocabularies kept)."""
        index = np.asarray(rows, dtype=np.int64)
        starts, ends = self.releasable_offsets[index], self.releasable_offsets[index + 1]
        lengths = ends - starts
        offsets = np.zeros(index.shape[0] + 1, dtype=np.int64)
        np.cumsum(lengths, out=offsets[1:])
        # Position of each kept entry in the old ``releasable``: its row's start plus its rank.
        within = np.arange(int(offsets[-1]), dtype=np.int64) - np.repeat(offsets[:-1], lengths)
        return MarkingsTable(
            tlp=self.tlp[index],
            originator=self.originator[index],
            releasable_offsets=offsets,
            releasable=self.releasable[np.repeat(starts, lengths) + within],
            sharing_group=self.sharing_group[index],
            participants=self.participants,
            groups=self.groups,
        )

    def participant_code(self, participant: str) -> int:
        """The code of ``participant`` in this table, or -1 when no record names it."""
        return self._participant_code.get(participant, -1)

    def group_codes(self, groups: Set[str]) -> NDArray[np.int32]:
        """The codes of those of ``groups`` that this table mentions."""
        return np.array(sorted(self._group_code[g] for g in groups if g in self._group_code), dtype=np.int32)


def _expect(array: NDArray[Any], dtype: type[np.generic], length: int, name: str) -> None:
    if array.dtype != dtype or array.ndim != 1 or array.shape[0] != length:
        raise ValueError(f"{name} must be a 1-d {np.dtype(dtype).name} array of length {length}")


def participant_mask(context: PolicyContext, participant: str, groups: Set[str], table: MarkingsTable) -> BoolArray:
    """:func:`~truceline.policy.rules.participant_sees` for every row of ``table``."""
    in_group = table.sharing_group < 0
    codes = table.group_codes(groups)
    if codes.size:
        in_group |= np.isin(table.sharing_group, codes)
    seen = table.tlp == _CODE["clear"]
    if context.is_participant(participant):
        seen |= table.tlp == _CODE["green"]
        code = table.participant_code(participant)
        if code >= 0:
            named = table.originator == code
            entries = np.flatnonzero(table.releasable == code)
            if entries.size:
                named[np.searchsorted(table.releasable_offsets, entries, side="right") - 1] = True
            seen |= named & np.isin(table.tlp, _NAMED_LEVELS)
    result: BoolArray = seen & in_group
    return result


def visible_mask(context: PolicyContext, principal: Principal, table: MarkingsTable) -> BoolArray:
    """Which rows of ``table`` ``principal`` may read."""
    return participant_mask(context, principal.participant, context.acting_groups(principal), table)


def export_mask(context: PolicyContext, principal: Principal, table: MarkingsTable, destination: str) -> BoolArray:
    """Which rows of ``table`` ``principal`` may send to ``destination``'s server."""
    mask = visible_mask(context, principal, table)
    mask &= participant_mask(context, destination, context.memberships(destination), table)
    if destination != principal.participant:
        mask &= ~np.isin(table.tlp, _NOT_ONWARD_LEVELS)
    return mask
