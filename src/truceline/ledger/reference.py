"""The plain, recursive RFC 9162 §2.1 definitions over a list of leaf hashes.

Written to read like the RFC, not to be fast: the optimised code in :mod:`tree` is tested
against these functions.
"""

from __future__ import annotations

from collections.abc import Sequence

from truceline.ledger.hashing import EMPTY_ROOT, node_hash


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
