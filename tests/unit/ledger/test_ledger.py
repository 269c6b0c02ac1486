"""The evidence ledger against RFC 6962/9162 test vectors, its reference twin, and tampering."""

from __future__ import annotations

import itertools
import os
import random
from datetime import UTC, datetime
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from truceline.ledger import (
    EMPTY_ROOT,
    Frontier,
    LedgerKey,
    MemoryNodeStore,
    audit_log,
    consistency_proof,
    inclusion_proof,
    leaf_hash,
    root_at,
    should_persist,
    verify_consistency,
    verify_inclusion,
    verify_tree_head,
)
from truceline.ledger import reference as ref

# The RFC 6962 test data of the Certificate Transparency reference implementations, as published
# in transparency-dev/merkle (testonly/constants.go and proof/verify_test.go): eight leaves, the
# root of every size 1…8, and inclusion and consistency proofs for the 8-leaf tree.
LEAF_DATA = [
    bytes.fromhex(h)
    for h in ("", "00", "10", "2021", "3031", "40414243", "5051525354555657", "606162636465666768696a6b6c6d6e6f")
]
ROOTS = [
    "6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d",
    "fac54203e7cc696cf0dfcb42c92a1d9dbaf70ad9e621f4bd8d98662f00e3c125",
    "aeb6bcfe274b70a14fb067a5e5578264db0fa9b51af5e0ba159158f329e06e77",
    "d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7",
    "4e3bbb1f7b478dcfe71fb631631519a3bca12c9aefca1612bfce4c13a86264d4",
    "76e67dadbcdf1e10e1b74ddc608abd2f98dfb16fbce75277b5232a127f2087ef",
    "ddb89be403809e325750d3d263cd78929c2942b7942a34b77e122c9594a74c8c",
    "5dc9da79a70659a9ad559cb701ded9a2ab9d823aad2f4960cfe370eff4604328",
]
INCLUSION = [
    (0, 8, ["96a296d224f285c67bee93c30f8a309157f0daa35dc5b87e410b78630a09cfc7",
            "5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e",
            "6b47aaf29ee3c2af9af889bc1fb9254dabd31177f16232dd6aab035ca39bf6e4"]),
    (5, 8, ["bc1a0643b12e4d2d7c77918f44e0f4f79a838b6cf9ec5b5c283e1f4d88599e6b",
            "ca854ea128ed050b41b35ffc1b87b8eb2bde461e9e3b5596ece6b9d5975a0ae0",
            "d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7"]),
]  # fmt: skip
CONSISTENCY = [
    (2, 8, ["5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e",
            "6b47aaf29ee3c2af9af889bc1fb9254dabd31177f16232dd6aab035ca39bf6e4"]),
    (6, 8, ["0ebc5d3437fbe2db158b9f126a1d118e308181031d0a949f8dededebc558ef6a",
            "ca854ea128ed050b41b35ffc1b87b8eb2bde461e9e3b5596ece6b9d5975a0ae0",
            "d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7"]),
    (2, 5, ["5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e",
            "bc1a0643b12e4d2d7c77918f44e0f4f79a838b6cf9ec5b5c283e1f4d88599e6b"]),
]  # fmt: skip
LEAVES = [leaf_hash(d) for d in LEAF_DATA]
T0 = datetime(2026, 3, 1, tzinfo=UTC)


def store_of(leaves: list[bytes]) -> MemoryNodeStore:
    nodes = MemoryNodeStore()
    frontier = Frontier()
    for leaf in leaves:
        nodes.put_nodes([n for n in frontier.append(leaf) if should_persist(n[0])])
    nodes.put_leaves(0, leaves)
    return nodes


def test_empty_tree_root_is_sha256_of_nothing() -> None:
    assert EMPTY_ROOT.hex() == "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"
    assert Frontier().root() == EMPTY_ROOT == ref.mth([])


@pytest.mark.parametrize("size", range(1, 9))
def test_roots_match_the_published_vectors(size: int) -> None:
    frontier = Frontier()
    for leaf in LEAVES[:size]:
        frontier.append(leaf)
    assert frontier.root().hex() == ROOTS[size - 1]
    assert ref.mth(LEAVES[:size]).hex() == ROOTS[size - 1]
    assert root_at(store_of(LEAVES), size).hex() == ROOTS[size - 1]


@pytest.mark.parametrize(("index", "size", "expected"), INCLUSION)
def test_inclusion_proofs_match_the_published_vectors(index: int, size: int, expected: list[str]) -> None:
    proof = inclusion_proof(store_of(LEAVES), index, size)
    assert [p.hex() for p in proof] == expected
    assert [p.hex() for p in ref.inclusion_path(index, LEAVES[:size])] == expected
    assert verify_inclusion(LEAVES[index], index, size, proof, bytes.fromhex(ROOTS[size - 1]))


@pytest.mark.parametrize(("size1", "size2", "expected"), CONSISTENCY)
def test_consistency_proofs_match_the_published_vectors(size1: int, size2: int, expected: list[str]) -> None:
    proof = consistency_proof(store_of(LEAVES), size1, size2)
    assert [p.hex() for p in proof] == expected
    assert [p.hex() for p in ref.consistency_proof(size1, LEAVES[:size2])] == expected
    r1, r2 = bytes.fromhex(ROOTS[size1 - 1]), bytes.fromhex(ROOTS[size2 - 1])
    assert verify_consistency(size1, size2, proof, r1, r2)


def synthetic(n: int) -> list[bytes]:
    return [leaf_hash(i.to_bytes(4, "big")) for i in range(n)]


@settings(max_examples=40, deadline=None)
@given(st.integers(1, 300))
def test_fast_proofs_agree_with_the_reference_and_verify(n: int) -> None:
    leaves = synthetic(n)
    nodes = store_of(leaves)
    root = ref.mth(leaves)
    assert root_at(nodes, n) == root
    for i in range(n):
        proof = inclusion_proof(nodes, i, n)
        assert proof == ref.inclusion_path(i, leaves)
        assert verify_inclusion(leaves[i], i, n, proof, root)


def test_every_consistency_proof_of_small_trees_agrees_and_verifies() -> None:
    leaves = synthetic(40)
    nodes = store_of(leaves)
    for m, n in itertools.combinations_with_replacement(range(41), 2):
        proof = consistency_proof(nodes, m, n)
        assert proof == ref.consistency_proof(m, leaves[:n])
        assert verify_consistency(m, n, proof, ref.mth(leaves[:m]), ref.mth(leaves[:n]))


def test_proofs_need_only_the_persisted_levels() -> None:
    # 1,000 leaves: nodes at levels 4 and 8 are stored, everything else is rebuilt on demand.
    leaves = synthetic(1000)
    nodes = store_of(leaves)
    assert nodes.node(4, 0) is not None and nodes.node(1, 0) is None
    rng = random.Random(3)
    for i in rng.sample(range(1000), 25):
        assert inclusion_proof(nodes, i, 1000) == ref.inclusion_path(i, leaves)
    assert consistency_proof(nodes, 333, 1000) == ref.consistency_proof(333, leaves)


def test_tampered_proofs_fail() -> None:
    leaves = synthetic(37)
    nodes = store_of(leaves)
    root = ref.mth(leaves)
    proof = inclusion_proof(nodes, 11, 37)
    assert not verify_inclusion(leaves[12], 11, 37, proof, root)  # wrong leaf
    assert not verify_inclusion(leaves[11], 10, 37, proof, root)  # wrong index
    assert not verify_inclusion(leaves[11], 11, 70, proof, root)  # wrong size (another depth)
    assert not verify_inclusion(leaves[11], 11, 37, proof[:-1], root)  # truncated
    assert not verify_inclusion(leaves[11], 11, 37, [*proof, proof[0]], root)  # extended
    bad = [bytes([proof[0][0] ^ 1]) + proof[0][1:], *proof[1:]]
    assert not verify_inclusion(leaves[11], 11, 37, bad, root)
    assert not verify_inclusion(leaves[11], 37, 37, proof, root)  # index outside
    c = consistency_proof(nodes, 20, 37)
    r20 = ref.mth(leaves[:20])
    assert verify_consistency(20, 37, c, r20, root)
    assert not verify_consistency(20, 37, c, root, r20)
    assert not verify_consistency(21, 37, c, r20, root)
    assert not verify_consistency(20, 37, c[:-1], r20, root)
    assert not verify_consistency(20, 37, [], r20, root)


def test_extend_persists_exactly_what_append_would() -> None:
    leaves = synthetic(777)
    one, many = Frontier(), Frontier()
    expected = [n for leaf in leaves for n in one.append(leaf) if should_persist(n[0])]
    assert many.extend(leaves[:300]) + many.extend(leaves[300:]) == expected
    assert many.root() == one.root() == ref.mth(leaves)


def test_frontier_state_survives_a_restart() -> None:
    leaves = synthetic(77)
    f = Frontier()
    for leaf in leaves[:50]:
        f.append(leaf)
    g = Frontier.from_state(*f.to_state())
    for leaf in leaves[50:]:
        g.append(leaf)
    assert g.root() == ref.mth(leaves)
    with pytest.raises(ValueError, match="hashes"):
        Frontier.from_state(5, [])


def test_signed_tree_head_round_trip_and_tampering() -> None:
    key = LedgerKey.generate()
    head = key.sign_tree_head(8, bytes.fromhex(ROOTS[7]), T0)
    assert verify_tree_head(head, key.public_key)
    assert head.timestamp == T0
    again = type(head).from_json(head.to_json())
    assert again == head and verify_tree_head(again, key.public_key)
    flipped_sig = bytes.fromhex(head.signature)
    forged = type(head)(head.tree_size, head.root_hash, head.timestamp_ms, head.key_id,
                        (bytes([flipped_sig[0] ^ 1]) + flipped_sig[1:]).hex())  # fmt: skip
    assert not verify_tree_head(forged, key.public_key)
    other_root = type(head)(head.tree_size, ROOTS[6], head.timestamp_ms, head.key_id, head.signature)
    assert not verify_tree_head(other_root, key.public_key)
    assert not verify_tree_head(head, LedgerKey.generate().public_key)


def test_key_files_are_private_and_reload(tmp_path: Path) -> None:
    path = tmp_path / "ledger.key"
    key = LedgerKey.load_or_create(path)
    assert (path.stat().st_mode & 0o777) == 0o600
    assert (tmp_path / "ledger.key.pub").exists()
    assert LedgerKey.load_or_create(path).key_id == key.key_id
    assert os.path.getsize(path) > 0


def build_log(n: int, every: int) -> tuple[list[tuple[str, bytes, bytes]], list, LedgerKey, MemoryNodeStore]:  # type: ignore[type-arg]
    key = LedgerKey.generate()
    frontier = Frontier()
    nodes = MemoryNodeStore()
    records = []
    heads = []
    for i in range(n):
        body = f'{{"record": {i}}}'.encode()
        lh = leaf_hash(body)
        records.append((f"record #{i + 1}", body, lh))
        nodes.put_nodes([x for x in frontier.append(lh) if should_persist(x[0])])
        if (i + 1) % every == 0 or i == n - 1:
            heads.append(key.sign_tree_head(frontier.size, frontier.root(), T0))
    nodes.put_leaves(0, [r[2] for r in records])
    return records, heads, key, nodes


def test_a_clean_log_audits_ok() -> None:
    records, heads, key, nodes = build_log(100, 10)
    report = audit_log(records, heads, key.public_key, nodes)
    assert report.ok and report.records_checked == 100 and report.tree_heads_checked == 10
    assert "ok" in report.summary()


def test_audit_names_a_record_whose_bytes_changed() -> None:
    records, heads, key, _ = build_log(100, 10)
    name, body, lh = records[41]
    records[41] = (name, body.replace(b"41", b"14"), lh)
    report = audit_log(records, heads, key.public_key)
    assert not report.ok and report.first_error is not None
    assert report.first_error.record == "record #42"


def test_audit_names_a_record_whose_leaf_hash_changed() -> None:
    records, heads, key, _ = build_log(50, 5)
    name, body, _ = records[7]
    records[7] = (name, body, bytes(32))
    report = audit_log(records, heads, key.public_key)
    assert report.first_error is not None and report.first_error.record == "record #8"


def test_audit_catches_a_consistent_rewrite_through_the_signed_heads() -> None:
    records, heads, key, _ = build_log(30, 1)
    forged = b'{"record": "forged"}'
    records[19] = (records[19][0], forged, leaf_hash(forged))
    report = audit_log(records, heads, key.public_key)
    assert report.first_error is not None and report.first_error.record == "record #20"


def test_audit_catches_deletion_and_reordering() -> None:
    records, heads, key, _ = build_log(40, 4)
    deleted = records[:17] + records[18:]
    report = audit_log(deleted, heads, key.public_key)
    assert not report.ok
    swapped = list(records)
    swapped[5], swapped[6] = swapped[6], swapped[5]
    report = audit_log(swapped, heads, key.public_key)
    assert not report.ok and report.first_error is not None  # named by the range its signed head covers
    assert report.first_error.record == "record #5" and "#8" in report.first_error.reason
    truncated = records[:-3]
    report = audit_log(truncated, heads, key.public_key)
    assert not report.ok and report.first_error is not None and "missing" in report.first_error.reason


def test_audit_catches_a_forged_tree_head_and_a_corrupt_stored_node() -> None:
    records, heads, key, nodes = build_log(64, 16)
    other = LedgerKey.generate()
    forged = [*heads[:-1], other.sign_tree_head(heads[-1].tree_size, bytes.fromhex(heads[-1].root_hash), T0)]
    report = audit_log(records, forged, key.public_key)
    assert not report.ok and report.first_error is not None and "signature" in report.first_error.reason
    nodes.put_nodes([(4, 1, bytes(32))])
    report = audit_log(records, heads, key.public_key, nodes)
    assert not report.ok and report.first_error is not None and "ledger node" in report.first_error.record
