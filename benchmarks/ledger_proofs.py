"""Inclusion-proof verification on a 1,000,000-leaf ledger, beside its plain RFC 9162 peers.

Target: >= 50,000 inclusion-proof verifications per second. Three verifiers check the same
100,000 proofs of random leaves, interleaved over several rounds in one process (best round
kept, so a noisy neighbour hurts all three alike):

* ``fast``: :func:`truceline.ledger.verify_inclusion`, the closed-form loop;
* ``rfc``: :func:`truceline.ledger.reference.verify_inclusion`, the RFC §2.1.3.2 text step by step
  (the ratio is fast / rfc);
* ``recursive``: rebuilding the root by retracing the RFC's recursive PATH definition.

A tampered copy of every 100th proof must be refused by all three.

    python benchmarks/ledger_proofs.py [--leaves 1000000] [--proofs 100000] [--rounds 3]
"""

from __future__ import annotations

import argparse
import random
import sys
import time
from collections.abc import Callable, Sequence
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from _common import write_result
from truceline.ledger import Frontier, MemoryNodeStore, inclusion_proof, leaf_hash, verify_inclusion
from truceline.ledger import reference as ref
from truceline.ledger.hashing import node_hash

Verifier = Callable[[bytes, int, int, Sequence[bytes], bytes], bool]


def recursive_verify(leaf: bytes, index: int, size: int, path: Sequence[bytes], root: bytes) -> bool:
    """Rebuild the root by retracing RFC 9162's PATH recursion top-down (the plain way)."""

    def descend(m: int, n: int, proof: Sequence[bytes]) -> bytes | None:
        if n == 1:
            return leaf if not proof else None
        if not proof:
            return None
        k = ref.split_point(n)
        sibling, rest = proof[-1], proof[:-1]
        if m < k:
            below = descend(m, k, rest)
            return None if below is None else node_hash(below, sibling)
        below = descend(m - k, n - k, rest)
        return None if below is None else node_hash(sibling, below)

    return 0 <= index < size and descend(index, size, path) == root


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--leaves", type=int, default=1_000_000)
    ap.add_argument("--proofs", type=int, default=100_000)
    ap.add_argument("--rounds", type=int, default=3)
    args = ap.parse_args()
    n = args.leaves

    t = time.perf_counter()
    leaves = [leaf_hash(i.to_bytes(8, "big")) for i in range(n)]
    frontier, nodes = Frontier(), MemoryNodeStore()
    nodes.put_nodes(frontier.extend(leaves))
    nodes.put_leaves(0, leaves)
    root = frontier.root()
    build = time.perf_counter() - t

    rng = random.Random(9162)
    indices = [rng.randrange(n) for _ in range(args.proofs)]
    t = time.perf_counter()
    proofs = [inclusion_proof(nodes, i, n) for i in indices]
    generate = time.perf_counter() - t
    work = [(leaves[i], i, p) for i, p in zip(indices, proofs, strict=True)]

    verifiers: dict[str, Verifier] = {
        "fast": verify_inclusion,
        "rfc": ref.verify_inclusion,
        "recursive": recursive_verify,
    }
    tampered = [(leaf, i, [*p[:-1], bytes([p[-1][0] ^ 1]) + p[-1][1:]]) for leaf, i, p in work[::100]]
    for label, verify in verifiers.items():
        assert not any(verify(leaf, i, n, p, root) for leaf, i, p in tampered), f"{label} accepted a forgery"

    best = dict.fromkeys(verifiers, float("inf"))
    for _ in range(args.rounds):
        for label, verify in verifiers.items():
            t = time.perf_counter()
            ok = all([verify(leaf, i, n, p, root) for leaf, i, p in work])
            best[label] = min(best[label], time.perf_counter() - t)
            assert ok, f"{label} refused an honest proof"
    rate = {label: args.proofs / seconds for label, seconds in best.items()}

    print(f"tree of {n:,} leaves built in {build:.1f} s; {args.proofs:,} proofs made in {generate:.1f} s")
    print(f"{'verifier':<34}{'verifications/s':>18}{'vs rfc':>9}")
    names = {
        "fast": "verify_inclusion (closed form)",
        "rfc": "RFC 9162 §2.1.3.2 step by step",
        "recursive": "recursive PATH retrace",
    }
    for label, name in names.items():
        print(f"{name:<34}{rate[label]:>18,.0f}{rate[label] / rate['rfc']:>9.2f}")
    print(f"target: >= 50,000 verifications/s: {'met' if rate['fast'] >= 50_000 else 'NOT met'}")
    write_result(
        "ledger_proofs",
        {
            "leaves": n,
            "proofs": args.proofs,
            "rounds": args.rounds,
            "verifications_per_s": round(rate["fast"]),
            "reference_per_s": round(rate["rfc"]),
            "recursive_per_s": round(rate["recursive"]),
            "ratio": round(rate["fast"] / rate["rfc"], 3),
            "ratio_vs_recursive": round(rate["fast"] / rate["recursive"], 3),
            "proofs_generated_per_s": round(args.proofs / generate),
            "build_s": round(build, 2),
            "targets": {"verifications_per_s": 50_000},
            "met": rate["fast"] >= 50_000,
        },
    )


if __name__ == "__main__":
    main()
