"""Inclusion-proof verification on a 1,000,000-leaf ledger, beside the RFC's recursive definition.

Target (issue 2): ≥ 50,000 inclusion-proof verifications per second. The peer is the plain
reference: recomputing the root from the audit path with the recursive RFC 9162 definitions
(a straightforward transliteration of the RFC text), run on the same proofs in the same process.

    python benchmarks/ledger_proofs.py [--leaves 1000000] [--proofs 100000]
"""

from __future__ import annotations

import argparse
import random
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from _common import write_result
from truceline.ledger import Frontier, MemoryNodeStore, inclusion_proof, leaf_hash, should_persist, verify_inclusion
from truceline.ledger.hashing import node_hash


def reference_root_from_path(leaf: bytes, index: int, size: int, path: list[bytes]) -> bytes:
    """Rebuild the root by retracing RFC 9162's PATH recursion top-down (the plain way)."""

    def descend(m: int, n: int, proof: list[bytes]) -> bytes:
        if n == 1:
            return leaf
        k = 1
        while k * 2 < n:
            k *= 2
        sibling, rest = proof[-1], proof[:-1]
        if m < k:
            return node_hash(descend(m, k, rest), sibling)
        return node_hash(sibling, descend(m - k, n - k, rest))

    return descend(index, size, path)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--leaves", type=int, default=1_000_000)
    ap.add_argument("--proofs", type=int, default=100_000)
    args = ap.parse_args()
    t = time.perf_counter()
    nodes = MemoryNodeStore()
    frontier = Frontier()
    leaves = [leaf_hash(i.to_bytes(8, "big")) for i in range(args.leaves)]
    for leaf in leaves:
        nodes.put_nodes([n for n in frontier.append(leaf) if should_persist(n[0])])
    nodes.put_leaves(0, leaves)
    root = frontier.root()
    build = time.perf_counter() - t
    rng = random.Random(9162)
    indices = [rng.randrange(args.leaves) for _ in range(args.proofs)]
    t = time.perf_counter()
    proofs = [inclusion_proof(nodes, i, args.leaves) for i in indices]
    generate = time.perf_counter() - t
    results = {"fast": [], "reference": []}  # type: dict[str, list[float]]
    for _ in range(3):  # interleaved rounds; best of each kept
        t = time.perf_counter()
        ok = all(verify_inclusion(leaves[i], i, args.leaves, p, root) for i, p in zip(indices, proofs, strict=True))
        results["fast"].append(time.perf_counter() - t)
        assert ok
        t = time.perf_counter()
        ok = all(
            reference_root_from_path(leaves[i], i, args.leaves, p) == root for i, p in zip(indices, proofs, strict=True)
        )
        results["reference"].append(time.perf_counter() - t)
        assert ok
    fast = args.proofs / min(results["fast"])
    reference = args.proofs / min(results["reference"])
    print(f"tree of {args.leaves:,} leaves built in {build:.1f} s; {args.proofs:,} proofs made in {generate:.1f} s")
    print(f"{'':>28}{'verifications/s':>18}")
    print(f"{'verify_inclusion (RFC 9162)':>28}{fast:>18,.0f}")
    print(f"{'recursive reference':>28}{reference:>18,.0f}")
    print(f"{'ratio':>28}{fast / reference:>18.2f}   target: >= 50,000 verifications/s")
    write_result(
        "ledger_proofs",
        {
            "leaves": args.leaves,
            "proofs": args.proofs,
            "verifications_per_s": round(fast),
            "reference_per_s": round(reference),
            "proofs_generated_per_s": round(args.proofs / generate),
            "ratio": round(fast / reference, 3),
            "targets": {"verifications_per_s": 50_000},
            "met": fast >= 50_000,
        },
    )


if __name__ == "__main__":
    main()
