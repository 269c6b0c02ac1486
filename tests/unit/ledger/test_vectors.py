"""The ledger against the published RFC 6962 test data of transparency-dev/merkle (see vectors.py)."""

from __future__ import annotations

from collections.abc import Callable, Sequence

import pytest

from tests.unit.ledger.vectors import (
    COMPACT_TREES,
    CONSISTENCY_NODE_ERRORS,
    CONSISTENCY_NODES,
    CONSISTENCY_PROOFS,
    EMPTY_ROOT_HEX,
    HASHER,
    INCLUSION_NODE_ERRORS,
    INCLUSION_NODES,
    INCLUSION_PROOFS,
    LEAF_INPUTS,
    NODE_HASHES,
    NODE_VECTOR,
    ROOT_HASHES,
    SOME_HASH_HEX,
    Nodes,
    Rehash,
)
from truceline.ledger import (
    EMPTY_ROOT,
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

LEAVES = [leaf_hash(d) for d in LEAF_INPUTS]
ROOTS = [bytes.fromhex(h) for h in ROOT_HASHES]
SOME_HASH = bytes.fromhex(SOME_HASH_HEX)

InclusionVerifier = Callable[[bytes, int, int, Sequence[bytes], bytes], bool]
ConsistencyVerifier = Callable[[int, int, Sequence[bytes], bytes, bytes], bool]
INCLUSION_VERIFIERS = pytest.mark.parametrize("verify", [verify_inclusion, ref.verify_inclusion], ids=["fast", "rfc"])
CONSISTENCY_VERIFIERS = pytest.mark.parametrize(
    "verify", [verify_consistency, ref.verify_consistency], ids=["fast", "rfc"]
)


def store_of(leaves: Sequence[bytes]) -> MemoryNodeStore:
    frontier, nodes = Frontier(), MemoryNodeStore()
    nodes.put_nodes(frontier.extend(leaves))
    nodes.put_leaves(0, leaves)
    return nodes


def test_hasher_matches_the_rfc6962_vectors() -> None:
    assert EMPTY_ROOT.hex() == EMPTY_ROOT_HEX
    for data, expected in HASHER.values():
        assert leaf_hash(data).hex() == expected
    left, right, expected = NODE_VECTOR
    assert node_hash(left, right).hex() == expected


def test_empty_tree_root_is_sha256_of_nothing_everywhere() -> None:
    assert Frontier().root() == ref.mth([]) == root_at(MemoryNodeStore(), 0) == EMPTY_ROOT
    assert leaf_hash(b"") != EMPTY_ROOT  # the empty tree is not the tree of one empty record


@pytest.mark.parametrize("size", range(9))
def test_roots_of_every_size_match_the_published_vectors(size: int) -> None:
    frontier = Frontier()
    for leaf in LEAVES[:size]:
        frontier.append(leaf)
    assert frontier.root() == ROOTS[size]
    assert ref.mth(LEAVES[:size]) == ROOTS[size]
    assert root_at(store_of(LEAVES), size) == ROOTS[size]


@pytest.mark.parametrize("size", range(9))
def test_frontier_holds_the_published_compact_tree(size: int) -> None:
    frontier = Frontier()
    frontier.extend(LEAVES[:size])
    count, hashes = frontier.to_state()
    assert count == size
    assert [h.hex() for h in hashes] == [NODE_HASHES[level][index] for level, index in COMPACT_TREES[size]]


def test_every_completed_node_matches_the_published_node_hashes() -> None:
    frontier = Frontier()
    completed = [node for leaf in LEAVES for node in frontier.append(leaf)]
    assert sorted((level, index, h.hex()) for level, index, h in completed) == sorted(
        (level, index, h) for level, row in enumerate(NODE_HASHES) for index, h in enumerate(row)
    )
    nodes = store_of(LEAVES)
    for level, row in enumerate(NODE_HASHES):
        for index, expected in enumerate(row):
            assert subtree_hash(nodes, level, index).hex() == expected


@pytest.mark.parametrize(("leaf", "size", "expected"), INCLUSION_PROOFS)
def test_inclusion_proofs_match_the_published_vectors(leaf: int, size: int, expected: list[str]) -> None:
    index = leaf - 1  # the Go vectors number leaves from 1
    assert [p.hex() for p in inclusion_proof(store_of(LEAVES), index, size)] == expected
    assert [p.hex() for p in ref.inclusion_path(index, LEAVES[:size])] == expected


@pytest.mark.parametrize(("size1", "size2", "expected"), CONSISTENCY_PROOFS)
def test_consistency_proofs_match_the_published_vectors(size1: int, size2: int, expected: list[str]) -> None:
    assert [p.hex() for p in consistency_proof(store_of(LEAVES), size1, size2)] == expected
    assert [p.hex() for p in ref.consistency_proof(size1, LEAVES[:size2])] == expected


def corrupt_inclusion(index: int, size: int, proof: list[bytes], root: bytes, leaf: bytes) -> dict[str, tuple]:  # type: ignore[type-arg]
    """verify_test.go corruptInclusionProof: every probe must be refused."""
    probes: dict[str, tuple] = {  # type: ignore[type-arg]
        "leafIndex - 1": (leaf, index - 1, size, proof, root),
        "leafIndex + 1": (leaf, index + 1, size, proof, root),
        "leafIndex ^ 2": (leaf, index ^ 2, size, proof, root),
        "treeSize * 2": (leaf, index, size * 2, proof, root),
        "treeSize / 2": (leaf, index, size // 2, proof, root),
        "wrong leaf": (b"WrongLeaf", index, size, proof, root),
        "empty root": (leaf, index, size, proof, EMPTY_ROOT),
        "random root": (leaf, index, size, proof, SOME_HASH),
        "trailing garbage": (leaf, index, size, [*proof, b""], root),
        "trailing root": (leaf, index, size, [*proof, root], root),
        "preceding garbage": (leaf, index, size, [b"", *proof], root),
        "preceding root": (leaf, index, size, [root, *proof], root),
    }
    for i in range(len(proof)):
        wrong = list(proof)
        wrong[i] = bytes([wrong[i][0] ^ 8]) + wrong[i][1:]
        probes[f"modified proof[{i}] bit 3"] = (leaf, index, size, wrong, root)
    if proof:
        probes["removed component"] = (leaf, index, size, proof[:-1], root)
    if len(proof) > 1:
        probes["inserted component"] = (leaf, index, size, [proof[0], SOME_HASH, *proof[1:]], root)
    return probes


@INCLUSION_VERIFIERS
@pytest.mark.parametrize(("leaf", "size", "expected"), INCLUSION_PROOFS)
def test_published_inclusion_proofs_verify_and_every_corruption_is_refused(
    verify: InclusionVerifier, leaf: int, size: int, expected: list[str]
) -> None:
    index, proof, root = leaf - 1, [bytes.fromhex(p) for p in expected], ROOTS[size]
    assert verify(LEAVES[index], index, size, proof, root)
    accepted = [d for d, args in corrupt_inclusion(index, size, proof, root, LEAVES[index]).items() if verify(*args)]
    assert accepted == []


@INCLUSION_VERIFIERS
def test_inclusion_in_a_one_leaf_tree_needs_real_hashes(verify: InclusionVerifier) -> None:
    # verify_test.go TestVerifyInclusionSingleEntry: root and leaf hash of a 1-entry tree are equal.
    h = leaf_hash(b"data")
    assert verify(h, 0, 1, [], h)
    assert not verify(b"", 0, 1, [], h)
    assert not verify(h, 0, 1, [], b"")
    assert not verify(b"", 0, 1, [], b"")  # wrong hash size: must not "verify" nothing against nothing


@INCLUSION_VERIFIERS
@pytest.mark.parametrize(("index", "size"), [(0, 0), (0, 1), (1, 0), (2, 1)])
def test_inclusion_probes_with_bad_leaf_or_root_are_refused(verify: InclusionVerifier, index: int, size: int) -> None:
    # verify_test.go TestVerifyInclusion, first loop.
    assert not verify(SOME_HASH, index, size, [], b"")
    assert not verify(b"", index, size, [], EMPTY_ROOT)
    assert not verify(SOME_HASH, index, size, [], EMPTY_ROOT)


# verify_test.go TestVerifyConsistency: (size1, size2, root1, root2, proof, accepted)
R1, R2 = b"don't care 1", b"don't care 2"
CONSISTENCY_TABLE = [
    (0, 0, R1, R2, [], False),
    (1, 1, R1, R2, [], False),
    (0, 0, R1, R1, [], True),
    (0, 1, R1, R2, [], True),
    (1, 1, R2, R2, [], True),
    (1, 0, R1, R2, [], False),
    (2, 1, R1, R2, [], False),
    (1, 2, R1, R2, [], False),
    (0, 0, EMPTY_ROOT, R2, [], False),
    (1, 1, EMPTY_ROOT, R2, [], False),
    (0, 0, EMPTY_ROOT, EMPTY_ROOT, [EMPTY_ROOT], False),
    (0, 1, EMPTY_ROOT, EMPTY_ROOT, [EMPTY_ROOT], False),
    (1, 1, EMPTY_ROOT, EMPTY_ROOT, [EMPTY_ROOT], False),
]


@CONSISTENCY_VERIFIERS
@pytest.mark.parametrize(("size1", "size2", "root1", "root2", "proof", "accepted"), CONSISTENCY_TABLE)
def test_consistency_edge_cases_follow_the_published_table(
    verify: ConsistencyVerifier,
    size1: int,
    size2: int,
    root1: bytes,
    root2: bytes,
    proof: list[bytes],
    accepted: bool,
) -> None:
    assert verify(size1, size2, proof, root1, root2) is accepted


def corrupt_consistency(size1: int, size2: int, r1: bytes, r2: bytes, proof: list[bytes]) -> dict[str, tuple]:  # type: ignore[type-arg]
    """verify_test.go corruptConsistencyProof: every probe must be refused."""
    probes: dict[str, tuple] = {  # type: ignore[type-arg]
        "size1 - 1": (size1 - 1, size2, proof, r1, r2),
        "size1 + 1": (size1 + 1, size2, proof, r1, r2),
        "size1 ^ 2": (size1 ^ 2, size2, proof, r1, r2),
        "size2 * 2": (size1, size2 * 2, proof, r1, r2),
        "size2 / 2": (size1, size2 // 2, proof, r1, r2),
        "wrong root1": (size1, size2, proof, b"WrongRoot", r2),
        "wrong root2": (size1, size2, proof, r1, b"WrongRoot"),
        "swapped roots": (size1, size2, proof, r2, r1),
        "empty proof": (size1, size2, [], r1, r2),
        "trailing garbage": (size1, size2, [*proof, b""], r1, r2),
        "trailing root1": (size1, size2, [*proof, r1], r1, r2),
        "trailing root2": (size1, size2, [*proof, r2], r1, r2),
        "preceding garbage": (size1, size2, [b"", *proof], r1, r2),
        "preceding root1": (size1, size2, [r1, *proof], r1, r2),
        "preceding root2": (size1, size2, [r2, *proof], r1, r2),
        "preceding proof[0]": (size1, size2, [proof[0], *proof], r1, r2),
        "truncated proof": (size1, size2, proof[:-1], r1, r2),
    }
    for i in range(len(proof)):
        wrong = list(proof)
        wrong[i] = bytes([wrong[i][0] ^ 16]) + wrong[i][1:]
        probes[f"modified proof[{i}] bit 4"] = (size1, size2, wrong, r1, r2)
    return probes


@CONSISTENCY_VERIFIERS
@pytest.mark.parametrize(("size1", "size2", "expected"), CONSISTENCY_PROOFS)
def test_published_consistency_proofs_verify_and_every_corruption_is_refused(
    verify: ConsistencyVerifier, size1: int, size2: int, expected: list[str]
) -> None:
    proof, r1, r2 = [bytes.fromhex(p) for p in expected], ROOTS[size1], ROOTS[size2]
    assert verify(size1, size2, proof, r1, r2)
    if proof:  # as in the Go test, only non-trivial proofs are corrupted
        accepted = [d for d, args in corrupt_consistency(size1, size2, r1, r2, proof).items() if verify(*args)]
        assert accepted == []


def expected_from_nodes(leaves: Sequence[bytes], nodes: Nodes, rehash: Rehash) -> list[bytes]:
    """The hashes a proof of these node IDs holds, folding the rehash range as Go's Nodes.Rehash."""
    hashes = [ref.mth(leaves[index << level : (index + 1) << level]) for level, index in nodes]
    if rehash is None:
        return hashes
    begin, end = rehash
    folded = hashes[begin]
    for h in hashes[begin + 1 : end]:
        folded = node_hash(h, folded)
    return [*hashes[:begin], folded, *hashes[end:]]


SYNTHETIC = [leaf_hash(str(i).encode()) for i in range(96)]  # genEntries of tree_test.go


@pytest.mark.parametrize(("size", "index", "nodes", "rehash"), INCLUSION_NODES)
def test_inclusion_proofs_are_made_of_the_published_nodes(size: int, index: int, nodes: Nodes, rehash: Rehash) -> None:
    expected = expected_from_nodes(SYNTHETIC, nodes, rehash)
    assert inclusion_proof(store_of(SYNTHETIC), index, size) == expected
    assert ref.inclusion_path(index, SYNTHETIC[:size]) == expected


@pytest.mark.parametrize(("size1", "size2", "nodes", "rehash"), CONSISTENCY_NODES)
def test_consistency_proofs_are_made_of_the_published_nodes(
    size1: int, size2: int, nodes: Nodes, rehash: Rehash
) -> None:
    expected = expected_from_nodes(SYNTHETIC, nodes, rehash)
    assert consistency_proof(store_of(SYNTHETIC), size1, size2) == expected
    assert ref.consistency_proof(size1, SYNTHETIC[:size2]) == expected


@pytest.mark.parametrize(("size", "index"), INCLUSION_NODE_ERRORS)
def test_inclusion_proofs_outside_the_tree_are_refused(size: int, index: int) -> None:
    with pytest.raises(ValueError, match="outside"):
        inclusion_proof(store_of(SYNTHETIC), index, size)


@pytest.mark.parametrize(("size1", "size2"), CONSISTENCY_NODE_ERRORS)
def test_consistency_proofs_back_in_time_are_refused(size1: int, size2: int) -> None:
    with pytest.raises(ValueError, match="no consistency proof"):
        consistency_proof(store_of(SYNTHETIC), size1, size2)


def test_the_stores_used_here_hold_only_persisted_levels() -> None:
    nodes = store_of(SYNTHETIC)
    assert nodes.node(4, 0) is not None
    assert all(nodes.node(level, 0) is None for level in range(8) if not should_persist(level))
