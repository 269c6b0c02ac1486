"""Checks every persistent store shares: the ledger state a write extends, and what an audit adds.

A store keeps, beside the logged bytes, columns it queries, tree-head rows and a frontier. None
of them is covered by the Merkle tree itself, so:

* before a write extends a log, :func:`ledger_state` checks that the stored frontier holds exactly
  the log's records and rebuilds the root of the latest signed tree head: a store never signs a
  head over a frontier changed behind its back;
* ``verify_ledger`` checks that a record's type, id and version agree with its stored bytes and
  its place in the log (:func:`record_mismatch`), that each tree-head row holds the head it is
  filed under (:func:`head_rows`) and that the stored frontier is the one the records rebuild
  (:func:`frontier_mismatch`). Receipt and creation times are checked by the ledger's audit
  against the signed time of each batch's head.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from typing import Any

from pydantic import ValidationError

from truceline.ledger import AuditReport, Frontier, LedgerKey, SignedTreeHead, should_persist, verify_tree_head
from truceline.model import LedgerError, StoreCorrupt
from truceline.store._common import record_id, seq_of
from truceline.store._ledgerlog import LedgerLog
from truceline.store._records import is_record_type, parse_record


def parse_frontier(value: str) -> Frontier:
    """A stored frontier (``{"size": n, "hashes": [hex, …]}``); ValueError when it is not one."""
    try:
        state = json.loads(value)
        return Frontier.from_state(int(state["size"]), [bytes.fromhex(h) for h in state["hashes"]])
    except KeyError as exc:
        raise ValueError(f"missing field {exc}") from None
    except TypeError as exc:
        raise ValueError(str(exc)) from None


def frontier_value(frontier: Frontier) -> str:
    size, hashes = frontier.to_state()
    return json.dumps({"size": size, "hashes": [h.hex() for h in hashes]})


def read_frontier(where: str, log: str, value: str | None) -> Frontier:
    """The frontier stored for ``log`` (none yet: empty); :class:`StoreCorrupt` when unreadable."""
    if value is None:
        return Frontier()
    try:
        return parse_frontier(value)
    except ValueError as exc:
        raise StoreCorrupt(
            f"{where}: ledger frontier of the {log} log (meta frontier:{log}): unreadable ({exc}); "
            "the database was altered or damaged outside Truceline"
        ) from None


def ledger_state(
    where: str, log: str, size: int, frontier: Frontier, head_row: tuple[Any, str] | None, key: LedgerKey
) -> LedgerLog:
    """Inside a write transaction: the log to extend, once its stored state is checked.

    ``size`` is how many records the log's table holds, ``head_row`` the (tree_size column, body)
    of its latest signed tree head. Anything that does not fit raises :class:`StoreCorrupt` and the
    store writes nothing until ``truceline ledger verify`` has been run and the cause found.
    """
    problem = None
    if frontier.size != size:
        problem = f"the stored frontier covers {frontier.size:,} records but the log holds {size:,}"
    elif head_row is None:
        if size:
            problem = f"no signed tree head covers the log's {size:,} records"
    else:
        column, body = head_row
        try:
            head = SignedTreeHead.from_json(body)
        except ValueError as exc:
            problem = f"the latest signed tree head is unreadable ({exc})"
        else:
            if head.tree_size != column or head.tree_size != size:
                problem = (
                    f"the latest signed tree head is of size {head.tree_size:,} (filed as {column!r}) "
                    f"but the log holds {size:,} records"
                )
            elif not verify_tree_head(head, key.public_key):
                problem = f"the signed tree head of size {size:,} does not verify with the ledger key"
            elif frontier.root().hex() != head.root_hash:
                problem = f"the stored frontier does not rebuild the root of the signed tree head of size {size:,}"
    if problem is not None:
        raise StoreCorrupt(
            f"{where}: the {log} log is not as its last batch left it: {problem}; nothing was written. "
            f"Run `truceline ledger verify` on it to find the first bad record"
        )
    return LedgerLog(log, key, frontier)


def record_mismatch(rtype: object, rid: object, version: object, nth: int, body: bytes) -> str | None:
    """Why a record's columns disagree with its stored bytes or its place in the log, if they do.

    ``nth`` is the record's place among the versions of its (type, id) in log order: its version.
    """
    if not isinstance(rtype, str) or not is_record_type(rtype):
        return (
            f"the type column names no record type this Truceline knows ({rtype!r}): changed, or written by a "
            "stage this process has not loaded"
        )
    try:
        record = parse_record(rtype, body)
    except ValidationError as exc:
        err = exc.errors(include_url=False)[0]
        where = ".".join(str(p) for p in err["loc"]) or "record"
        return f"stored bytes no longer parse as a {rtype} ({where}: {err['msg']})"
    except ValueError as exc:
        return f"stored bytes no longer parse as a {rtype} ({exc})"
    try:
        stored_id: str | None = record_id(record)
    except TypeError:
        stored_id = None
    if stored_id != rid:
        return f"indexed id disagrees with the stored bytes (which say {stored_id!r})"
    if type(version) is not int or version != nth:
        return f"indexed version v{version} disagrees with the log: this is version {nth} of {rtype} {rid}"
    return None


def seconds(value: object) -> float:
    """A stored time for the audit's check against the signed heads (not a number never matches)."""
    return float(value) if isinstance(value, int | float) else float("nan")


def head_rows(rows: Iterable[tuple[Any, str]], problems: list[LedgerError]) -> list[SignedTreeHead]:
    """The signed heads in (tree_size column, body) rows; a row at odds with its head goes to ``problems``."""
    heads: list[SignedTreeHead] = []
    for column, body in rows:
        try:
            head = SignedTreeHead.from_json(body)
            iso = json.loads(body).get("timestamp")
        except (ValueError, TypeError, AttributeError) as exc:
            problems.append(LedgerError(f"signed tree head filed as size {column}", f"unreadable: {exc}"))
            continue
        name = f"signed tree head of size {head.tree_size}"
        if column != head.tree_size:
            problems.append(LedgerError(name, f"filed under tree_size {column!r}, the column that orders the heads"))
        elif iso != head.timestamp.isoformat():
            problems.append(
                LedgerError(name, f"its ISO timestamp {iso!r} is not its signed time {head.timestamp.isoformat()}")
            )
        heads.append(head)
    return heads


def frontier_mismatch(log: str, value: str | None, report: AuditReport) -> LedgerError | None:
    """Whether the stored frontier (which the next batch extends) is the one the records rebuild."""
    name = f"ledger frontier of the {log} log (meta frontier:{log})"
    try:
        stored = Frontier() if value is None else parse_frontier(value)
    except ValueError as exc:
        return LedgerError(name, f"unreadable ({exc})")
    if stored.size != report.records_checked or stored.root().hex() != report.root_hash:
        return LedgerError(
            name,
            f"holds {stored.size:,} records with root {stored.root().hex()[:16]}…, but the records rebuild "
            f"{report.records_checked:,} with root {report.root_hash[:16]}… (the next batch would extend the "
            "wrong tree)",
        )
    return None


def stray_node(nodes: Iterable[tuple[Any, Any]], size: int) -> LedgerError | None:
    """The first stored (level, index) node that a log of ``size`` records does not have.

    The audit reads only the nodes the records complete; a row planted elsewhere (past the end,
    or at a level the store never keeps) would pass it, and then block the batch that completes
    that node on a duplicate key. So the table must hold nothing else."""
    for level, idx in nodes:
        lv, ix = int(level), int(idx)
        if not should_persist(lv) or lv > 62 or ix < 0 or (ix + 1) << lv > size:
            return LedgerError(
                f"ledger node (level {lv}, index {ix})",
                f"stored, but a log of {size:,} records has no such node (added or moved)",
            )
    return None


def first_problem(report: AuditReport, rows: list[LedgerError], ledger: list[LedgerError]) -> AuditReport:
    """Fold the store's own checks into the Merkle audit's report: the one first problem to name.

    A row check (a column that disagrees with its bytes, a gap) wins when it names an earlier
    record than the audit does (a record whose bytes fail their leaf hash is the more fundamental
    finding); a tree-head row or the frontier is named when nothing else is.
    """
    first = report.first_error
    if rows and (first is None or seq_of(rows[0].record) < seq_of(first.record)):
        first = rows[0]
    if first is None and ledger:
        first = ledger[0]
    if first is not None:
        report.ok = False
        report.first_error = first
    return report
