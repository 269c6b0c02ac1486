"""Act's record cache (a following process) reads what a full read gives, round after round."""

from __future__ import annotations

from datetime import timedelta

from tests.unit.act.factories import T0, assessment, finding, strike
from truceline.act.stage import INPUT_TYPES, RecordCache
from truceline.store import MemoryStore, Store


def _full(store: Store) -> dict[str, list[tuple[str, int]]]:
    return {t: [(s.id, s.seq) for s in store.records(t)] for t in INPUT_TYPES}


def _cached(cache: RecordCache, store: Store) -> dict[str, list[tuple[str, int]]]:
    return {t: [(s.id, s.seq) for s in v] for t, v in cache.read(store).items()}


def test_the_cache_reads_what_a_full_read_gives() -> None:
    store = MemoryStore()
    cache = RecordCache()
    assert _cached(cache, store) == {t: [] for t in INPUT_TYPES}
    for r in range(6):
        at = T0 + timedelta(hours=r)
        store.put_records([finding(f"f{i}", "ceasefire.fire", at=at, confidence=0.5 + r / 20) for i in range(r, r + 3)])
        store.put_record(strike(f"incident-{r}", at))
        if r % 2:  # older records rewritten keep their place
            store.put_record(finding("f0", "ceasefire.fire", at=at, confidence=0.99))
            store.put_record(assessment("CL-06", at.date().isoformat(), level=2 + r % 3))
        assert _cached(cache, store) == _full(store), r
    size = cache.size
    assert _cached(cache, store) == _full(store)
    assert cache.size == size  # nothing new: nothing read but the log's size
