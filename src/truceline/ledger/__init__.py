"""The evidence ledger: an RFC 9162 (Certificate Transparency v2) Merkle log.

Every accepted record is a leaf; signed tree heads commit to the log after every acknowledged
batch; inclusion and consistency proofs let anyone check a record or the log's history without
trusting the operator. Pure logic: stores persist what it hands them.

Modules: ``hashing`` (RFC 9162 §2.1.1 hashes), ``tree`` (the incremental tree, proofs from
stored nodes, verification), ``signing`` (Ed25519 signed tree heads and the key files),
``audit`` (recomputing a log from its records) and ``reference`` (the plain RFC definitions the
fast code is tested against). The names below are the public surface; a test pins them.
"""

from truceline.ledger.audit import AuditReport, audit_log
from truceline.ledger.hashing import EMPTY_ROOT, HASH_SIZE, leaf_hash, node_hash
from truceline.ledger.signing import (
    LedgerKey,
    SignedTreeHead,
    key_id,
    load_public_key,
    public_key_path,
    tree_head_bytes,
    verify_tree_head,
)
from truceline.ledger.tree import (
    PERSIST_EVERY,
    Frontier,
    MemoryNodeStore,
    NodeReader,
    consistency_proof,
    inclusion_proof,
    range_hash,
    root_at,
    should_persist,
    subtree_hash,
    verify_consistency,
    verify_inclusion,
)

__all__ = [
    "EMPTY_ROOT",
    "HASH_SIZE",
    "PERSIST_EVERY",
    "AuditReport",
    "Frontier",
    "LedgerKey",
    "MemoryNodeStore",
    "NodeReader",
    "SignedTreeHead",
    "audit_log",
    "consistency_proof",
    "inclusion_proof",
    "key_id",
    "leaf_hash",
    "load_public_key",
    "node_hash",
    "public_key_path",
    "range_hash",
    "root_at",
    "should_persist",
    "subtree_hash",
    "tree_head_bytes",
    "verify_consistency",
    "verify_inclusion",
    "verify_tree_head",
]
