"""The vectorised read rules: one numpy pass over a million records, equal to the scalar rules."""

from __future__ import annotations

import time

import numpy as np
import pytest

from tests.unit.policy.conftest import marked, who
from truceline.model import Markings
from truceline.policy import TLP_LEVELS, MarkingsTable, Policy

PARTICIPANTS = ("UKR", "USA", "GBR", "FRA", "POL", "OSCE", "XAA")
GROUPS = ("G-AIR", "G-SIGINT", "G-GHOST")


def _random_table(n: int, seed: int = 7) -> MarkingsTable:
    # Built straight from columns, as a store would, without a Markings object per row.
    rng = np.random.default_rng(seed)
    lengths = rng.integers(0, 4, size=n)
    tlp = rng.integers(len(TLP_LEVELS), size=n).astype(np.uint8)
    lengths[(tlp == TLP_LEVELS.index("red")) & (lengths == 0)] = 1
    offsets = np.zeros(n + 1, dtype=np.int64)
    np.cumsum(lengths, out=offsets[1:])
    return MarkingsTable(
        tlp=tlp,
        originator=rng.integers(len(PARTICIPANTS), size=n).astype(np.int32),
        releasable_offsets=offsets,
        # Repeats within a row are possible here; the rule must not care.
        releasable=rng.integers(len(PARTICIPANTS), size=int(offsets[-1])).astype(np.int32),
        sharing_group=rng.integers(-1, len(GROUPS), size=n).astype(np.int32),
        participants=PARTICIPANTS,
        groups=GROUPS,
    )


def _row_markings(table: MarkingsTable, i: int) -> Markings:
    start, end = table.releasable_offsets[i], table.releasable_offsets[i + 1]
    group = int(table.sharing_group[i])
    return marked(
        TLP_LEVELS[table.tlp[i]],
        table.participants[table.originator[i]],
        *dict.fromkeys(table.participants[c] for c in table.releasable[start:end]),
        group=None if group < 0 else table.groups[group],
    )


PRINCIPALS = [
    who("USA", groups=("G-AIR", "G-SIGINT")),
    who("UKR", "administrator", groups=("G-AIR", "G-SIGINT", "G-GHOST")),
    who("GBR"),
    who("POL", groups=("G-AIR",)),
    who("XAA", groups=("G-AIR",)),
    who("DEU"),
]


def test_a_million_records_are_filtered_in_one_pass_and_agree_with_the_scalar_rule(policy: Policy) -> None:
    table = _random_table(1_000_000)
    for principal in PRINCIPALS:
        start = time.perf_counter()
        mask = policy.visible_mask(principal, table)
        elapsed = time.perf_counter() - start
        assert mask.shape == (1_000_000,) and mask.dtype == np.bool_
        assert elapsed < 1.0, f"visible_mask took {elapsed:.2f} s for 1M rows"
        sample = np.random.default_rng(1).choice(len(table), size=3_000, replace=False)
        expected = [policy.visible(principal, _row_markings(table, int(i))) for i in sample]
        assert mask[sample].tolist() == expected, principal
        assert policy.count_visible(principal, table) == int(mask.sum())


@pytest.mark.parametrize("destination", ["USA", "UKR", "GBR", "XAA"])
def test_the_export_mask_agrees_with_the_scalar_rule(policy: Policy, destination: str) -> None:
    table = _random_table(20_000, seed=3)
    for principal in PRINCIPALS:
        mask = policy.export_mask(principal, table, destination)
        expected = [policy.may_export(principal, _row_markings(table, i), destination) for i in range(2_000)]
        assert mask[:2_000].tolist() == expected


def test_take_keeps_each_rows_releasability() -> None:
    table = _random_table(500, seed=11)
    rows = np.array([499, 3, 3, 0, 250])
    sub = table.take(rows)
    assert [_row_markings(sub, k) for k in range(len(rows))] == [_row_markings(table, int(i)) for i in rows]


def test_from_markings_encodes_what_it_is_given() -> None:
    markings = [marked("green"), marked("red", "UKR", "USA", "GBR", group="G-AIR"), marked("amber", "FRA")]
    table = MarkingsTable.from_markings(markings)
    assert [_row_markings(table, i) for i in range(3)] == markings
    assert len(MarkingsTable.from_markings([])) == 0


def test_a_table_with_codes_outside_its_vocabulary_is_refused() -> None:
    good = MarkingsTable.from_markings([marked("amber", "USA", "UKR")])
    columns = dict(
        tlp=good.tlp,
        originator=good.originator,
        releasable_offsets=good.releasable_offsets,
        releasable=good.releasable,
        sharing_group=good.sharing_group,
        participants=good.participants,
        groups=good.groups,
    )
    for name, bad, message in [
        ("originator", np.array([5], dtype=np.int32), "outside its vocabulary"),
        ("sharing_group", np.array([0], dtype=np.int32), "outside its vocabulary"),
        ("tlp", np.array([9], dtype=np.uint8), "no TLP level"),
        ("releasable_offsets", np.array([0, 2], dtype=np.int64), "rise from 0"),
        ("originator", np.array([0], dtype=np.int64), "int32"),
    ]:
        with pytest.raises(ValueError, match=message):
            MarkingsTable(**{**columns, name: bad})  # type: ignore[arg-type]
