"""The contract every Store passes: memory and SQLite now, PostgreSQL when it lands.

Each test takes the ``store`` fixture, parametrised over every implementation.
"""

from __future__ import annotations

import itertools
import json
from collections.abc import Iterator
from dataclasses import replace
from datetime import timedelta
from pathlib import Path

import pytest

from tests.conftest import NOW, OBSERVATION_KINDS_UNDER_TEST, fresh_postgres_database, observation_dict
from truceline.ledger import LedgerKey, verify_consistency, verify_inclusion
from truceline.model import (
    Assessment,
    CreationInfo,
    Driver,
    FixedClock,
    Incident,
    Markings,
    ObservationRef,
    observation_adapter,
)
from truceline.store import MemoryStore, ObservationQuery, PreparedObservation, SQLiteStore, Store
from truceline.store._common import matches
from truceline.store.postgres import PostgresStore


@pytest.fixture(params=["memory", "sqlite", "postgres"])
def store(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Store]:
    clock = FixedClock(NOW)
    if request.param == "postgres":
        with fresh_postgres_database() as url:
            pg: Store = PostgresStore(url, clock=clock, key=LedgerKey.generate())
            yield pg
            pg.close()
        return
    s: Store = MemoryStore(clock=clock) if request.param == "memory" else SQLiteStore(tmp_path / "t.db", clock=clock)
    yield s
    s.close()


def prepared(i: int, kind: str = "acoustic_arrival", **over: object) -> PreparedObservation:
    body = json.dumps(observation_dict(i, kind, **over)).encode()
    return PreparedObservation(observation_adapter.validate_json(body), body)  # type: ignore[arg-type]


def batch(n: int, start: int = 0) -> list[PreparedObservation]:
    kinds = OBSERVATION_KINDS_UNDER_TEST
    return [prepared(i, kinds[i % len(kinds)]) for i in range(start, start + n)]


def test_a_batch_gets_contiguous_sequence_numbers(store: Store) -> None:
    result = store.add_observations(batch(25))
    assert result.seqs == tuple(range(1, 26))
    assert (result.inserted, result.duplicates, result.conflicts) == (25, 0, ())
    assert store.max_seq() == 25
    assert result.tree_head is not None and result.tree_head.tree_size == 25


def test_a_stored_observation_reads_back_equal(store: Store) -> None:
    items = batch(13)
    store.add_observations(items)
    for item in items:
        got = store.get_observation(*item.observation.dedup_key)
        assert got is not None and got.observation == item.observation


def test_many_observations_read_back_in_one_call_as_one_by_one(store: Store) -> None:
    items = batch(700)  # more than one chunk of keys in the SQLite store
    store.add_observations(items[:650])
    keys = [item.observation.dedup_key for item in items]
    keys += [("USA", "nowhere", "missing"), keys[3], ("UKR", keys[0][1], keys[0][2])]  # absent, repeated, mixed
    found = store.get_observations(keys)
    expected = {k: store.get_observation(*k) for k in keys}
    assert found == {k: v for k, v in expected.items() if v is not None}
    assert len(found) == 650
    assert store.get_observations([]) == {}


def test_source_activity_agrees_with_its_reference(store: Store) -> None:
    from truceline.store._common import source_activity_of

    items = []
    for i in range(240):  # 6 sources of two participants; each source moves once, so "first" matters
        participant, source = ("USA", "GBR")[i % 2], f"array-{i % 6}"
        where = {"lat": 48.0 + (i % 6) / 10 + (0.05 if i >= 120 else 0.0), "lon": 37.5 + (i % 6) / 10}
        items.append(
            prepared(
                i,
                "acoustic_arrival" if i % 5 else "radar_track",
                participant=participant,
                source=source,
                markings={"tlp": "green", "originator": participant},
                location={**observation_dict(i)["location"], **where},
            )
        )
    store.add_observations(items[::-1])  # ledger order differs from time order
    window = ObservationQuery(
        kinds=("acoustic_arrival",), start=NOW - timedelta(hours=6) + timedelta(seconds=30),
        end=NOW - timedelta(hours=6) + timedelta(seconds=200),
    )  # fmt: skip
    boxed = ObservationQuery(bbox=(37.45, 47.9, 37.75, 48.25), end=NOW)
    for query in (window, boxed, ObservationQuery(), ObservationQuery(participants=("GBR",), limit=3)):
        got = store.source_activity(query)
        assert got == source_activity_of(store.observations(replace(query, limit=None)))
        assert got, query
    got = store.source_activity(window)
    assert [(a.participant, a.source) for a in got] == sorted((a.participant, a.source) for a in got)
    assert sum(a.count for a in got) == store.count_observations(window)
    assert store.source_activity(ObservationQuery(kinds=("claim",))) == []


def test_source_hours_agree_with_their_reference(store: Store) -> None:
    """The hourly per-source summary (kept at ingest on PostgreSQL) equals the reference over the
    stored reports: across batches, re-sent duplicates (not counted twice), a batch replayed row
    by row, reports a microsecond either side of an hour, a source that moves, and the box."""
    from truceline.store._common import source_hours_of

    base = NOW - timedelta(hours=6)
    edge = base.replace(minute=0, second=0, microsecond=0) + timedelta(hours=2)

    def report(i: int, kind: str = "acoustic_arrival", at: object = None) -> PreparedObservation:
        participant, source = ("USA", "GBR")[i % 2], f"array-{i % 5}"
        when = base + timedelta(minutes=7 * i) if at is None else at
        where = {"lat": 48.0 + (i % 5) / 10 + (0.05 if i >= 40 else 0.0), "lon": 37.5 + (i % 5) / 10}
        return prepared(
            i, kind, participant=participant, source=source, time=when.isoformat().replace("+00:00", "Z"),  # type: ignore[attr-defined]
            markings={"tlp": "green", "originator": participant},
            location={**observation_dict(i)["location"], **where},
        )  # fmt: skip

    first = [report(i, "acoustic_arrival" if i % 4 else "radar_track") for i in range(60)]
    store.add_observations(first[:30][::-1])  # ledger order differs from time order
    assert store.source_hours("acoustic_arrival", base, base + timedelta(hours=8))  # a summary made now ...
    store.add_observations(first[20:])  # ... goes on: ten re-sent (duplicates, replayed row by row)
    store.add_observations([report(100, at=edge - timedelta(microseconds=1)), report(101, at=edge)])
    store.add_observations(first[40:45])  # a batch of nothing but duplicates
    everything = list(store.observations())
    assert len(everything) == 62

    windows = [
        (base, base + timedelta(hours=8), None),
        (base + timedelta(minutes=90), base + timedelta(minutes=150), None),  # parts of two hours
        (edge - timedelta(minutes=1), edge - timedelta(seconds=1), None),  # the hour before the edge only
        (edge, edge + timedelta(seconds=1), None),  # the hour after it only
        (base, base + timedelta(hours=8), (37.45, 47.9, 37.75, 48.25)),
        (base + timedelta(hours=3), base + timedelta(hours=3), None),  # empty window
    ]
    for start, end, box in windows:
        for kind in ("acoustic_arrival", "radar_track"):
            got = store.source_hours(kind, start, end, box)
            assert got == source_hours_of(everything, kind, start, end, box), (kind, start, end, box)
    whole = store.source_hours("acoustic_arrival", base, base + timedelta(hours=8))
    assert sum(a.count for a in whole) == sum(1 for s in everything if s.observation.kind == "acoustic_arrival")
    before = store.source_hours("acoustic_arrival", edge - timedelta(minutes=1), edge - timedelta(seconds=1))
    assert any(a.last == edge - timedelta(microseconds=1) for a in before)
    assert all(a.last < edge for a in before)
    assert store.source_hours("claim", base, base + timedelta(hours=8)) == []


def test_kind_counts_agree_with_their_reference(store: Store) -> None:
    from truceline.store._common import kind_counts_of

    kinds = ("acoustic_arrival", "radar_track", "claim")
    store.add_observations([prepared(i, kinds[i % 7 % 3]) for i in range(70)])
    last = store.max_seq()
    for after, upto in ((0, last), (0, 0), (5, 17), (40, last), (last, last + 10), (69, 70)):
        got = store.kind_counts(after, upto)
        assert got == kind_counts_of(store.observations(), after, upto), (after, upto)
        assert sum(got.values()) == max(0, min(upto, last) - after)
    assert set(store.kind_counts(0, last)) == set(kinds)


def test_observation_fields_agree_with_their_reference(store: Store) -> None:
    from truceline.store._common import observation_fields_of

    kinds = ("acoustic_arrival", "radar_track", "claim")
    items = [prepared(i, kinds[i % 3]) for i in range(60)]
    store.add_observations(items[::-1])
    bodies = {item.observation.dedup_key: item.body for item in items}
    fields = ("bearing_deg", "time_error_s", "markings", "no_such_field", "kind")
    for query in (
        ObservationQuery(),
        ObservationQuery(after_seq=17, kinds=("acoustic_arrival",)),
        ObservationQuery(kinds=("claim", "radar_track"), limit=5),
        ObservationQuery(start=NOW - timedelta(hours=7), end=NOW - timedelta(hours=5, minutes=59)),
        ObservationQuery(bbox=(37.45, 47.9, 37.75, 48.25)),
    ):
        got = list(store.observation_fields(query, fields))
        stored = store.observations(query)
        want = list(observation_fields_of(((o, bodies[o.observation.dedup_key]) for o in stored), fields))
        assert len(got) == len(want), query
        for g, w in zip(got, want, strict=True):
            assert g[:4] == w[:4] and g[7:] == w[7:], (g, w)
            assert g[4] == pytest.approx(w[4], abs=1e-6)
            assert (g[5], g[6]) == pytest.approx((w[5], w[6]), abs=1e-9)
    rows = list(store.observation_fields(ObservationQuery(kinds=("acoustic_arrival",)), ("markings", "nope")))
    assert rows and all(isinstance(r[7], dict) and r[7]["tlp"] and r[8] is None for r in rows)


def test_resending_a_batch_changes_nothing(store: Store) -> None:
    items = batch(10)
    first = store.add_observations(items)
    head = store.tree_head()
    again = store.add_observations(items)
    assert again.inserted == 0 and again.duplicates == 10
    assert again.seqs == first.seqs
    assert store.max_seq() == 10
    assert store.tree_head() == head


def test_resend_differing_only_in_json_formatting_is_a_duplicate(store: Store) -> None:
    d = observation_dict(1)
    store.add_observations([prepared(1)])
    pretty = json.dumps(d, indent=2, sort_keys=True).encode()
    result = store.add_observations([PreparedObservation(observation_adapter.validate_json(pretty), pretty)])  # type: ignore[arg-type]
    assert result.duplicates == 1 and not result.conflicts


def test_a_key_reused_for_different_content_is_a_conflict_and_not_stored(store: Store) -> None:
    store.add_observations([prepared(1)])
    changed = prepared(1, snr_db=99.0)
    result = store.add_observations([prepared(2), changed, prepared(3)])
    assert result.inserted == 2
    assert len(result.conflicts) == 1 and result.conflicts[0].index == 1 and result.conflicts[0].existing_seq == 1
    assert result.seqs == (2, None, 3)
    stored = store.get_observation(*changed.observation.dedup_key)
    assert stored is not None and stored.observation.snr_db == 14.0  # type: ignore[attr-defined]


def test_duplicates_inside_one_batch_are_stored_once(store: Store) -> None:
    result = store.add_observations([prepared(1), prepared(2), prepared(1)])
    assert result.inserted == 2 and result.duplicates == 1
    assert result.seqs == (1, 2, 1)


def test_same_key_from_another_participant_is_a_different_report(store: Store) -> None:
    a = prepared(1)
    b = prepared(1, participant="GBR", markings={"tlp": "green", "originator": "GBR"})
    assert store.add_observations([a, b]).inserted == 2


@pytest.mark.parametrize(
    "query",
    [
        ObservationQuery(),
        ObservationQuery(after_seq=7),
        ObservationQuery(kinds=("acoustic_arrival", "claim")),
        ObservationQuery(participants=("RUS",)),
        ObservationQuery(start=NOW - timedelta(hours=6, seconds=-10), end=NOW - timedelta(hours=6, seconds=-30)),
        ObservationQuery(bbox=(37.0, 47.5, 38.0, 48.5)),
        ObservationQuery(bbox=(38.0, 48.05, 38.5, 48.5)),
        ObservationQuery(kinds=("acoustic_arrival",), limit=2),
    ],
    ids=["all", "after", "kinds", "participants", "time", "bbox", "bbox-empty", "limit"],
)
def test_queries_agree_with_the_reference_filter(store: Store, query: ObservationQuery) -> None:
    items = batch(40)
    store.add_observations(items)
    expected = [i + 1 for i, it in enumerate(items) if matches(query, i + 1, it.observation)]
    if query.limit is not None:
        expected = expected[: query.limit]
    got = [s.seq for s in store.observations(query)]
    assert got == expected
    if query.limit is None:
        assert store.count_observations(query) == len(expected)


def _incident(rid: str, n: int) -> Incident:
    return Incident(
        id=rid,
        start=NOW,
        end=NOW + timedelta(seconds=n),
        observations=(ObservationRef(participant="USA", source="ac-017", key=f"k{n}"),),
        markings=Markings(tlp="green", originator="USA"),
        creation_info=CreationInfo(agent="test", created=NOW),
    )


def test_derived_records_keep_every_version(store: Store) -> None:
    store.put_record(_incident("incident--a", 1))
    store.put_record(_incident("incident--b", 1))
    v2 = store.put_record(_incident("incident--a", 2))
    assert v2.version == 2 and v2.type == "incident"
    latest = store.get_record("incident", "incident--a")
    assert latest is not None and latest.version == 2 and latest.record == _incident("incident--a", 2)
    first = store.get_record("incident", "incident--a", 1)
    assert first is not None and first.record == _incident("incident--a", 1)
    assert [r.id for r in store.records("incident")] == ["incident--a", "incident--b"]
    assert [r.version for r in store.records("incident")] == [2, 1]
    assert [r.version for r in store.record_history("incident", "incident--a")] == [1, 2]
    assert store.get_record("incident", "nope") is None


def test_records_after_a_cursor_include_those_rewritten_since(store: Store) -> None:
    a1 = store.put_record(_incident("incident--a", 1))
    store.put_record(_incident("incident--b", 1))
    cursor = store.put_record(_incident("incident--c", 1)).seq
    assert [r.id for r in store.records("incident", after_seq=cursor)] == []
    store.put_record(_incident("incident--a", 2))  # rewritten after the cursor: new to its holder
    store.put_record(_incident("incident--d", 1))
    got = list(store.records("incident", after_seq=cursor))
    assert [(r.id, r.version) for r in got] == [("incident--a", 2), ("incident--d", 1)]  # by first appearance
    assert [r.id for r in store.records("incident", after_seq=a1.seq - 1)] == [
        "incident--a", "incident--b", "incident--c", "incident--d",
    ]  # fmt: skip


def test_records_rewritten_out_of_order_keep_their_first_appearance(store: Store) -> None:
    store.put_record(_incident("incident--a", 1))
    store.put_record(_incident("incident--b", 1))
    cursor = store.put_record(_incident("incident--c", 1)).seq
    store.put_record(_incident("incident--b", 2))  # b rewritten before a: still after a in the order
    store.put_record(_incident("incident--a", 2))
    store.put_record(_incident("incident--a", 3))
    got = list(store.records("incident", after_seq=cursor))
    assert [(r.id, r.version) for r in got] == [("incident--a", 3), ("incident--b", 2)]
    assert [r.id for r in store.records("incident", after_seq=10**9)] == []


def _assessment(day: str, **escalation: object) -> Assessment:
    return Assessment(
        id=f"assessment:CL-07:{day}",
        sector="CL-07",
        day=day,
        warning_level=3,
        p_offensive_7d=0.05,
        p_offensive_14d=0.1,
        drivers=(Driver(indicator="hawkes", value=0.61, contribution=0.0, description="branching ratio 0.61"),),
        markings=Markings(tlp="green", originator="MVM"),
        creation_info=CreationInfo(agent="test", created=NOW),
        **escalation,  # type: ignore[arg-type]
    )


def test_an_assessment_s_escalation_fields_read_back_and_older_records_without_them_still_load(store: Store) -> None:
    fitted = _assessment(
        "2026-09-02", branching_ratio=0.61, branching_ratio_se=0.043, retaliation_ukr=0.31, retaliation_ukr_se=0.05,
        retaliation_rus=0.0, retaliation_rus_se=None, escalation_events=1234, escalation_window_days=14.0,
        escalation_decay_per_hour=2.03,
    )  # fmt: skip
    older = _assessment("2026-09-01", branching_ratio=0.5)  # as stored before the fields existed
    store.put_records([fitted, older])
    got = store.get_record("assessment", fitted.id)
    assert got is not None and got.record == fitted
    back = store.get_record("assessment", older.id)
    assert back is not None and back.record == older
    assert isinstance(back.record, Assessment) and back.record.branching_ratio_se is None
    assert back.record.escalation_events is None


def test_a_batch_of_records_is_one_transaction_with_consecutive_versions(store: Store) -> None:
    store.put_record(_incident("incident--a", 1))
    out = store.put_records([_incident("incident--b", 1), _incident("incident--a", 2), _incident("incident--a", 3)])
    assert [(s.id, s.version) for s in out] == [("incident--b", 1), ("incident--a", 2), ("incident--a", 3)]
    assert [s.seq for s in out] == [2, 3, 4]
    assert store.put_records([]) == []
    latest = store.get_record("incident", "incident--a")
    assert latest is not None and latest.version == 3 and latest.record == _incident("incident--a", 3)
    head = store.tree_head("records")
    assert head is not None and head.tree_size == 4
    assert store.verify_ledger().ok


def test_a_record_that_cannot_be_stored_leaves_its_batch_out(store: Store) -> None:
    class NoId(Markings):  # a record without an ``id`` cannot be addressed, so it cannot be stored
        pass

    with pytest.raises((ValueError, TypeError, AttributeError)):
        store.put_records([_incident("incident--a", 1), NoId(tlp="green", originator="USA")])
    assert store.get_record("incident", "incident--a") is None
    assert store.tree_head("records") is None or store.tree_head("records").tree_size == 0  # type: ignore[union-attr]


def test_cursors_start_at_zero_and_remember(store: Store) -> None:
    assert store.get_cursor("fuse") == 0
    store.set_cursor("fuse", 42)
    assert store.get_cursor("fuse") == 42


def test_every_record_has_a_verifiable_inclusion_proof(store: Store) -> None:
    for start in (0, 9, 20):
        store.add_observations(batch(9 if start < 20 else 14, start))
    head = store.tree_head()
    assert head is not None and head.tree_size == 32
    root = bytes.fromhex(head.root_hash)
    for stored in store.observations():
        proof = store.inclusion_proof("observations", stored.seq)
        assert verify_inclusion(stored.leaf_hash, stored.seq - 1, head.tree_size, proof, root)
        assert not verify_inclusion(stored.leaf_hash, stored.seq % 32, head.tree_size, proof, root) or stored.seq == 1


def test_consecutive_tree_heads_are_consistent(store: Store) -> None:
    for start in range(0, 60, 7):
        store.add_observations(batch(7, start))
    heads = store.tree_heads()
    assert [h.tree_size for h in heads] == list(range(7, 64, 7))
    for older, newer in itertools.pairwise(heads):
        proof = store.consistency_proof("observations", older.tree_size, newer.tree_size)
        assert verify_consistency(
            older.tree_size,
            newer.tree_size,
            proof,
            bytes.fromhex(older.root_hash),
            bytes.fromhex(newer.root_hash),
        )


def test_a_clean_store_verifies(store: Store) -> None:
    store.add_observations(batch(30))
    store.put_record(_incident("incident--a", 1))
    result = store.verify_ledger()
    assert result.ok, {k: str(r.first_error) for k, r in result.reports.items()}
    assert result.reports["observations"].records_checked == 30
    assert result.reports["records"].records_checked == 1


def test_an_empty_batch_is_a_no_op(store: Store) -> None:
    result = store.add_observations([])
    assert result.inserted == 0 and store.max_seq() == 0
