"""The audit recomputes a log from its records and names the first record to look at."""

from __future__ import annotations

import tracemalloc
from collections.abc import Iterator
from dataclasses import dataclass, replace
from datetime import UTC, datetime

from truceline.ledger import (
    EMPTY_ROOT,
    AuditReport,
    Frontier,
    LedgerKey,
    MemoryNodeStore,
    SignedTreeHead,
    audit_log,
    leaf_hash,
)

T0 = datetime(2026, 3, 1, tzinfo=UTC)
Record = tuple[str, bytes, bytes]


@dataclass
class Log:
    records: list[Record]
    heads: list[SignedTreeHead]
    key: LedgerKey
    nodes: MemoryNodeStore

    def audit(self, records: list[Record] | None = None, heads: list[SignedTreeHead] | None = None) -> AuditReport:
        return audit_log(
            self.records if records is None else records, self.heads if heads is None else heads, self.key.public_key
        )


def name(i: int) -> str:
    return f"observation #{i + 1} (USA/ac-{i:02d}/k1)"


def build_log(n: int, every: int) -> Log:
    """n records, a signed head after every ``every`` records and at the end, as a store keeps them."""
    key = LedgerKey.generate()
    frontier, nodes = Frontier(), MemoryNodeStore()
    records: list[Record] = []
    heads: list[SignedTreeHead] = []
    for i in range(n):
        body = f'{{"record": {i}, "snr_db": 14.0}}'.encode()
        records.append((name(i), body, leaf_hash(body)))
        nodes.put_nodes(frontier.extend([records[-1][2]]))
        if (i + 1) % every == 0 or i == n - 1:
            heads.append(key.sign_tree_head(frontier.size, frontier.root(), T0))
    nodes.put_leaves(0, [r[2] for r in records])
    return Log(records, heads, key, nodes)


def first(report: AuditReport) -> tuple[str, str]:
    assert not report.ok and report.first_error is not None, report.summary()
    return report.first_error.record, report.first_error.reason


def test_a_clean_log_audits_ok_with_and_without_stored_nodes() -> None:
    log = build_log(100, 10)
    for nodes in (None, log.nodes):
        report = audit_log(log.records, log.heads, log.key.public_key, nodes)
        assert report.ok and report.first_error is None
        assert (report.records_checked, report.tree_heads_checked) == (100, 10)
        assert report.summary().startswith("ok: 100 records and 10 signed tree heads verified")


def test_records_newer_than_the_latest_head_are_counted_not_failed() -> None:
    log = build_log(30, 10)
    extra = b'{"record": 30}'
    report = log.audit([*log.records, (name(30), extra, leaf_hash(extra))])
    assert report.ok and report.records_after_last_head == 1
    assert "1 newer records not yet under a signed head" in report.summary()


def test_a_flipped_byte_in_one_record_names_exactly_that_record() -> None:
    log = build_log(100, 10)
    records = list(log.records)
    record, body, stored = records[41]
    records[41] = (record, body.replace(b"14.0", b"15.0"), stored)
    assert first(log.audit(records)) == (name(41), "stored bytes do not match their ledger leaf hash")


def test_a_changed_leaf_hash_names_that_record() -> None:
    log = build_log(50, 5)
    records = list(log.records)
    records[7] = (records[7][0], records[7][1], bytes(32))
    assert first(log.audit(records))[0] == name(7)


def test_a_consistent_rewrite_of_bytes_and_leaf_hash_is_caught_by_the_signed_head() -> None:
    log = build_log(60, 10)
    records = list(log.records)
    forged = b'{"record": "forged"}'
    records[33] = (records[33][0], forged, leaf_hash(forged))
    record, reason = first(log.audit(records))
    # the head at 40 no longer matches: the range since the good head at 30 is named
    assert record == name(30) and "signed tree head of size 40" in reason


def test_with_one_head_per_record_a_rewrite_names_the_exact_record() -> None:
    log = build_log(30, 1)
    records = list(log.records)
    forged = b'{"record": "forged"}'
    records[19] = (records[19][0], forged, leaf_hash(forged))
    assert first(log.audit(records))[0] == name(19)


def test_a_consistent_rewrite_is_narrowed_to_the_stored_node_that_covers_it() -> None:
    log = build_log(64, 64)
    records = list(log.records)
    forged = b'{"record": "forged"}'
    records[40] = (records[40][0], forged, leaf_hash(forged))
    record, reason = first(audit_log(records, log.heads, log.key.public_key, log.nodes))
    assert record == "ledger node (level 4, index 2)" and "#33…#48" in reason


def test_a_deleted_record_is_caught_in_its_signed_range() -> None:
    log = build_log(40, 4)
    record, reason = first(log.audit(log.records[:17] + log.records[18:]))
    assert record == name(16) and "#20" in reason  # the range 17…20 signed by the head of size 20


def test_an_inserted_record_is_caught_in_its_signed_range() -> None:
    log = build_log(40, 4)
    extra = b'{"record": "inserted"}'
    records = [*log.records[:9], ("observation #x", extra, leaf_hash(extra)), *log.records[9:]]
    assert first(log.audit(records))[0] == name(8)


def test_reordered_records_are_caught_in_their_signed_range() -> None:
    log = build_log(40, 4)
    records = list(log.records)
    records[5], records[6] = records[6], records[5]
    record, reason = first(log.audit(records))
    assert record == name(4) and "signed tree head of size 8" in reason


def test_records_missing_at_the_end_are_named_from_the_first_missing() -> None:
    log = build_log(40, 4)
    record, reason = first(log.audit(log.records[:-3]))
    assert record == "record #38" and "missing" in reason and "40" in reason


def test_a_tree_head_signed_by_another_key_is_named() -> None:
    log = build_log(64, 16)
    other = LedgerKey.generate()
    forged = other.sign_tree_head(48, bytes.fromhex(log.heads[2].root_hash), T0)
    record, reason = first(log.audit(heads=[*log.heads[:2], forged, log.heads[3]]))
    assert record == "signed tree head of size 48" and "signature" in reason


def test_a_tree_head_with_an_altered_root_is_named() -> None:
    log = build_log(30, 10)
    heads = [log.heads[0], replace(log.heads[1], root_hash="00" * 32), log.heads[2]]
    assert first(log.audit(heads=heads))[0] == "signed tree head of size 20"


def test_a_signed_head_beyond_the_records_is_still_checked() -> None:
    log = build_log(20, 10)
    stranger = LedgerKey.generate().sign_tree_head(25, bytes(32), T0)
    assert first(log.audit(heads=[*log.heads, stranger]))[0] == "signed tree head of size 25"


def test_a_head_of_the_empty_tree_must_sign_the_empty_root() -> None:
    log = build_log(10, 10)
    good = log.key.sign_tree_head(0, EMPTY_ROOT, T0)
    assert log.audit(heads=[good, *log.heads]).tree_heads_checked == 2
    bad = log.key.sign_tree_head(0, bytes(32), T0)
    record, reason = first(log.audit(heads=[bad, *log.heads]))
    assert record == "signed tree head of size 0" and "do not match" in reason


def test_a_second_head_of_one_size_with_another_root_is_named() -> None:
    log = build_log(20, 10)
    liar = log.key.sign_tree_head(10, bytes(32), T0.replace(hour=1))
    # the records matched the first head of size 10, so the head that disagrees is the one named
    assert first(log.audit(heads=[*log.heads, liar]))[0] == "signed tree head of size 10"


def test_a_corrupt_or_missing_stored_node_is_named_with_its_records() -> None:
    log = build_log(64, 16)
    log.nodes.put_nodes([(4, 1, bytes(32))])
    record, reason = first(audit_log(log.records, log.heads, log.key.public_key, log.nodes))
    assert record == "ledger node (level 4, index 1)" and "#17…#32" in reason
    bare = MemoryNodeStore()
    bare.put_leaves(0, [r[2] for r in log.records])
    record, reason = first(audit_log(log.records, log.heads, log.key.public_key, bare))
    assert record == "ledger node (level 4, index 0)" and reason.startswith("missing")


def test_the_first_problem_in_log_order_is_the_one_reported() -> None:
    log = build_log(40, 10)
    records = list(log.records)
    records[3] = (records[3][0], b"changed", records[3][2])
    heads = [*log.heads[:3], replace(log.heads[3], signature=log.heads[0].signature)]
    assert first(log.audit(records, heads))[0] == name(3)


def test_the_audit_streams_records_without_holding_them() -> None:
    key = LedgerKey.generate()
    n, size = 20_000, 2_000  # 40 MB of records if they were all held at once

    def records() -> Iterator[Record]:
        for i in range(n):
            body = i.to_bytes(4, "big") * (size // 4)
            yield name(i), body, leaf_hash(body)

    frontier = Frontier()
    frontier.extend([r[2] for r in records()])
    head = key.sign_tree_head(n, frontier.root(), T0)
    tracemalloc.start()
    try:
        report = audit_log(records(), [head], key.public_key)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert report.ok and report.records_checked == n
    assert peak < 1_000_000, peak


def build_batches(sizes: list[int], start: datetime = T0) -> tuple[list[tuple[str, bytes, bytes, float]], Log]:
    """A log written as a store writes it: one head per batch, signed at the batch's time."""
    key = LedgerKey.generate()
    frontier, nodes = Frontier(), MemoryNodeStore()
    items: list[tuple[str, bytes, bytes, float]] = []
    heads: list[SignedTreeHead] = []
    for b, size in enumerate(sizes):
        when = start.replace(second=b, microsecond=123_456)
        for _ in range(size):
            i = len(items)
            body = f'{{"record": {i}}}'.encode()
            items.append((name(i), body, leaf_hash(body), when.timestamp()))
            nodes.put_nodes(frontier.extend([items[-1][2]]))
        heads.append(key.sign_tree_head(frontier.size, frontier.root(), when))
    nodes.put_leaves(0, [r[2] for r in items])
    return items, Log([r[:3] for r in items], heads, key, nodes)


def test_with_batches_signed_a_store_log_audits_ok_and_times_are_checked() -> None:
    items, log = build_batches([3, 1, 5])
    report = audit_log(items, log.heads, log.key.public_key, log.nodes, batches_signed=True)
    assert report.ok and report.tree_heads_checked == 3, report.summary()


def test_with_batches_signed_a_record_past_the_latest_head_is_named() -> None:
    items, log = build_batches([3, 2])
    extra = b'{"record": "added"}'
    items.append(("observation #6 (added)", extra, leaf_hash(extra), items[-1][3]))
    record, reason = first(audit_log(items, log.heads, log.key.public_key, batches_signed=True))
    assert record == "observation #6 (added)" and "no signed tree head covers it" in reason
    # Without the promise, the same log is consistent so far, with one record not yet signed.
    assert audit_log(items, log.heads, log.key.public_key).records_after_last_head == 1


def test_with_batches_signed_a_deleted_latest_head_leaves_its_batch_named() -> None:
    items, log = build_batches([3, 4])
    record, reason = first(audit_log(items, log.heads[:1], log.key.public_key, batches_signed=True))
    assert record == name(3) and "4 record(s) from here to #7" in reason


def test_with_batches_signed_a_changed_time_is_named_at_its_record() -> None:
    items, log = build_batches([4, 4])
    moved = list(items)
    moved[5] = (*items[5][:3], items[5][3] + 0.5)  # inside the second batch
    record, reason = first(audit_log(moved, log.heads, log.key.public_key, batches_signed=True))
    assert record == name(5) and "differs from the rest of its batch" in reason
    moved = list(items)
    moved[4] = (*items[4][:3], items[4][3] - 3600)  # the batch's first record
    record, reason = first(audit_log(moved, log.heads, log.key.public_key, batches_signed=True))
    assert record == name(4) and "is not the time its batch was signed" in reason and "size 8" in reason
    # Every record of a batch moved together still disagrees with the signed head.
    moved = [(*r[:3], r[3] + 60) if i >= 4 else r for i, r in enumerate(items)]
    assert first(audit_log(moved, log.heads, log.key.public_key, batches_signed=True))[0] == name(4)


def test_a_time_that_is_not_a_number_never_matches() -> None:
    items, log = build_batches([2, 2])
    items[3] = (*items[3][:3], float("nan"))
    record, reason = first(audit_log(items, log.heads, log.key.public_key, batches_signed=True))
    assert record == name(3) and "not a time" in reason
