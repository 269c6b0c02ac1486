"""The fast, incremental tree agrees with its reference twin, proofs verify, and tampering fails."""

from __future__ import annotations

import itertools
import random
from collections.abc import Sequence

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from truceline.ledger import (
    PERSIST_EVERY,
    Frontier,
    MemoryNodeStore,
    consistency_proof,
    inclusion_proof,
    leaf_hash,
    node_hash,
    root_at,
    should_persist,
    subtree_hash,
    verify_consistency,
    verify_inclusion,
)
from truceline.ledger import reference as ref
from truceline.model import LedgerError

# Fixed seeds: a failure here reproduces on every machine.
DETERMINISTIC = settings(derandomize=True, database=None, deadline=None)


def synthetic(n: int) -> list[bytes]:
    return [leaf_hash(i.to_bytes(4, "big")) for i in range(n)]


def persisted_store(leaves: Sequence[bytes]) -> MemoryNodeStore:
    """A store that keeps what a database keeps: leaves and only the persisted levels."""
    frontier, nodes = Frontier(), MemoryNodeStore()
    for leaf in leaves:
        nodes.put_nodes([n for n in frontier.append(leaf) if should_persist(n[0])])
    nodes.put_leaves(0, leaves)
    return nodes


class CountingReader:
    """Wraps a reader and counts the look-ups the proof functions make."""

    def __init__(self, inner: MemoryNodeStore) -> None:
        self.inner = inner
        self.node_calls: list[tuple[int, int]] = []
        self.leaves_read = 0

    def leaf_hashes(self, start: int, end: int) -> Sequence[bytes]:
        got = self.inner.leaf_hashes(start, end)
        self.leaves_read += len(got)
        return got

    def node(self, level: int, index: int) -> bytes | None:
        self.node_calls.append((level, index))
        return self.inner.node(level, index)


LEAVES_300 = synthetic(300)
STORE_300 = persisted_store(LEAVES_300)


def test_persisted_levels_are_the_positive_multiples_of_four() -> None:
    assert PERSIST_EVERY == 4
    assert [level for level in range(17) if should_persist(level)] == [4, 8, 12, 16]


@settings(DETERMINISTIC, max_examples=40)
@given(st.integers(1, 300))
def test_fast_inclusion_proofs_equal_the_reference_for_every_index(n: int) -> None:
    leaves = LEAVES_300[:n]
    root = ref.mth(leaves)
    assert root_at(STORE_300, n) == root
    for i in range(n):
        proof = inclusion_proof(STORE_300, i, n)
        assert proof == ref.inclusion_path(i, leaves)
        assert verify_inclusion(leaves[i], i, n, proof, root)


@DETERMINISTIC
@given(st.integers(0, 300).flatmap(lambda n: st.tuples(st.integers(0, n), st.just(n))))
def test_fast_consistency_proofs_equal_the_reference(sizes: tuple[int, int]) -> None:
    m, n = sizes
    proof = consistency_proof(STORE_300, m, n)
    assert proof == ref.consistency_proof(m, LEAVES_300[:n])
    assert verify_consistency(m, n, proof, ref.mth(LEAVES_300[:m]), ref.mth(LEAVES_300[:n]))


def test_every_consistency_proof_between_small_trees_agrees_and_verifies() -> None:
    leaves = synthetic(40)
    nodes = persisted_store(leaves)
    roots = [ref.mth(leaves[:n]) for n in range(41)]
    for m, n in itertools.combinations_with_replacement(range(41), 2):
        proof = consistency_proof(nodes, m, n)
        assert proof == ref.consistency_proof(m, leaves[:n])
        assert verify_consistency(m, n, proof, roots[m], roots[n])
        assert ref.verify_consistency(m, n, proof, roots[m], roots[n])
        if 0 < m < n:
            assert not verify_consistency(m, n, proof, roots[m - 1], roots[n])


def test_frontier_root_matches_the_reference_at_every_size() -> None:
    frontier = Frontier()
    for n, leaf in enumerate(LEAVES_300, start=1):
        frontier.append(leaf)
        assert frontier.size == n
        if n % 7 == 0 or n & (n - 1) == 0:
            assert frontier.root() == ref.mth(LEAVES_300[:n])


def test_frontier_reports_each_completed_subtree_with_its_address() -> None:
    frontier = Frontier()
    for i, leaf in enumerate(LEAVES_300[:64]):
        for level, index, h in frontier.append(leaf):
            assert (index + 1) << level == i + 1  # the subtree ends at the leaf just appended
            assert h == ref.mth(LEAVES_300[index << level : (index + 1) << level])


def test_extend_persists_exactly_what_append_would() -> None:
    leaves = synthetic(777)
    one, many = Frontier(), Frontier()
    expected = [n for leaf in leaves for n in one.append(leaf) if should_persist(n[0])]
    assert many.extend(leaves[:300]) + many.extend(leaves[300:]) == expected
    assert many.root() == one.root() == ref.mth(leaves)


def test_frontier_state_survives_a_restart() -> None:
    frontier = Frontier()
    frontier.extend(LEAVES_300[:150])
    size, hashes = frontier.to_state()
    assert size == 150 and len(hashes) == bin(150).count("1")
    resumed = Frontier.from_state(size, hashes)
    resumed.extend(LEAVES_300[150:])
    assert resumed.root() == ref.mth(LEAVES_300)


@pytest.mark.parametrize(("size", "hashes"), [(5, []), (5, [bytes(32)] * 3), (4, [b"short"]), (-1, [])], ids=str)
def test_frontier_refuses_a_state_that_cannot_be_one(size: int, hashes: list[bytes]) -> None:
    with pytest.raises(ValueError, match=r"frontier|bytes"):
        Frontier.from_state(size, hashes)


def test_a_subtree_is_rebuilt_from_at_most_sixteen_stored_children() -> None:
    leaves = synthetic(1 << 9)
    full = persisted_store(leaves)
    for level in range(1, 10):
        reader = CountingReader(full)
        assert subtree_hash(reader, level, 0) == ref.mth(leaves[: 1 << level])
        fetched = reader.leaves_read + sum(1 for lv, _ in reader.node_calls if lv != level)
        assert fetched <= 1 << PERSIST_EVERY, (level, fetched)
        # only persisted levels are asked for: a database is not queried for nodes it never keeps
        assert all(should_persist(lv) for lv, _ in reader.node_calls)


def test_proofs_are_still_right_when_the_store_kept_no_nodes() -> None:
    leaves = synthetic(100)
    bare = MemoryNodeStore()
    bare.put_leaves(0, leaves)
    for i in (0, 37, 99):
        assert inclusion_proof(bare, i, 100) == ref.inclusion_path(i, leaves)
    assert consistency_proof(bare, 33, 100) == ref.consistency_proof(33, leaves)


def test_a_forged_stored_node_yields_a_proof_that_does_not_verify() -> None:
    leaves = synthetic(64)
    nodes = persisted_store(leaves)
    root = ref.mth(leaves)
    nodes.put_nodes([(4, 1, bytes(32))])  # leaves 16…31
    proof = inclusion_proof(nodes, 3, 64)
    assert not verify_inclusion(leaves[3], 3, 64, proof, root)


def test_a_store_short_of_leaves_is_reported() -> None:
    nodes = MemoryNodeStore()
    nodes.put_leaves(0, synthetic(5))
    with pytest.raises((LedgerError, ValueError)):
        root_at(nodes, 9)


def test_leaves_must_reach_the_memory_store_in_order() -> None:
    nodes = MemoryNodeStore()
    nodes.put_leaves(0, synthetic(3))
    with pytest.raises(ValueError, match="in order"):
        nodes.put_leaves(5, synthetic(1))
    assert nodes.size == 3


# --- the fast verifiers decide exactly as the RFC's loops ----------------------------------------

LEAVES_64 = synthetic(64)
STORE_64 = persisted_store(LEAVES_64)
ROOTS_64 = [ref.mth(LEAVES_64[:n]) for n in range(65)]


def mutate(proof: list[bytes], how: int, where: int) -> list[bytes]:
    """One of the ways a proof gets damaged or forged (no change at all for how == 0)."""
    if not proof and how in (2, 3, 5):
        return proof
    i = where % max(len(proof), 1)
    match how:
        case 1:
            return [*proof, proof[-1] if proof else bytes(32)]
        case 2:
            return proof[:-1]
        case 3:
            return [*proof[:i], bytes([proof[i][0] ^ 1]) + proof[i][1:], *proof[i + 1 :]]
        case 4:
            return [bytes(32), *proof]
        case 5:
            return list(reversed(proof))
    return proof


@settings(DETERMINISTIC, max_examples=400, suppress_health_check=[HealthCheck.too_slow])
@given(
    size=st.integers(1, 64),
    data=st.data(),
    how=st.integers(0, 5),
    where=st.integers(0, 63),
    index_shift=st.sampled_from([0, 0, 0, 1, -1, 2, 64]),
    size_shift=st.sampled_from([0, 0, 0, 1, -1, 7]),
    other_root=st.booleans(),
)
def test_fast_inclusion_verifier_decides_exactly_as_the_rfc_loop(
    size: int, data: st.DataObject, how: int, where: int, index_shift: int, size_shift: int, other_root: bool
) -> None:
    index = data.draw(st.integers(0, size - 1))
    original = inclusion_proof(STORE_64, index, size)
    proof = mutate(original, how, where)
    root = ROOTS_64[size - 1] if other_root else ROOTS_64[size]
    args = (LEAVES_64[index], index + index_shift, size + size_shift, proof, root)
    fast = verify_inclusion(*args)
    assert fast == ref.verify_inclusion(*args)
    if index_shift == size_shift == 0 and not other_root:
        assert fast == (proof == original)  # an honest proof verifies; a changed one never does


@settings(DETERMINISTIC, max_examples=400, suppress_health_check=[HealthCheck.too_slow])
@given(
    size2=st.integers(0, 64),
    data=st.data(),
    how=st.integers(0, 5),
    where=st.integers(0, 63),
    shift1=st.sampled_from([0, 0, 0, 1, -1, 2]),
    shift2=st.sampled_from([0, 0, 0, 1, -1, 5]),
    swap=st.booleans(),
)
def test_fast_consistency_verifier_decides_exactly_as_the_rfc_loop(
    size2: int, data: st.DataObject, how: int, where: int, shift1: int, shift2: int, swap: bool
) -> None:
    size1 = data.draw(st.integers(0, size2))
    proof = mutate(consistency_proof(STORE_64, size1, size2), how, where)
    r1, r2 = ROOTS_64[size1], ROOTS_64[size2]
    if swap:
        r1, r2 = r2, r1
    args = (size1 + shift1, size2 + shift2, proof, r1, r2)
    assert verify_consistency(*args) == ref.verify_consistency(*args)


def test_tampered_inclusion_proofs_fail() -> None:
    leaves = synthetic(37)
    root = ref.mth(leaves)
    proof = inclusion_proof(persisted_store(leaves), 11, 37)
    assert verify_inclusion(leaves[11], 11, 37, proof, root)
    assert not verify_inclusion(leaves[12], 11, 37, proof, root)  # wrong leaf
    assert not verify_inclusion(leaves[11], 10, 37, proof, root)  # wrong index
    assert not verify_inclusion(leaves[11], 11, 70, proof, root)  # wrong size (another depth)
    assert not verify_inclusion(leaves[11], 11, 37, proof[:-1], root)  # truncated
    assert not verify_inclusion(leaves[11], 11, 37, [*proof, proof[0]], root)  # extended
    assert not verify_inclusion(leaves[11], 11, 37, [bytes([proof[0][0] ^ 1]) + proof[0][1:], *proof[1:]], root)
    assert not verify_inclusion(leaves[11], 37, 37, proof, root)  # index outside the tree
    assert not verify_inclusion(leaves[11], 11, 37, proof, bytes([root[0] ^ 1]) + root[1:])  # another root


def test_tampered_consistency_proofs_fail() -> None:
    leaves = synthetic(37)
    root, r20 = ref.mth(leaves), ref.mth(leaves[:20])
    proof = consistency_proof(persisted_store(leaves), 20, 37)
    assert verify_consistency(20, 37, proof, r20, root)
    assert not verify_consistency(20, 37, proof, root, r20)  # swapped roots
    assert not verify_consistency(21, 37, proof, r20, root)  # another old size
    assert not verify_consistency(20, 37, proof[:-1], r20, root)  # truncated
    assert not verify_consistency(20, 37, [], r20, root)  # empty
    assert not verify_consistency(37, 20, proof, root, r20)  # back in time


def test_a_rewritten_history_cannot_be_proved_consistent() -> None:
    leaves = synthetic(50)
    rewritten = [*leaves[:10], leaf_hash(b"rewritten"), *leaves[11:]]
    old_root = ref.mth(leaves[:30])
    proof = consistency_proof(persisted_store(rewritten), 30, 50)
    assert not verify_consistency(30, 50, proof, old_root, ref.mth(rewritten))


def test_random_large_tree_proofs_agree_with_the_reference() -> None:
    leaves = synthetic(5000)
    nodes = persisted_store(leaves)
    rng = random.Random(9162)
    for _ in range(20):
        n = rng.randint(1, 5000)
        i = rng.randrange(n)
        root = root_at(nodes, n)
        proof = inclusion_proof(nodes, i, n)
        assert proof == ref.inclusion_path(i, leaves[:n])
        assert verify_inclusion(leaves[i], i, n, proof, root)
        m = rng.randint(0, n)
        assert consistency_proof(nodes, m, n) == ref.consistency_proof(m, leaves[:n])


def test_node_hash_depends_on_order_and_cannot_pass_for_a_leaf() -> None:
    a, b = leaf_hash(b"Hello"), leaf_hash(b"World")
    assert node_hash(a, b) != node_hash(b, a)
    assert node_hash(a, b) != leaf_hash(a + b)  # rfc6962_test.go TestRFC6962HasherCollisions
