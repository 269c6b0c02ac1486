"""`Policy`: the one object every read path of the API, TAXII and exports goes through.

It binds the rules to a :class:`PolicyContext`, an :class:`AuditLog` and a clock. Its methods come
in two kinds:

- *predicates* (``visible``, ``visible_mask``, ``may_export``, ``export_mask``, ``redact``,
  ``count_visible``, ``groups_visible_to``, ``may``) decide without side effects;
- *gates* (``read``, ``read_many``, ``count``, ``export``, ``export_many``, ``check_create``,
  ``check_action``, ``check_administer``) decide, leave an audit event, and either return what the
  requester may have or raise. Request handlers should call gates; predicates are for building them.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from truceline.model import Clock, Markings, SystemClock
from truceline.policy.audit import AuditEvent, AuditLog, InMemoryAuditLog
from truceline.policy.columns import BoolArray, MarkingsTable, export_mask, visible_mask
from truceline.policy.errors import AccessDenied, ExportRefused, not_found_or_hidden
from truceline.policy.fields import withhold
from truceline.policy.principals import ROLE_ACTIONS, Action, PolicyContext, Principal, SharingGroup
from truceline.policy.rules import NOT_ONWARD, may_export, visible

_PENDING: ContextVar[tuple[object, list[AuditEvent]] | None] = ContextVar("truceline_audit_batch", default=None)
"""The policy whose events are being kept by :meth:`Policy.audit_batch`, and the events."""


@dataclass(frozen=True, slots=True)
class MarkedDocument:
    """A record as a JSON-shaped ``body`` with its markings and any stricter field markings."""

    markings: Markings
    body: Mapping[str, Any]
    field_markings: Mapping[str, Markings] = field(default_factory=dict)


class Policy:
    """Who may see what, bound to the agreement's participants and groups.

    >>> ctx = PolicyContext(participants=("UKR", "USA", "GBR"))
    >>> policy = Policy(ctx)
    >>> doc = MarkedDocument(Markings(tlp="amber", originator="USA"), {"id": "r1"})
    >>> policy.read(Principal(participant="USA"), "incident/r1", doc)
    {'id': 'r1'}
    >>> policy.read(Principal(participant="GBR"), "incident/r1", doc)
    Traceback (most recent call last):
    ...
    truceline.policy.errors.NotFoundOrHidden: 'incident/r1' was not found or is not visible to you
    """

    def __init__(self, context: PolicyContext, *, audit: AuditLog | None = None, clock: Clock | None = None) -> None:
        self.context = context
        self.audit: AuditLog = audit if audit is not None else InMemoryAuditLog()
        self._clock: Clock = clock if clock is not None else SystemClock()

    # --- predicates -------------------------------------------------------------------------
    def visible(self, principal: Principal, markings: Markings) -> bool:
        """Whether ``principal`` may read a record with ``markings``."""
        return visible(self.context, principal, markings)

    def visible_mask(self, principal: Principal, table: MarkingsTable) -> BoolArray:
        """Which rows of ``table`` ``principal`` may read (one numpy pass, no Python loop)."""
        return visible_mask(self.context, principal, table)

    def count_visible(self, principal: Principal, table: MarkingsTable, where: BoolArray | None = None) -> int:
        """How many rows (of those selected by ``where``) ``principal`` may read."""
        mask = self.visible_mask(principal, table)
        if where is not None:
            mask &= where
        return int(np.count_nonzero(mask))

    def redact(
        self, document: Mapping[str, Any], field_markings: Mapping[str, Markings], principal: Principal
    ) -> dict[str, Any]:
        """A copy of ``document`` without the fields ``principal`` may not see (removed, not masked)."""
        return withhold(document, field_markings, lambda m: self.visible(principal, m))

    def may_export(self, principal: Principal, markings: Markings, destination: str) -> bool:
        """Whether ``principal`` may send a record with ``markings`` to ``destination``'s server."""
        return may_export(self.context, principal, markings, destination)

    def export_mask(self, principal: Principal, table: MarkingsTable, destination: str) -> BoolArray:
        """Which rows of ``table`` ``principal`` may send to ``destination``'s server."""
        return export_mask(self.context, principal, table, destination)

    def groups_visible_to(self, principal: Principal) -> tuple[SharingGroup, ...]:
        """The sharing groups ``principal`` acts in, with their members; nothing of any other group."""
        acting = self.context.acting_groups(principal)
        return tuple(g for g in self.context.sharing_groups if g.id in acting)

    def may(self, principal: Principal, action: Action) -> bool:
        """Whether ``principal``'s roles allow ``action``; reading and exporting need no role."""
        if action in ("read", "export"):
            return True
        return any(action in ROLE_ACTIONS[role] for role in principal.roles)

    # --- gates: reads -----------------------------------------------------------------------
    def read(self, principal: Principal, ref: str, document: MarkedDocument | None) -> dict[str, Any]:
        """The document as ``principal`` may see it, or :class:`NotFoundOrHidden`.

        ``document`` is what the store returned for ``ref`` (``None`` when nothing): a missing and
        a hidden record raise the same error and leave the same audit event.
        """
        allowed = document is not None and self.visible(principal, document.markings)
        self._audit(principal, "read", ref, allowed)
        if document is None or not allowed:
            raise not_found_or_hidden(ref)
        return self.redact(document.body, document.field_markings, principal)

    def read_many(
        self, principal: Principal, collection: str, documents: Iterable[MarkedDocument]
    ) -> list[dict[str, Any]]:
        """The documents ``principal`` may see, each redacted; the others are simply absent."""
        shown = [
            self.redact(d.body, d.field_markings, principal) for d in documents if self.visible(principal, d.markings)
        ]
        self._audit(principal, "read", collection, True, len(shown))
        return shown

    def count(self, principal: Principal, collection: str, table: MarkingsTable, where: BoolArray | None = None) -> int:
        """An aggregate count that counts only the rows ``principal`` may read."""
        n = self.count_visible(principal, table, where)
        self._audit(principal, "count", collection, True, n)
        return n

    # --- gates: exports ---------------------------------------------------------------------
    def export(
        self, principal: Principal, ref: str, document: MarkedDocument | None, destination: str
    ) -> dict[str, Any]:
        """The document as it may leave for ``destination``'s server.

        Raises :class:`NotFoundOrHidden` when the requester may not see it and
        :class:`ExportRefused` when it may, but the destination may not receive it. Fields go
        only where their own markings allow the same export.
        """
        if document is None or not self.visible(principal, document.markings):
            self._audit(principal, "export", ref, False)
            raise not_found_or_hidden(ref)
        allowed = self.may_export(principal, document.markings, destination)
        self._audit(principal, "export", ref, allowed)
        if not allowed:
            if document.markings.tlp in NOT_ONWARD and destination != principal.participant:
                reason = f"TLP:{document.markings.tlp.upper()} goes to no server but the requester's own"
            else:
                reason = "the destination may not read it"
            raise ExportRefused(ref, destination, reason)
        return self._export_view(principal, document, destination)

    def export_many(
        self, principal: Principal, collection: str, documents: Iterable[MarkedDocument], destination: str
    ) -> list[dict[str, Any]]:
        """The documents that may go to ``destination``, each with only its exportable fields."""
        sent = [
            self._export_view(principal, d, destination)
            for d in documents
            if self.may_export(principal, d.markings, destination)
        ]
        self._audit(principal, "export", collection, True, len(sent))
        return sent

    def _export_view(self, principal: Principal, document: MarkedDocument, destination: str) -> dict[str, Any]:
        return withhold(document.body, document.field_markings, lambda m: self.may_export(principal, m, destination))

    # --- gates: actions ---------------------------------------------------------------------
    def check_create(self, principal: Principal, ref: str, markings: Markings) -> None:
        """Refuse (:class:`AccessDenied`) a new record this principal may not create with these markings.

        Markings are fixed at creation, so this is where a record's audience is decided: the
        creator must hold the ``write`` role, be a current participant, be the originator, act in
        the record's sharing group and release it only to current participants.
        """
        reason = self._create_refusal(principal, markings)
        self._audit(principal, "write", ref, reason is None)
        if reason is not None:
            raise AccessDenied(principal.participant, "write", ref, reason)

    def _create_refusal(self, principal: Principal, markings: Markings) -> str | None:
        if not self.may(principal, "write"):
            return "writing needs the analyst role"
        if not self.context.is_participant(principal.participant):
            return "only current participants may write"
        if markings.originator != principal.participant:
            return f"the originator must be the writer ({principal.participant}), not {markings.originator}"
        group = markings.sharing_group
        if group is not None and group not in self.context.acting_groups(principal):
            # Same words whether or not the group exists: non-members learn nothing about it.
            return f"you do not act in sharing group {group!r}"
        strangers = [p for p in markings.releasable_to if not self.context.is_participant(p)]
        if strangers:
            return f"releasable_to names non-participants {strangers}"
        return None

    def check_action(self, principal: Principal, action: Action, ref: str, markings: Markings | None) -> None:
        """Refuse ``action`` (review, write a new version) on an existing record.

        Visibility is decided first, so a record the principal may not see raises
        :class:`NotFoundOrHidden` whatever its roles; only then does a missing role raise
        :class:`AccessDenied`.
        """
        if markings is None or not self.visible(principal, markings):
            self._audit(principal, action, ref, False)
            raise not_found_or_hidden(ref)
        allowed = self.may(principal, action)
        self._audit(principal, action, ref, allowed)
        if not allowed:
            raise AccessDenied(principal.participant, action, ref, f"no role of {list(principal.roles)} grants it")

    def check_administer(self, principal: Principal, ref: str) -> None:
        """Refuse administration (participants, tokens, groups) to principals without the role."""
        allowed = self.may(principal, "administer")
        self._audit(principal, "administer", ref, allowed)
        if not allowed:
            raise AccessDenied(principal.participant, "administer", ref, "administering needs the administrator role")

    def _audit(self, principal: Principal, action: str, ref: str, allowed: bool, returned: int | None = None) -> None:
        event = AuditEvent(self._clock.now(), principal.participant, principal.subject, action, ref, allowed, returned)
        pending = _PENDING.get()
        if pending is not None and pending[0] is self:
            pending[1].append(event)
        else:
            self.audit.record(event)

    @contextmanager
    def audit_batch(self) -> Iterator[None]:
        """Inside the block, this policy's audit events are kept and written in one go when it ends.

        For a request that passes many records through a gate (an ingest of hundreds of reports):
        one transaction of events instead of one a report. The events are written when the block
        ends, whether it ends normally or by an error, so that the caller answers only after they
        are recorded. Applies to the current thread or task.
        """
        events: list[AuditEvent] = []
        token = _PENDING.set((self, events))
        try:
            yield
        finally:
            _PENDING.reset(token)
            self.audit.record_many(events)
