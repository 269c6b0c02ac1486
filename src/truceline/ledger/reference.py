"""The plain, recursive RFC 9162 §2.1 definitions over a list of leaf hashes.

Written to read like the RFC, not to be fast: the optimised code in :mod:`tree` is tested
against these functions, so do not optimise them. ``MTH(D[n])`` is ``mth(leaves[:n])`` where
``leaves`` are the leaf hashes; the two verifiers follow the RFC's numbered steps one by one.

>>> from truceline.ledger.hashing import leaf_hash
>>> leaves = [leaf_hash(bytes([i])) for i in range(5)]
>>> path = inclusion_path(3, leaves)
>>> len(path), verify_inclusion(leaves[3], 3, 5, path, mth(leaves))
(3, True)
>>> verify_consistency(2, 5, consistency_proof(2, leaves), mth(leaves[:2]), mth(leaves))
True
"""

from __future__ import annotations

from collections.abc import Sequence

from truceline.ledger.hashing import EMPTY_ROOT, HASH_SIZE, node_hash


def split_point(n: int) -> int:
    """The largest power of two smaller than ``n`` (``n`` > 1): RFC 9162's ``k``.

    >>> [split_point(n) for n in (2, 3, 4, 5, 8, 9)]
    [1, 2, 2, 4, 4, 8]
    """
    k = 1
    while k * 2 < n:
        k *= 2
    return k


def mth(leaves: Sequence[bytes]) -> bytes:
    """MTH(D[n]) — the Merkle Tree Hash of leaf hashes ``leaves``."""
    n = len(leaves)
    if n == 0:
        return EMPTY_ROOT
    if n == 1:
        return leaves[0]
    k = split_point(n)
    return node_hash(mth(leaves[:k]), mth(leaves[k:]))


def inclusion_path(m: int, leaves: Sequence[bytes]) -> list[bytes]:
    """PATH(m, D[n]) — the audit path of leaf ``m``."""
    n = len(leaves)
    if not 0 <= m < n:
        raise ValueError(f"leaf index {m} outside a tree of size {n}")
    if n == 1:
        return []
    k = split_point(n)
    if m < k:
        return [*inclusion_path(m, leaves[:k]), mth(leaves[k:])]
    return [*inclusion_path(m - k, leaves[k:]), mth(leaves[:k])]


def _subproof(m: int, leaves: Sequence[bytes], complete: bool) -> list[bytes]:
    n = len(leaves)
    if m == n:
        return [] if complete else [mth(leaves)]
    k = split_point(n)
    if m <= k:
        return [*_subproof(m, leaves[:k], complete), mth(leaves[k:])]
    return [*_subproof(m - k, leaves[k:], False), mth(leaves[:k])]


def consistency_proof(m: int, leaves: Sequence[bytes]) -> list[bytes]:
    """PROOF(m, D[n]) — proves the tree of the first ``m`` leaves is a prefix of this one."""
    n = len(leaves)
    if not 0 <= m <= n:
        raise ValueError(f"size {m} outside a tree of size {n}")
    if m in (0, n):
        return []
    return _subproof(m, leaves, True)


def _lsb(x: int) -> bool:
    return bool(x & 1)


def verify_inclusion(leaf: bytes, index: int, size: int, proof: Sequence[bytes], root: bytes) -> bool:
    """RFC 9162 §2.1.3.2, step by step as the RFC words it.

    One addition to the RFC text, as in transparency-dev/merkle: a leaf or root that is not 32
    bytes is refused, so an empty "hash" cannot match an empty root.
    """
    if len(leaf) != HASH_SIZE or len(root) != HASH_SIZE:
        return False
    # 1. If leaf_index >= tree_size, fail.
    if index < 0 or index >= size:
        return False
    # 2. Set fn to leaf_index and sn to tree_size - 1.
    fn, sn = index, size - 1
    # 3. Set r to hash.
    r = leaf
    # 4. For each value p in the inclusion_path array:
    for p in proof:
        # a. If sn is 0, then stop the iteration and fail the proof verification.
        if sn == 0:
            return False
        # b. If LSB(fn) is set, or if fn is equal to sn, then:
        if _lsb(fn) or fn == sn:
            # i. Set r to HASH(0x01 || p || r).
            r = node_hash(p, r)
            # ii. If LSB(fn) is not set, right-shift fn and sn until LSB(fn) is set or fn is 0.
            if not _lsb(fn):
                while not (_lsb(fn) or fn == 0):
                    fn >>= 1
                    sn >>= 1
        # Otherwise: i. Set r to HASH(0x01 || r || p).
        else:
            r = node_hash(r, p)
        # c. Finally, right-shift both fn and sn one time.
        fn >>= 1
        sn >>= 1
    # 5. If sn is equal to 0 and r equals the root_hash, the inclusion is proven.
    return sn == 0 and r == root


def verify_consistency(size1: int, size2: int, proof: Sequence[bytes], root1: bytes, root2: bytes) -> bool:
    """RFC 9162 §2.1.4.2, step by step as the RFC words it.

    The RFC covers ``0 < first < second``; the other sizes follow transparency-dev/merkle: equal
    sizes need an empty proof and equal roots, every tree is consistent with size 0 (empty proof),
    and a smaller second size never is. As for inclusion, roots must be 32 bytes.
    """
    if size1 < 0 or size2 < size1:
        return False
    if size1 == size2:
        return not proof and root1 == root2
    if size1 == 0:
        return not proof
    if len(root1) != HASH_SIZE or len(root2) != HASH_SIZE:
        return False
    # 1. If consistency_path is an empty array, stop and fail the proof verification.
    if not proof:
        return False
    path = list(proof)
    # 2. If first is an exact power of 2, then prepend first_hash to the consistency_path array.
    if size1 & (size1 - 1) == 0:
        path.insert(0, root1)
    # 3. Set fn to first - 1 and sn to second - 1.
    fn, sn = size1 - 1, size2 - 1
    # 4. If LSB(fn) is set, then right-shift both fn and sn equally until LSB(fn) is not set.
    while _lsb(fn):
        fn >>= 1
        sn >>= 1
    # 5. Set both fr and sr to the first value in the consistency_path array.
    fr = sr = path[0]
    # 6. For each subsequent value c in the consistency_path array:
    for c in path[1:]:
        # a. If sn is 0, then stop the iteration and fail the proof verification.
        if sn == 0:
            return False
        # b. If LSB(fn) is set, or if fn is equal to sn, then:
        if _lsb(fn) or fn == sn:
            # i. Set fr to HASH(0x01 || c || fr). Set sr to HASH(0x01 || c || sr).
            fr = node_hash(c, fr)
            sr = node_hash(c, sr)
            # ii. If LSB(fn) is not set, right-shift fn and sn until LSB(fn) is set or fn is 0.
            if not _lsb(fn):
                while not (_lsb(fn) or fn == 0):
                    fn >>= 1
                    sn >>= 1
        # Otherwise: i. Set sr to HASH(0x01 || sr || c).
        else:
            sr = node_hash(sr, c)
        # c. Finally, right-shift both fn and sn one time.
        fn >>= 1
        sn >>= 1
    # 7. fr must equal first_hash, sr must equal second_hash, and sn must be 0.
    return fr == root1 and sr == root2 and sn == 0
