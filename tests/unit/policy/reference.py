"""The reference policy: the rules as a plain table, interpreted as literally as possible.

Written apart from ``truceline.policy`` and sharing no code with it (it imports nothing of
Truceline): the property test holds the implementation to this file. It works on plain values —
participant codes, sets of group ids, markings as a dict — and favours obviousness over speed.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

# --- the table ---------------------------------------------------------------------------------
# One row per TLP 2.0 level. "reader": who may read a record. "onward": where a reader may send it.
RULES: dict[str, dict[str, str]] = {
    "clear": {"reader": "anyone signed in", "onward": "anyone who may read it"},
    "green": {"reader": "any participant", "onward": "anyone who may read it"},
    "amber": {"reader": "originator or listed participant", "onward": "anyone who may read it"},
    "amber+strict": {"reader": "originator or listed participant", "onward": "own server only"},
    "red": {"reader": "originator or listed participant", "onward": "own server only"},
}
# On top of the row, at every level: a record with a sharing group is read only by a participant
# the group lists AND who claims the group in its credentials.
SHARING_GROUP_RULE = "listed member who claims the group"
# What each role lets a principal do beyond reading. Roles never change what is visible.
ROLE_GRANTS: dict[str, set[str]] = {
    "analyst": {"write"},
    "reviewer": {"review"},
    "administrator": {"administer"},
    "observer": set(),
}
# What every refused or missing read says, whatever the reason.
NOT_FOUND_TEMPLATE = "'{ref}' was not found or is not visible to you"


@dataclass(frozen=True)
class World:
    """The agreement: its participants and, per sharing group, the listed members."""

    participants: frozenset[str]
    groups: dict[str, frozenset[str]]


@dataclass(frozen=True)
class Asker:
    """Who asks: a participant code, its roles and the groups its credentials claim."""

    participant: str
    roles: frozenset[str]
    claimed_groups: frozenset[str]


def _reader_allowed(world: World, who: str, claims: frozenset[str], marking: dict[str, Any]) -> bool:
    group = marking["sharing_group"]
    if group is not None:
        listed = who in world.groups.get(group, frozenset())
        if not (listed and group in claims):
            return False
    reader = RULES[marking["tlp"]]["reader"]
    if reader == "anyone signed in":
        return True
    if reader == "any participant":
        return who in world.participants
    if reader == "originator or listed participant":
        named = who == marking["originator"] or who in marking["releasable_to"]
        return who in world.participants and named
    raise AssertionError(f"no rule for reader {reader!r}")


def may_read(world: World, asker: Asker, marking: dict[str, Any]) -> bool:
    return _reader_allowed(world, asker.participant, asker.claimed_groups, marking)


def may_send(world: World, asker: Asker, marking: dict[str, Any], destination: str) -> bool:
    if not may_read(world, asker, marking):
        return False
    onward = RULES[marking["tlp"]]["onward"]
    if onward == "own server only" and destination != asker.participant:
        return False
    # The destination server reads as its participant, with every group the agreement lists it in.
    destination_claims = frozenset(g for g, members in world.groups.items() if destination in members)
    return _reader_allowed(world, destination, destination_claims, marking)


def may_create(world: World, asker: Asker, marking: dict[str, Any]) -> bool:
    if "write" not in set().union(*(ROLE_GRANTS[r] for r in asker.roles)):
        return False
    if asker.participant not in world.participants or marking["originator"] != asker.participant:
        return False
    group = marking["sharing_group"]
    if group is not None and not (asker.participant in world.groups.get(group, ()) and group in asker.claimed_groups):
        return False
    return all(p in world.participants for p in marking["releasable_to"])


def groups_seen(world: World, asker: Asker) -> list[str]:
    """Ids of the groups whose existence and membership the asker may learn, in sorted order."""
    return sorted(
        g for g, members in world.groups.items() if asker.participant in members and g in asker.claimed_groups
    )


def not_found_message(ref: str) -> str:
    return NOT_FOUND_TEMPLATE.format(ref=ref)


def kept_document(document: dict[str, Any], refused_paths: set[tuple[str, ...]]) -> dict[str, Any]:
    """Rebuild ``document`` from the keys whose path (list positions skipped) no refused path covers."""

    def rebuild(node: Any, path: tuple[str, ...]) -> Any:
        if isinstance(node, list):
            return [rebuild(item, path) for item in node]
        if isinstance(node, dict):
            kept = {}
            for key, value in node.items():
                here = (*path, key)
                if here not in refused_paths:
                    kept[key] = rebuild(value, here)
            return kept
        return node

    result: dict[str, Any] = rebuild(document, ())
    return result
