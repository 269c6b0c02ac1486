"""Recomputing a log from its records: the check behind ``truceline ledger verify``.

It streams the records once, in leaf order. For each it recomputes the leaf hash from the stored
bytes; it rebuilds the tree and compares the stored subtree nodes and every signed tree head
(signature first, then root). The first problem found names the record to look at.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

from truceline.ledger.hashing import leaf_hash
from truceline.ledger.signing import SignedTreeHead, verify_tree_head
from truceline.ledger.tree import Frontier, NodeReader, should_persist
from truceline.model import LedgerError


@dataclass
class AuditReport:
    """What an audit checked and the first problem it found, if any."""

    ok: bool
    records_checked: int
    tree_heads_checked: int
    first_error: LedgerError | None = None
    root_hash: str = ""

    def summary(self) -> str:
        if self.ok:
            return (
                f"ok: {self.records_checked:,} records and {self.tree_heads_checked:,} signed tree heads "
                f"verified; root {self.root_hash[:16]}…"
            )
        return f"FAILED after {self.records_checked:,} records: {self.first_error}"


def audit_log(
    records: Iterable[tuple[str, bytes, bytes]],
    tree_heads: Sequence[SignedTreeHead],
    public_key: Ed25519PublicKey,
    stored_nodes: NodeReader | None = None,
) -> AuditReport:
    """Audit a log given its records as (name, stored bytes, stored leaf hash), in leaf order."""
    heads = sorted(tree_heads, key=lambda h: h.tree_size)
    errors: list[LedgerError] = []

    def fail(record: str, reason: str) -> None:
        if not errors:
            errors.append(LedgerError(record, reason))

    for head in heads:
        if not verify_tree_head(head, public_key):
            fail(f"signed tree head of size {head.tree_size}", "the signature does not verify with the log's key")
    frontier = Frontier()
    next_head = 0
    first_since_head = ""
    checked_heads = 0
    for name, body, stored_leaf in records:
        recomputed = leaf_hash(body)
        if recomputed != stored_leaf:
            fail(name, "stored bytes do not match their ledger leaf hash")
        if not first_since_head:
            first_since_head = name
        for level, index, digest in frontier.append(recomputed):
            if stored_nodes is not None and should_persist(level):
                stored = stored_nodes.node(level, index)
                if stored is not None and stored != digest:
                    fail(
                        f"ledger node (level {level}, index {index})",
                        f"differs from the hash recomputed from records #{(index << level) + 1}…"
                        f"#{(index + 1) << level}",
                    )
        size = frontier.size
        while next_head < len(heads) and heads[next_head].tree_size == size:
            checked_heads += 1
            if frontier.root().hex() != heads[next_head].root_hash:
                fail(
                    first_since_head,
                    f"records from here to #{size} do not match the signed tree head of size {size}",
                )
            next_head += 1
            first_since_head = ""
        while next_head < len(heads) and heads[next_head].tree_size < size:
            next_head += 1  # a head for a size we passed without matching exactly: duplicates
    if next_head < len(heads):
        missing = heads[-1].tree_size
        fail(
            f"record #{frontier.size + 1}",
            f"missing: the log holds {frontier.size:,} records but a signed tree head covers {missing:,}",
        )
    return AuditReport(
        ok=not errors,
        records_checked=frontier.size,
        tree_heads_checked=checked_heads,
        first_error=errors[0] if errors else None,
        root_hash=frontier.root().hex(),
    )
