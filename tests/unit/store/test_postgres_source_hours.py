"""PostgreSQL's hourly per-source summary (revision 0006) stays exact while readers fold new
reports in concurrently with a writer: nothing is counted twice or skipped."""

from __future__ import annotations

import json
import threading
from datetime import timedelta

from tests.conftest import NOW, fresh_postgres_database, observation_dict
from truceline.ledger import LedgerKey
from truceline.model import observation_adapter
from truceline.store import PreparedObservation
from truceline.store._common import source_hours_of
from truceline.store.postgres import PostgresStore

START, END = NOW - timedelta(hours=8), NOW + timedelta(hours=8)


def report(i: int) -> PreparedObservation:
    when = NOW - timedelta(hours=6) + timedelta(seconds=17 * i)
    doc = observation_dict(
        i, "acoustic_arrival", source=f"array-{i % 9}", time=when.isoformat().replace("+00:00", "Z"),
        location={**observation_dict(i)["location"], "lon": 37.5 + (i % 9) / 10, "lat": 48.0},
    )  # fmt: skip
    body = json.dumps(doc).encode()
    return PreparedObservation(observation_adapter.validate_json(body), body)  # type: ignore[arg-type]


def test_readers_refreshing_beside_a_writer_count_every_report_once() -> None:
    with fresh_postgres_database() as url:
        key = LedgerKey.generate()
        writer, readers = PostgresStore(url, key=key), [PostgresStore(url, key=key) for _ in range(2)]
        errors: list[BaseException] = []
        done = threading.Event()

        def write() -> None:
            try:
                for b in range(40):
                    writer.add_observations([report(50 * b + j) for j in range(50)])
            except BaseException as exc:  # reported below
                errors.append(exc)
            finally:
                done.set()

        def read(store: PostgresStore) -> None:
            try:
                for _ in range(400):  # bounded; stops once the writer is done
                    store.source_hours("acoustic_arrival", START, END)
                    if done.is_set():
                        return
            except BaseException as exc:  # reported below
                errors.append(exc)

        threads = [threading.Thread(target=write)] + [threading.Thread(target=read, args=(r,)) for r in readers]
        for t in threads:
            t.start()
        for t in threads:
            t.join(timeout=120)
        assert errors == []
        everything = list(writer.observations())
        assert len(everything) == 2000
        for store in (writer, *readers):
            got = store.source_hours("acoustic_arrival", START, END)
            assert got == source_hours_of(everything, "acoustic_arrival", START, END)
            assert sum(a.count for a in got) == 2000
        for store in (writer, *readers):
            store.close()
