"""The incremental Merkle tree: append in O(1) amortised, proofs from stored nodes, verification.

Nodes are addressed ``(level, index)``: the perfect subtree of ``2**level`` leaves starting at
leaf ``index << level`` (level 0 is a leaf hash). The store keeps every leaf hash (with its
record) and the completed perfect subtrees whose level is a positive multiple of
:data:`PERSIST_EVERY`. Any subtree hash can then be rebuilt from at most ``2**PERSIST_EVERY``
stored children, so proofs stay cheap without storing every node. Right-edge subtrees that are not
yet complete are never stored (their hash changes as the log grows): RFC 9162's ``MTH(D[k:n])``
is rebuilt from the perfect subtrees it splits into.

>>> from truceline.ledger.hashing import leaf_hash
>>> leaves = [leaf_hash(i.to_bytes(2, "big")) for i in range(1000)]
>>> frontier, nodes = Frontier(), MemoryNodeStore()
>>> nodes.put_nodes(frontier.extend(leaves)); nodes.put_leaves(0, leaves)
>>> root = frontier.root()
>>> root == root_at(nodes, 1000)
True
>>> verify_inclusion(leaves[417], 417, 1000, inclusion_proof(nodes, 417, 1000), root)
True
>>> verify_consistency(600, 1000, consistency_proof(nodes, 600, 1000), root_at(nodes, 600), root)
True
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from typing import Protocol

from truceline.ledger.hashing import EMPTY_ROOT, HASH_SIZE, node_hash
from truceline.ledger.reference import split_point

__all__ = [
    "PERSIST_EVERY",
    "Frontier",
    "MemoryNodeStore",
    "NodeReader",
    "consistency_proof",
    "inclusion_proof",
    "range_hash",
    "root_at",
    "should_persist",
    "subtree_hash",
    "verify_consistency",
    "verify_inclusion",
]

PERSIST_EVERY = 4
_sha256 = hashlib.sha256


def should_persist(level: int) -> bool:
    """Whether the store keeps completed subtree hashes of this level (leaves are kept anyway)."""
    return level > 0 and level % PERSIST_EVERY == 0


class Frontier:
    """The right edge of the tree: one perfect-subtree root per set bit of the size.

    >>> f = Frontier()
    >>> [len(f.append(bytes(32))) for _ in range(4)]  # nodes completed by each append
    [1, 2, 1, 3]
    >>> f.size
    4
    """

    __slots__ = ("_size", "_stack")

    def __init__(self) -> None:
        self._size = 0
        self._stack: list[bytes] = []

    @property
    def size(self) -> int:
        """How many leaves have been appended."""
        return self._size

    def append(self, leaf: bytes) -> list[tuple[int, int, bytes]]:
        """Add a leaf hash; return the perfect subtrees it completed as (level, index, hash)."""
        index = self._size
        completed = [(0, index, leaf)]
        node = leaf
        level = 0
        stack = self._stack
        while index & 1:
            node = node_hash(stack.pop(), node)
            level += 1
            index >>= 1
            completed.append((level, index, node))
        stack.append(node)
        self._size += 1
        return completed

    def extend(self, leaves: Sequence[bytes]) -> list[tuple[int, int, bytes]]:
        """Append many leaves; return only the completed nodes a store persists.

        The hot loop of durable ingest: the same arithmetic as :meth:`append` (a test checks
        they agree) without building a list per leaf.
        """
        stack = self._stack
        size = self._size
        persisted: list[tuple[int, int, bytes]] = []
        sha256 = _sha256
        for leaf in leaves:
            index = size
            node = leaf
            level = 0
            while index & 1:
                node = sha256(b"\x01" + stack.pop() + node).digest()
                level += 1
                index >>= 1
                if level % PERSIST_EVERY == 0:
                    persisted.append((level, index, node))
            stack.append(node)
            size += 1
        self._size = size
        return persisted

    def root(self) -> bytes:
        """The RFC 9162 root of the current tree."""
        stack = self._stack
        if not stack:
            return EMPTY_ROOT
        root = stack[-1]
        for left in reversed(stack[:-1]):
            root = node_hash(left, root)
        return root

    def to_state(self) -> tuple[int, list[bytes]]:
        """What a store saves to resume after a restart: the size and the right-edge hashes.

        The hashes are the roots of the perfect subtrees making up ``[0, size)``, largest first:
        one per set bit of ``size``.
        """
        return self._size, list(self._stack)

    @classmethod
    def from_state(cls, size: int, hashes: Sequence[bytes]) -> Frontier:
        """Resume from :meth:`to_state`'s output, refusing a state that cannot be a frontier."""
        if size < 0 or len(hashes) != size.bit_count():
            raise ValueError(f"a frontier of size {size} has {max(size, 0).bit_count()} hashes, not {len(hashes)}")
        if any(len(h) != HASH_SIZE for h in hashes):
            raise ValueError(f"every frontier hash is {HASH_SIZE} bytes")
        frontier = cls()
        frontier._size = size
        frontier._stack = list(hashes)
        return frontier


class NodeReader(Protocol):
    """What a store offers the proof functions."""

    def leaf_hashes(self, start: int, end: int) -> Sequence[bytes]:
        """Leaf hashes for leaf indices ``start`` ≤ i < ``end``."""
        ...

    def node(self, level: int, index: int) -> bytes | None:
        """A stored perfect-subtree hash, or None when it is not stored."""
        ...


class MemoryNodeStore:
    """A NodeReader held in memory (for the in-memory store and tests)."""

    def __init__(self) -> None:
        self._leaves: list[bytes] = []
        self._nodes: dict[tuple[int, int], bytes] = {}

    @property
    def size(self) -> int:
        """How many leaf hashes are held."""
        return len(self._leaves)

    def put_leaves(self, start: int, leaves: Sequence[bytes]) -> None:
        """Append leaf hashes; ``start`` must be the next leaf index."""
        if start != len(self._leaves):
            raise ValueError(f"leaves must be appended in order: expected index {len(self._leaves)}, got {start}")
        self._leaves.extend(leaves)

    def put_nodes(self, nodes: Sequence[tuple[int, int, bytes]]) -> None:
        """Keep these perfect-subtree hashes (the caller chooses which: see :func:`should_persist`).

        A node already held is overwritten, which is how tests forge a stored node.
        """
        for level, index, digest in nodes:
            self._nodes[(level, index)] = digest

    def leaf_hashes(self, start: int, end: int) -> Sequence[bytes]:
        return self._leaves[start:end]

    def node(self, level: int, index: int) -> bytes | None:
        return self._nodes.get((level, index))


def subtree_hash(reader: NodeReader, level: int, index: int) -> bytes:
    """The hash of the perfect subtree of ``2**level`` leaves starting at ``index << level``."""
    if level == 0:
        (leaf,) = reader.leaf_hashes(index, index + 1)
        return leaf
    if should_persist(level):
        stored = reader.node(level, index)
        if stored is not None:
            return stored
    base = (level // PERSIST_EVERY) * PERSIST_EVERY
    if base == level:
        base = level - PERSIST_EVERY
    if base <= 0:
        nodes = list(reader.leaf_hashes(index << level, (index + 1) << level))
        if len(nodes) != 1 << level:
            raise ValueError(f"the store lacks leaves {index << level}…{((index + 1) << level) - 1}")
    else:
        span = level - base
        nodes = [subtree_hash(reader, base, (index << span) + i) for i in range(1 << span)]
    while len(nodes) > 1:
        nodes = [node_hash(nodes[i], nodes[i + 1]) for i in range(0, len(nodes), 2)]
    return nodes[0]


def range_hash(reader: NodeReader, start: int, end: int) -> bytes:
    """MTH of leaves ``start`` ≤ i < ``end``, where ``start`` is aligned as RFC 9162 splits are."""
    n = end - start
    if n <= 0:
        return EMPTY_ROOT
    if n & (n - 1) == 0 and start % n == 0:
        return subtree_hash(reader, n.bit_length() - 1, start // n)
    k = split_point(n)
    return node_hash(range_hash(reader, start, start + k), range_hash(reader, start + k, end))


def root_at(reader: NodeReader, size: int) -> bytes:
    """The root of the tree of the first ``size`` leaves."""
    return range_hash(reader, 0, size)


def inclusion_proof(reader: NodeReader, index: int, size: int) -> list[bytes]:
    """PATH(index, D[size]) computed from stored nodes."""
    if not 0 <= index < size:
        raise ValueError(f"leaf index {index} outside a tree of size {size}")
    proof: list[bytes] = []
    start, end, m = 0, size, index
    while end - start > 1:
        k = split_point(end - start)
        if m < k:
            proof.append(range_hash(reader, start + k, end))
            end = start + k
        else:
            proof.append(range_hash(reader, start, start + k))
            start, m = start + k, m - k
    proof.reverse()  # the recursion emits the deepest sibling first
    return proof


def consistency_proof(reader: NodeReader, size1: int, size2: int) -> list[bytes]:
    """PROOF(size1, D[size2]) computed from stored nodes."""
    if not 0 <= size1 <= size2:
        raise ValueError(f"no consistency proof from size {size1} to size {size2}")
    if size1 in (0, size2):
        return []
    proof: list[bytes] = []
    start, end, m, complete = 0, size2, size1, True
    while True:
        n = end - start
        if m == n:
            if not complete:
                proof.append(range_hash(reader, start, end))
            break
        k = split_point(n)
        if m <= k:
            proof.append(range_hash(reader, start + k, end))
            end = start + k
        else:
            proof.append(range_hash(reader, start, start + k))
            start, m, complete = start + k, m - k, False
    proof.reverse()
    return proof


def verify_inclusion(leaf: bytes, index: int, size: int, proof: Sequence[bytes], root: bytes) -> bool:
    """RFC 9162 §2.1.3.2: does ``proof`` show leaf ``index`` of a ``size``-leaf tree under ``root``?

    Accepts exactly what the RFC's loop accepts (:func:`reference.verify_inclusion` is that loop,
    and a property test holds the two equal on valid and tampered input), in closed form: the loop
    first walks ``inner`` = bit length of ``index ^ (size - 1)`` levels, where the index bit says
    which side the sibling is on, then one level per set bit of ``index >> inner``, where the
    sibling is always on the left. Any other proof length makes the loop fail, so it is refused
    before hashing, and the loop body is one hash and one shift.
    """
    if not 0 <= index < size or len(leaf) != HASH_SIZE or len(root) != HASH_SIZE:
        return False
    inner = (index ^ (size - 1)).bit_length()
    if len(proof) != inner + (index >> inner).bit_count():
        return False
    sha256 = _sha256  # a local: global look-ups cost as much as the hash in a loop this short
    r = leaf
    fn = index
    for p in proof[:inner]:
        r = sha256(b"\x01" + p + r).digest() if fn & 1 else sha256(b"\x01" + r + p).digest()
        fn >>= 1
    for p in proof[inner:]:
        r = sha256(b"\x01" + p + r).digest()
    return r == root


def verify_consistency(size1: int, size2: int, proof: Sequence[bytes], root1: bytes, root2: bytes) -> bool:
    """RFC 9162 §2.1.4.2: is the ``size1`` tree with ``root1`` a prefix of the ``size2`` one?

    Accepts exactly what the RFC's loop accepts (:func:`reference.verify_consistency`, with its
    edge cases for equal sizes and size 0), in closed form: the old tree's last node is
    ``size1 - 1`` shifted past its trailing ones (RFC step 4); from there the proof is that
    node's inclusion path, ``inner`` levels decided by its bits, then left-hand border levels.
    Both roots are rebuilt from it; only left siblings feed the old root.
    """
    if size1 < 0 or size2 < size1:
        return False
    if size1 == size2:
        return not proof and root1 == root2
    if size1 == 0:
        return not proof
    if not proof or len(root1) != HASH_SIZE or len(root2) != HASH_SIZE:
        return False
    shift = (size1 & -size1).bit_length() - 1  # trailing zeros of size1 = trailing ones of size1 - 1
    fn = (size1 - 1) >> shift
    sn = (size2 - 1) >> shift
    inner = (fn ^ sn).bit_length()
    # A power-of-two old tree is itself a node of the new one, so its root seeds the path (step 2).
    seed, rest = (root1, proof) if size1 == 1 << shift else (proof[0], proof[1:])
    if len(rest) != inner + (fn >> inner).bit_count():
        return False
    fr = sr = seed
    for c in rest[:inner]:
        if fn & 1:
            fr = node_hash(c, fr)
            sr = node_hash(c, sr)
        else:
            sr = node_hash(sr, c)
        fn >>= 1
    for c in rest[inner:]:
        fr = node_hash(c, fr)
        sr = node_hash(c, sr)
    return fr == root1 and sr == root2
