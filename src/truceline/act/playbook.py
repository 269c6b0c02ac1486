"""Playbooks: the military-to-military operating document as data (YAML), checked before use.

A playbook has **directives** (what to do: owners, a deadline, an escalation ladder, and
preconditions such as "only after a coordination attempt is logged") and **scenarios** (when to
do it: a condition over warning levels, offensive probabilities, findings, incidents, indicators,
the guarantee's triggers and the hotline log). The format is in ``docs/act.md``; the shipped
default is ``data/default_playbook.yaml``.

Loading refuses, with the file, the field path and its line: an unknown field, a condition that
can never be evaluated (a level above 5, a clause prefix no clause of the agreement has, a trigger
or sector the agreement does not define), a directive that names an unknown owner or is not
defined, and a duplicated key.
"""

from __future__ import annotations

from collections.abc import Sequence
from functools import lru_cache
from pathlib import Path
from typing import Annotated, Any, Literal

import pydantic
import yaml
from pydantic import BaseModel, ConfigDict, Field, StringConstraints, field_validator, model_validator

from truceline.agreement import Agreement
from truceline.model import RecordError

__all__ = [
    "DEFAULT_PLAYBOOK",
    "Condition",
    "Directive",
    "EscalationStep",
    "GuaranteeSettings",
    "Playbook",
    "PlaybookError",
    "Scenario",
    "load_playbook",
    "parse_playbook",
]

DEFAULT_PLAYBOOK = Path(__file__).resolve().parent / "data" / "default_playbook.yaml"

Slug = Annotated[str, StringConstraints(pattern=r"^[A-Za-z0-9][A-Za-z0-9_.:-]{0,99}$")]
Owner = Annotated[str, StringConstraints(pattern=r"^([A-Z][A-Z0-9_-]{1,15}|role:[a-z]+)$")]
Hours = Annotated[float, Field(gt=0.0, le=24.0 * 365)]
LevelValue = Annotated[int, Field(ge=1, le=5)]
Share = Annotated[float, Field(ge=0.0, le=1.0)]
ROLES = ("party", "guarantor", "monitor", "coalition", "observer", "mediator")


class PlaybookError(RecordError):
    """A playbook is invalid: ``record`` is the file (with the line), ``field`` the path, ``reason`` why."""


class Spec(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, strict=False)


# -- conditions ---------------------------------------------------------------------------------
class LevelCondition(Spec):
    """A sector's latest warning level is at least ``at_least``."""

    at_least: LevelValue
    sectors: tuple[Slug, ...] = ()


class OffensiveCondition(Spec):
    """A sector's latest P(offensive within ``horizon_days``) is at least ``at_least``."""

    at_least: Share
    horizon_days: Literal[7, 14] = 7


class FindingsCondition(Spec):
    """At least ``min_count`` findings under clauses starting with ``clause_prefix`` in the window."""

    clause_prefix: Annotated[str, StringConstraints(min_length=1, max_length=100)]
    min_count: Annotated[int, Field(ge=1)] = 1
    window_hours: Hours = 72.0
    status: Literal["any", "provisional", "confirmed"] = "any"
    min_confidence: Share = 0.5
    side: Annotated[str, StringConstraints(pattern=r"^[A-Z][A-Z0-9_-]{1,15}$")] | None = None


class IncidentsCondition(Spec):
    """At least ``min_count`` incidents of ``kind`` (optionally of these weapon classes) in the window."""

    kind: Literal["fire", "incursion", "air", "sea", "staging", "other"] = "fire"
    min_count: Annotated[int, Field(ge=1)]
    window_hours: Hours = 24.0
    weapon_classes: tuple[Slug, ...] = ()


class IndicatorCondition(Spec):
    """A driver of the sector's latest assessment named ``name`` has a value of at least ``at_least``."""

    name: Slug
    at_least: float


class TriggerCondition(Spec):
    """The guarantee trigger ``id`` of the agreement is met (for the sector, or anywhere)."""

    id: Slug


class LoggedCondition(Spec):
    """The hotline log holds an entry of ``kind`` (for the sector) within the last ``within_hours``."""

    kind: Literal["coordination_attempt", "query", "answer", "escalation"]
    within_hours: Hours = 24.0


class Condition(Spec):
    """Exactly one of the fields below; ``all``/``any`` combine conditions."""

    warning_level: LevelCondition | None = None
    p_offensive: OffensiveCondition | None = None
    findings: FindingsCondition | None = None
    incidents: IncidentsCondition | None = None
    indicator: IndicatorCondition | None = None
    trigger: TriggerCondition | None = None
    logged: LoggedCondition | None = None
    all: tuple[Condition, ...] | None = Field(default=None, min_length=1)
    any: tuple[Condition, ...] | None = Field(default=None, min_length=1)

    @model_validator(mode="after")
    def _exactly_one(self) -> Condition:
        given = [name for name in type(self).model_fields if getattr(self, name) is not None]
        if len(given) != 1:
            raise ValueError(
                f"a condition has exactly one of {', '.join(type(self).model_fields)}; "
                + (f"this one has {', '.join(given)}" if given else "this one is empty")
            )
        return self

    def kind(self) -> str:
        return next(name for name in type(self).model_fields if getattr(self, name) is not None)

    def walk(self) -> list[Condition]:
        """This condition and every condition nested in it."""
        out = [self]
        for child in (self.all or ()) + (self.any or ()):
            out += child.walk()
        return out


# -- directives and scenarios ---------------------------------------------------------------------
class EscalationStep(Spec):
    """If the directive is not acknowledged ``after_hours`` after issue, escalate to ``to``."""

    after_hours: Hours
    to: tuple[Owner, ...] = Field(min_length=1)


class Directive(Spec):
    """Something owners must do, by a deadline, with an escalation ladder and preconditions.

    ``action: hotline_query`` also files, when the directive is issued, a query on the hotline to
    each party the evidence points at, with the directive's deadline for the answer.
    """

    title: Annotated[str, StringConstraints(min_length=1, max_length=300)]
    owners: tuple[Owner, ...] = Field(min_length=1)
    deadline_hours: Hours
    escalation: tuple[EscalationStep, ...] = ()
    requires: tuple[Condition, ...] = ()
    action: Literal["none", "hotline_query"] = "none"
    text: Annotated[str, StringConstraints(max_length=5_000)] = ""

    @field_validator("escalation")
    @classmethod
    def _ladder_ascends(cls, steps: tuple[EscalationStep, ...]) -> tuple[EscalationStep, ...]:
        hours = [s.after_hours for s in steps]
        if hours != sorted(hours) or len(set(hours)) != len(hours):
            raise ValueError("escalation steps must come in strictly increasing after_hours")
        return steps


class Scenario(Spec):
    """When ``when`` holds (per sector, or for the whole line), issue ``directives``."""

    id: Slug
    name: Annotated[str, StringConstraints(min_length=1, max_length=300)]
    scope: Literal["sector", "line"] = "sector"
    when: Condition
    directives: tuple[Slug, ...] = Field(min_length=1)
    alert: bool = False


class GuarantorProcedure(Spec):
    """A guarantor's own consultation deadline and the name of its procedure."""

    deadline_hours: Hours
    procedure: Slug | None = None


class GuaranteeSettings(Spec):
    """Deadlines for guarantors' consultations, by the trigger's response, and per guarantor."""

    consultation_hours: Hours = 72.0
    activation_hours: Hours = 24.0
    guarantors: dict[Owner, GuarantorProcedure] = Field(default_factory=dict)


class Playbook(Spec):
    """The whole document (``format_version: 1``)."""

    format_version: Literal[1]
    id: Slug
    title: Annotated[str, StringConstraints(min_length=1, max_length=300)]
    description: Annotated[str, StringConstraints(max_length=20_000)] = ""
    directives: dict[Slug, Directive] = Field(min_length=1)
    scenarios: tuple[Scenario, ...] = Field(min_length=1)
    guarantee: GuaranteeSettings = Field(default_factory=GuaranteeSettings)

    def scenario(self, scenario_id: str) -> Scenario:
        for s in self.scenarios:
            if s.id == scenario_id:
                return s
        raise KeyError(f"no scenario {scenario_id!r} in playbook {self.id}")


# -- loading ------------------------------------------------------------------------------------
PathKey = tuple[str | int, ...]
# libyaml's loader when PyYAML was built with it (10× faster), else the pure-Python one.
_Loader: Any = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


def _format(path: Sequence[str | int]) -> str:
    out = ""
    for part in path:
        out += f"[{part}]" if isinstance(part, int) else ("." if out else "") + str(part)
    return out


ALIAS_BUDGET = 10_000
"""How many nodes YAML aliases may add to a playbook written out in full (see :class:`_Lines`)."""


class _Lines:
    """One walk over the composed playbook: each field's line, duplicate keys, and alias growth.

    PyYAML composes an alias as a second reference to the anchored node, so a few hundred bytes
    can name an exponentially large tree (the "billion laughs"). Each node is walked once and the
    nodes aliases add are counted; a playbook past :data:`ALIAS_BUDGET`, or one that refers to
    itself, is refused before anything expands it. Time and memory stay linear in the file.
    """

    def __init__(self, file: str) -> None:
        self.file = file
        self.lines: dict[PathKey, int] = {}
        self.sizes: dict[int, int] = {}  # id(node) → nodes it stands for, written out in full
        self.open: set[int] = set()
        self.added = 0

    def walk(self, node: yaml.Node, path: PathKey) -> int:
        key = id(node)
        if key in self.open:
            raise _error(self.file, self.lines, path, "a YAML alias refers to a node that contains it")
        size = self.sizes.get(key)
        if size is not None:  # a second reference: an alias
            self.added += size
            if self.added > ALIAS_BUDGET:
                raise _error(
                    self.file,
                    self.lines,
                    path,
                    f"YAML aliases expand the playbook by more than {ALIAS_BUDGET:,} nodes: write the repeated "
                    "parts out, or use fewer aliases",
                )
            return size
        self.open.add(key)
        self.lines.setdefault(path, node.start_mark.line + 1)
        size = 1
        if isinstance(node, yaml.MappingNode):
            seen: set[str] = set()
            for key_node, value_node in node.value:
                name = str(key_node.value)
                if name in seen:
                    raise PlaybookError(
                        f"{self.file}:{key_node.start_mark.line + 1}", _format((*path, name)), "duplicate key"
                    )
                seen.add(name)
                self.lines[(*path, name)] = key_node.start_mark.line + 1
                size += self.walk(key_node, (*path, name)) + self.walk(value_node, (*path, name))
        elif isinstance(node, yaml.SequenceNode):
            for i, item in enumerate(node.value):
                size += self.walk(item, (*path, i))
        self.open.discard(key)
        self.sizes[key] = size
        return size


def _line(lines: dict[PathKey, int], path: Sequence[str | int]) -> int | None:
    for n in range(len(path), -1, -1):
        if tuple(path[:n]) in lines:
            return lines[tuple(path[:n])]
    return None


def _error(file: str, lines: dict[PathKey, int], path: Sequence[str | int], reason: str) -> PlaybookError:
    line = _line(lines, path)
    return PlaybookError(f"{file}:{line}" if line else file, _format(path), reason)


def _check_against(playbook: Playbook, agreement: Agreement, file: str, lines: dict[PathKey, int]) -> None:
    participants = {p.id for p in agreement.participants}
    sectors = {s.id for s in agreement.sectors}
    triggers = {t.id for t in agreement.triggers}
    clauses = tuple(agreement.clauses)

    def owner_ok(owner: str, path: PathKey) -> None:
        if owner.startswith("role:"):
            if owner[5:] not in ROLES:
                raise _error(file, lines, path, f"unknown role {owner[5:]!r}; roles are {', '.join(ROLES)}")
        elif owner not in participants:
            raise _error(file, lines, path, f"{owner!r} is not a participant of agreement {agreement.id}")

    def conditions_ok(condition: Condition, path: PathKey) -> None:
        kind = condition.kind()
        here: PathKey = (*path, kind)
        if condition.warning_level is not None:
            for s in condition.warning_level.sectors:
                if s not in sectors:
                    raise _error(file, lines, (*here, "sectors"), f"sector {s!r} is not in the agreement")
        elif condition.findings is not None:
            prefix = condition.findings.clause_prefix
            if not any(c.startswith(prefix) for c in clauses):
                raise _error(file, lines, (*here, "clause_prefix"),
                             f"no clause of the agreement starts with {prefix!r}: the condition can never hold")
            if condition.findings.side is not None and condition.findings.side not in participants:
                raise _error(file, lines, (*here, "side"), f"{condition.findings.side!r} is not a participant")
        elif condition.trigger is not None and condition.trigger.id not in triggers:
            known = ", ".join(sorted(triggers))
            raise _error(file, lines, (*here, "id"), f"the agreement has no trigger {condition.trigger.id!r} ({known})")
        for i, child in enumerate(condition.all or ()):
            conditions_ok(child, (*here, i))
        for i, child in enumerate(condition.any or ()):
            conditions_ok(child, (*here, i))

    for did, directive in playbook.directives.items():
        for i, owner in enumerate(directive.owners):
            owner_ok(owner, ("directives", did, "owners", i))
        for j, step in enumerate(directive.escalation):
            for i, owner in enumerate(step.to):
                owner_ok(owner, ("directives", did, "escalation", j, "to", i))
        for i, req in enumerate(directive.requires):
            conditions_ok(req, ("directives", did, "requires", i))
    seen: set[str] = set()
    for k, scenario in enumerate(playbook.scenarios):
        if scenario.id in seen:
            raise _error(file, lines, ("scenarios", k, "id"), f"scenario {scenario.id!r} is defined twice")
        seen.add(scenario.id)
        conditions_ok(scenario.when, ("scenarios", k, "when"))
        for i, did in enumerate(scenario.directives):
            if did not in playbook.directives:
                raise _error(file, lines, ("scenarios", k, "directives", i), f"directive {did!r} is not defined")
    for g in playbook.guarantee.guarantors:
        owner_ok(g, ("guarantee", "guarantors", g))


def parse_playbook(text: str, agreement: Agreement, *, file: str = "<playbook>") -> Playbook:
    """Parse and check a playbook against ``agreement``; raise :class:`PlaybookError` with the line."""
    lines: dict[PathKey, int] = {}
    try:
        # One parse: the node tree gives the lines (walked before anything expands an alias), and
        # the same tree is constructed into data.
        loader = _Loader(text)
        try:
            node = loader.get_single_node()
            data: Any = None
            if node is not None:
                walk = _Lines(file)
                lines = walk.lines
                walk.walk(node, ())
                data = loader.construct_document(node)
        finally:
            loader.dispose()
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f"{file}:{mark.line + 1}" if mark is not None else file
        problem = getattr(exc, "problem", None) or " ".join(str(exc).split())
        raise PlaybookError(where, "", f"not valid YAML: {problem}") from None
    except ValueError as exc:  # PyYAML's scanner on an escape beyond U+10FFFF ("\U100BFCB2")
        raise PlaybookError(file, "", f"not valid YAML: a value YAML cannot represent ({exc})") from None
    except RecursionError:
        raise PlaybookError(file, "", "not valid YAML: nested too deeply") from None
    if not isinstance(data, dict):
        raise PlaybookError(file, "", "a playbook is a YAML mapping with format_version, id, directives, scenarios")
    try:
        playbook = Playbook.model_validate(data)
    except pydantic.ValidationError as exc:
        err = exc.errors()[0]
        loc = tuple(err["loc"])
        reason = "unknown field (not part of the playbook format)" if err["type"] == "extra_forbidden" else err["msg"]
        # pydantic names union members and wrapper steps in loc; keep the document's own keys.
        path = tuple(p for p in loc if not (isinstance(p, str) and p.startswith(("function-", "tagged-"))))
        raise _error(file, lines, path, reason) from None
    _check_against(playbook, agreement, file, lines)
    return playbook


def load_playbook(path: str | Path | None, agreement: Agreement) -> Playbook:
    """Load the playbook at ``path`` (default: the shipped one) and check it against ``agreement``.

    The result is cached per file version and agreement: the stage runs after every batch, and a
    playbook is immutable once loaded.
    """
    path = Path(path) if path is not None else DEFAULT_PLAYBOOK
    try:
        stamp = path.stat().st_mtime_ns
    except OSError as exc:
        raise PlaybookError(str(path), "", f"cannot read the playbook: {exc.strerror or exc}") from None
    return _load_cached(str(path.resolve()), stamp, agreement)


@lru_cache(maxsize=16)
def _load_cached(path: str, stamp: int, agreement: Agreement) -> Playbook:
    del stamp  # part of the cache key only: an edited file is read again
    try:
        text = Path(path).read_text(encoding="utf-8")
    except OSError as exc:
        raise PlaybookError(path, "", f"cannot read the playbook: {exc.strerror or exc}") from None
    except UnicodeDecodeError as exc:
        bad = exc.object[exc.start : exc.start + 1]
        raise PlaybookError(path, "", f"not UTF-8 text: byte {exc.start} is {bad!r}") from None
    return parse_playbook(text, agreement, file=path)
