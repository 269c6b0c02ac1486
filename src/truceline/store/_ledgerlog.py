"""Book-keeping shared by every store for one Merkle log: the frontier and signed tree heads.

The store owns persistence; this class only turns appended leaf hashes into the nodes worth
persisting and signs a tree head for each acknowledged batch.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from truceline.ledger import Frontier, LedgerKey, SignedTreeHead


class LedgerLog:
    """The append side of one log: frontier, persisted-node selection, tree-head signing."""

    def __init__(self, name: str, key: LedgerKey, frontier: Frontier | None = None) -> None:
        self.name = name
        self.key = key
        self.frontier = frontier if frontier is not None else Frontier()

    @property
    def size(self) -> int:
        return self.frontier.size

    def append(self, leaf_hashes: Sequence[bytes]) -> list[tuple[int, int, bytes]]:
        """Append leaves; return the completed nodes the store must persist (level > 0)."""
        return self.frontier.extend(leaf_hashes)

    def sign(self, timestamp: datetime) -> SignedTreeHead:
        return self.key.sign_tree_head(self.frontier.size, self.frontier.root(), timestamp)

    def snapshot(self) -> Frontier:
        return Frontier.from_state(*self.frontier.to_state())
