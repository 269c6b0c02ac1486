"""Reports posted to the API: validated exactly as ``truceline ingest`` validates a file, then all
stored or none.

A request is one batch. Every report is checked — its schema (the NDJSON reader's own parser),
its context (known participants, the clock), that it is sent by its own participant, and that the
policy lets the sender create a record with its markings. If any report fails, the request is
refused with every problem listed and nothing is stored, so a client fixes the batch and sends it
again; re-sending is always safe, because the store's permanent key turns a repeat into a no-op.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass, field

from truceline.ingest import ContextChecks, Parsed, Rejected, find_duplicate_key
from truceline.ingest.readers import parse_ndjson_line
from truceline.model import ObservationBase, RecordError, observation_adapter
from truceline.policy import AccessDenied, Policy, Principal
from truceline.store import Store
from truceline.store.rows import BODY, KEY, PARTICIPANT, SOURCE, Row, observation_row

NDJSON_TYPES = frozenset({"application/x-ndjson", "application/ndjson", "application/jsonl", "application/json-lines"})
JSON_TYPES = frozenset({"application/json"})
MAX_ERRORS_SHOWN = 100
REQUEST = "request"


class IngestRefused(Exception):
    """The batch was refused as a whole; ``errors`` lists every problem found (up to a limit)."""

    def __init__(self, message: str, errors: Sequence[RecordError] = ()) -> None:
        super().__init__(message)
        self.message = message
        self.errors = tuple(errors)


@dataclass
class IngestOutcome:
    received: int = 0
    stored: int = 0
    duplicates: int = 0
    conflicts: list[RecordError] = field(default_factory=list)


def split_body(body: bytes, media_type: str) -> list[tuple[int, bytes]]:
    """The reports of a request body as ``(position, bytes)``; positions count from 1.

    NDJSON gives one report per line. JSON gives one object, or an array of them; each element
    of an array is stored as its compact re-encoding (the ledger commits to those bytes).
    """
    if media_type in NDJSON_TYPES:
        return [(i, line) for i, line in enumerate(body.split(b"\n"), start=1) if line.strip()]
    if media_type not in JSON_TYPES:
        raise ValueError(media_type)
    text = body.strip()
    if text.startswith(b"{"):
        return [(1, text)]
    if not text.startswith(b"["):
        raise IngestRefused("a JSON body must be one report object or an array of them")
    try:
        duplicate = find_duplicate_key(text)
        items = json.loads(text)
    except (ValueError, RecursionError):
        raise IngestRefused("malformed JSON: the body is not a JSON array of report objects") from None
    if duplicate is not None:
        raise IngestRefused(f"duplicate key {duplicate!r} in a JSON object; send each field once")
    if not isinstance(items, list):
        raise IngestRefused("a JSON body must be one report object or an array of them")
    return [
        (i, json.dumps(item, separators=(",", ":"), ensure_ascii=False).encode("utf-8"))
        for i, item in enumerate(items, start=1)
    ]


def validate_reports(
    parts: Sequence[tuple[int, bytes]], checks: ContextChecks, policy: Policy, principal: Principal
) -> list[tuple[int, Row]]:
    """The rows to store with their positions, or :class:`IngestRefused` listing every problem."""
    with policy.audit_batch():  # one audit transaction for the request, written before it is answered
        return _validate(parts, checks, policy, principal)


def _validate(
    parts: Sequence[tuple[int, bytes]], checks: ContextChecks, policy: Policy, principal: Principal
) -> list[tuple[int, Row]]:
    errors: list[RecordError] = []
    rows: list[tuple[int, Row]] = []
    for position, raw in parts:
        item = parse_ndjson_line(REQUEST, position, raw)
        if item is None:
            continue
        if isinstance(item, Rejected):
            errors.extend(item.errors)
            continue
        problem = _problem(item, checks, policy, principal)
        if problem is not None:
            errors.append(problem)
            continue
        rows.append((position, observation_row(item.observation, item.body)))
    if errors:
        raise IngestRefused(f"{len(errors)} problem(s) found; nothing was stored", errors[:MAX_ERRORS_SHOWN])
    if not rows:
        raise IngestRefused("the request holds no report")
    return rows


def _problem(item: Parsed, checks: ContextChecks, policy: Policy, principal: Principal) -> RecordError | None:
    obs = item.observation
    problem = checks.check(item.record, obs)
    if problem is not None:
        return problem
    if obs.participant != principal.participant:
        return RecordError(item.record, "participant", f"you may send only {principal.participant}'s own reports")
    ref = f"observation/{obs.participant}/{obs.source}/{obs.key}"
    try:
        policy.check_create(principal, ref, obs.markings)
    except AccessDenied as exc:
        return RecordError(item.record, "markings", exc.reason)
    return None


def store_reports(store: Store, rows: Sequence[tuple[int, Row]]) -> IngestOutcome:
    """Refuse a batch that reuses a stored key for another report; otherwise store it durably.

    The check before writing keeps "nothing stored on rejection"; the store's own conflict check
    inside its transaction still decides if two requests race for one key.
    """
    errors: list[RecordError] = []
    seen: dict[tuple[str, str, str], bytes] = {}
    # One read for the whole request: a round trip per report was the API's bottleneck on PostgreSQL.
    already = store.get_observations([(row[PARTICIPANT], row[SOURCE], row[KEY]) for _, row in rows])
    for position, row in rows:
        k = (row[PARTICIPANT], row[SOURCE], row[KEY])
        first = seen.setdefault(k, row[BODY])
        stored = already.get(k)
        if first is row[BODY] and stored is None:
            continue  # a new key, once in the batch: nothing to compare (the usual case; no re-parse)
        report: ObservationBase = observation_adapter.validate_json(row[BODY])
        earlier = report if first is row[BODY] else observation_adapter.validate_json(first)
        if earlier != report or (stored is not None and stored.observation != report):
            errors.append(
                RecordError(f"{REQUEST}:{position}", "key", "this key was already used for a different report")
            )
    if errors:
        raise IngestRefused(f"{len(errors)} problem(s) found; nothing was stored", errors[:MAX_ERRORS_SHOWN])
    result = store.add_rows([row for _, row in rows])
    outcome = IngestOutcome(received=len(rows), stored=result.inserted, duplicates=result.duplicates)
    for conflict in result.conflicts:
        position = rows[conflict.index][0]
        outcome.conflicts.append(RecordError(f"{REQUEST}:{position}", "key", conflict.reason))
    return outcome
