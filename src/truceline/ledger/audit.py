"""Recomputing a log from its records: the check behind ``truceline ledger verify``.

It streams the records once, in leaf order, holding only the tree's right edge (O(log n)), so a
log of millions of records audits in constant memory. For each record it recomputes the leaf
hash from the stored bytes; it rebuilds the tree, compares every stored subtree node it
completes, and checks each signed tree head when the log reaches its size (signature first, then
root). The first problem in log order is reported, naming what to look at:

* a record whose bytes do not match its leaf hash: that record;
* a signed root that the records do not rebuild: the first record since the previous head
  (anything in that range may have been changed, inserted, deleted or reordered);
* a stored node that differs from the recomputed one, or is missing: that node and its records;
* a head whose signature fails: that head;
* fewer records than the latest head covers: the first missing record.

A store that signs a head in every batch's own transaction (every Truceline store does) audits
with ``batches_signed=True``, which also checks what that promise implies:

* a record past the latest head was never acknowledged: that record (added, or its head deleted);
* a record's time (the receipt time of a report, the creation time of a derived record), given
  as a fourth item, is the time its batch's head was signed, to the millisecond the head keeps:
  the first record of a batch whose time differs, or the first record that differs from the rest
  of its batch. The head's signature covers the time, so these times cannot change unseen.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

from truceline.ledger.hashing import leaf_hash
from truceline.ledger.signing import SignedTreeHead, verify_tree_head
from truceline.ledger.tree import Frontier, NodeReader, should_persist
from truceline.model import LedgerError

__all__ = ["AuditItem", "AuditReport", "audit_log"]

AuditItem = tuple[str, bytes, bytes] | tuple[str, bytes, bytes, float | None]
"""(name, stored bytes, stored leaf hash[, time in epoch seconds]) of one record, in leaf order."""

_SAME_BATCH_S = 1e-6  # the records of one batch share one stored time, exactly
_MS_SLACK = 0.01  # float rounding of an epoch time in seconds against the signed whole milliseconds


@dataclass
class AuditReport:
    """What an audit checked and the first problem it found, if any."""

    ok: bool
    records_checked: int
    tree_heads_checked: int
    first_error: LedgerError | None = None
    root_hash: str = ""
    records_after_last_head: int = 0
    """Records past the latest signed tree head: consistent so far, but not yet signed for."""

    def summary(self) -> str:
        """One line for people: what was verified, or the first problem."""
        if self.ok:
            unsigned = (
                f"; {self.records_after_last_head:,} newer records not yet under a signed head"
                if self.records_after_last_head
                else ""
            )
            return (
                f"ok: {self.records_checked:,} records and {self.tree_heads_checked:,} signed tree heads "
                f"verified; root {self.root_hash[:16]}…{unsigned}"
            )
        return f"FAILED after {self.records_checked:,} records: {self.first_error}"


def _head_name(head: SignedTreeHead) -> str:
    return f"signed tree head of size {head.tree_size}"


class _Audit:
    """The state of one streaming audit; only its first error is kept."""

    def __init__(
        self,
        heads: Sequence[SignedTreeHead],
        public_key: Ed25519PublicKey,
        stored_nodes: NodeReader | None,
        batches_signed: bool = False,
    ) -> None:
        self.heads = sorted(heads, key=lambda h: (h.tree_size, h.timestamp_ms))
        self.public_key = public_key
        self.stored_nodes = stored_nodes
        self.batches_signed = batches_signed
        self.frontier = Frontier()
        self.next_head = 0
        self.heads_checked = 0
        self.first_since_head = ""
        self.error: LedgerError | None = None
        # The batch since the last head, for the time check: its first record's time, and the
        # first record whose time differs from that one.
        self.batch_time: float | None = None
        self.batch_odd = ""
        self.odd_time: float | None = None

    def fail(self, record: str, reason: str) -> None:
        if self.error is None:
            self.error = LedgerError(record, reason)

    def add(self, name: str, body: bytes, stored_leaf: bytes, time: float | None = None) -> None:
        recomputed = leaf_hash(body)
        if recomputed != stored_leaf:
            self.fail(name, "stored bytes do not match their ledger leaf hash")
        if not self.first_since_head:
            self.first_since_head = name
            self.batch_time, self.batch_odd = time, ""
        elif time is not None and not self.batch_odd and not (
            self.batch_time is not None and abs(time - self.batch_time) <= _SAME_BATCH_S  # (a NaN differs)
        ):
            self.batch_odd, self.odd_time = name, time
        for level, index, digest in self.frontier.append(recomputed):
            if self.stored_nodes is not None and should_persist(level):
                self.check_node(level, index, digest)
        self.check_heads_at(self.frontier.size)

    def check_node(self, level: int, index: int, digest: bytes) -> None:
        assert self.stored_nodes is not None
        stored = self.stored_nodes.node(level, index)
        if stored == digest:
            return
        records = f"records #{(index << level) + 1}…#{(index + 1) << level}"
        if stored is None:
            # Proofs would still come out right (the node is rebuilt from its children), but a
            # store that drops nodes it is meant to keep is not the store that was audited before.
            self.fail(f"ledger node (level {level}, index {index})", f"missing: the store should keep it for {records}")
        else:
            self.fail(f"ledger node (level {level}, index {index})", f"differs from the hash recomputed from {records}")

    def check_heads_at(self, size: int) -> None:
        heads = self.heads
        while self.next_head < len(heads) and heads[self.next_head].tree_size <= size:
            head = heads[self.next_head]
            self.next_head += 1
            if not verify_tree_head(head, self.public_key):
                self.fail(_head_name(head), "the signature does not verify with the log's key")
                continue
            self.heads_checked += 1
            if head.tree_size != size or self.frontier.root().hex() != head.root_hash:
                first = self.first_since_head or _head_name(head)
                self.fail(first, f"records from here to #{head.tree_size} do not match the {_head_name(head)}")
            elif self.batches_signed and self.first_since_head:
                self.check_batch_time(head)
            self.first_since_head = ""

    def check_batch_time(self, head: SignedTreeHead) -> None:
        """The batch just closed by ``head`` was received (or created) when ``head`` was signed."""
        if self.batch_time is None:
            return
        if not (head.timestamp_ms - _MS_SLACK <= self.batch_time * 1000 < head.timestamp_ms + 1 + _MS_SLACK):
            self.fail(
                self.first_since_head,
                f"its time {_iso(self.batch_time)} is not the time its batch was signed "
                f"({_iso(head.timestamp_ms / 1000)}, {_head_name(head)})",
            )
        elif self.batch_odd:
            assert self.odd_time is not None
            self.fail(
                self.batch_odd,
                f"its time {_iso(self.odd_time)} differs from the rest of its batch, signed at "
                f"{_iso(head.timestamp_ms / 1000)} ({_head_name(head)})",
            )

    def finish(self) -> AuditReport:
        size = self.frontier.size
        remaining = self.heads[self.next_head :]
        for head in remaining:
            if not verify_tree_head(head, self.public_key):
                self.fail(_head_name(head), "the signature does not verify with the log's key")
        if remaining:
            self.fail(
                f"record #{size + 1}",
                f"missing: the log holds {size:,} records but a signed tree head covers {remaining[-1].tree_size:,}",
            )
        last_signed = self.heads[-1].tree_size if self.heads else 0
        if self.batches_signed and size > last_signed:
            self.fail(
                self.first_since_head or f"record #{last_signed + 1}",
                f"no signed tree head covers it or the {size - last_signed:,} record(s) from here to #{size}, "
                "though the store signs one in every batch's transaction (a record added, or a head deleted)",
            )
        return AuditReport(
            ok=self.error is None,
            records_checked=size,
            tree_heads_checked=self.heads_checked,
            first_error=self.error,
            root_hash=self.frontier.root().hex(),
            records_after_last_head=max(size - last_signed, 0),
        )


def audit_log(
    records: Iterable[AuditItem],
    tree_heads: Sequence[SignedTreeHead],
    public_key: Ed25519PublicKey,
    stored_nodes: NodeReader | None = None,
    *,
    batches_signed: bool = False,
) -> AuditReport:
    """Audit a log from its records as (name, stored bytes, stored leaf hash[, time]), in leaf order.

    ``tree_heads`` may come in any order; ``stored_nodes``, when given, is the store's node
    table, checked against the nodes the records rebuild. The records are read once, as they
    come: pass a generator to audit a log larger than memory. ``batches_signed`` says the log's
    store signs a head in every batch's transaction, at the batch's time (see the module's notes):
    an unsigned tail is then an error and each record's time, when given, is checked.

    >>> from datetime import UTC, datetime
    >>> from truceline.ledger.signing import LedgerKey
    >>> from truceline.ledger.tree import Frontier
    >>> bodies = [b"first", b"second", b"third"]
    >>> frontier, key = Frontier(), LedgerKey.generate()
    >>> _ = frontier.extend([leaf_hash(b) for b in bodies])
    >>> head = key.sign_tree_head(3, frontier.root(), datetime(2026, 3, 1, tzinfo=UTC))
    >>> records = [(f"record #{i + 1}", b, leaf_hash(b)) for i, b in enumerate(bodies)]
    >>> audit_log(records, [head], key.public_key).summary()[:50]
    'ok: 3 records and 1 signed tree heads verified; ro'
    >>> records[1] = ("record #2", b"SECOND", records[1][2])
    >>> print(audit_log(records, [head], key.public_key).first_error)
    record #2: stored bytes do not match their ledger leaf hash
    """
    audit = _Audit(tree_heads, public_key, stored_nodes, batches_signed)
    audit.check_heads_at(0)  # heads of the empty tree must sign the empty root
    add = audit.add
    for item in records:
        add(*item)
    return audit.finish()


def _iso(seconds: float) -> str:
    if seconds != seconds:
        return "(not a time)"
    try:
        return datetime.fromtimestamp(seconds, UTC).isoformat(timespec="milliseconds")
    except (OverflowError, OSError, ValueError):
        return f"{seconds!r} s"
