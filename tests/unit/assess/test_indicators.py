"""Indicators land in the right sector, day and column, and only restricted weapons near the line count."""

from __future__ import annotations

from datetime import UTC, date, datetime

import numpy as np

from truceline.agreement import default_agreement
from truceline.assess import INDICATORS, FireEvents, daily_table
from truceline.model import (
    Claim,
    ErrorEllipse,
    ImageryDetection,
    Location,
    Markings,
    MovementDenial,
    PatrolReport,
    WeaponSighting,
)

AG = default_agreement()
START = date(2026, 9, 1)
MARK = Markings(tlp="green", originator="MVM")
ERR = ErrorEllipse(semi_major_m=50.0, semi_minor_m=50.0)
COL = {n: k for k, n in enumerate(INDICATORS)}


def _loc(lon: float, lat: float) -> Location:
    return Location(lon=lon, lat=lat, error=ERR)


def _near_line(sector: str) -> tuple[float, float]:
    """A point on a sector's line (its representative point in lon/lat)."""
    p = AG.sector(sector).geometry.representative_point()
    return float(p.x), float(p.y)


def _t(day: int, hour: int = 12) -> datetime:
    return datetime(2026, 9, 1 + day, hour, tzinfo=UTC)


def test_each_report_counts_in_its_sector_day_and_indicator() -> None:
    lon, lat = _near_line("CL-06")
    common = {"participant": "MVM", "source": "patrol-1", "markings": MARK, "location": _loc(lon, lat)}
    obs = [
        PatrolReport(key="p1", time=_t(2), explosions=4, bursts=1, shots=1, note="GNSS interference: 2 h", **common),
        MovementDenial(key="d1", time=_t(2), denied_by="RUS", **common),
        ImageryDetection(key="i1", time=_t(3), object_class="field_hospital", count=2, pass_id="P1", **common),
        ImageryDetection(key="i2", time=_t(3), object_class="tank", count=3, pass_id="P1", **common),
        WeaponSighting(key="w1", time=_t(4), weapon_class="mlrs", count=2, **common),
        Claim(
            key="c1",
            time=_t(4),
            claimant="RUS",
            accused="UKR",
            claim_kind="shelling",
            claimed_time=_t(4),
            place_name="Atlantis",
            participant="RUS",
            source="mod",
            markings=MARK,
        ),
    ]
    table = daily_table(AG, START, 7, obs)
    s = table.sectors.index("CL-06")
    c = table.counts[s]
    assert c[2, COL["explosions"]] == 4 and c[2, COL["small_arms"]] == 2 and c[2, COL["gnss"]] == 1
    assert c[2, COL["denials"]] == 1 and c[3, COL["logistics"]] == 2 and c[3, COL["armour"]] == 3
    assert c[3, COL["heavy_in_zone"]] == 3 and c[4, COL["heavy_in_zone"]] == 2  # both on the line itself
    assert c[:, COL["claims"]].sum() == 0  # a claim naming no known settlement names no sector
    assert table.counts.sum() == c.sum()  # nothing leaked into another sector
    assert [r.key for r in table.refs[(s, 2, COL["denials"])]] == ["d1"]


def test_weapons_beyond_their_withdrawal_distance_are_not_in_the_zone() -> None:
    lon, lat = _near_line("CL-06")
    far = WeaponSighting(
        key="w",
        time=_t(1),
        weapon_class="mlrs",
        count=5,
        participant="MVM",
        source="x",
        markings=MARK,
        location=_loc(lon + 1.5, lat + 0.6),
    )
    table = daily_table(AG, START, 3, [far])
    assert table.counts[:, :, COL["heavy_in_zone"]].sum() == 0


def test_fire_is_split_by_side_probability_and_outside_days_are_dropped() -> None:
    t0 = datetime(2026, 9, 1, tzinfo=UTC).timestamp()
    fire = FireEvents(
        np.array([t0 + 3600, t0 + 7200, t0 + 86_400 * 9]),
        np.array(["CL-07", "CL-07", "CL-07"]),
        np.array([0.9, 0.2, 1.0]),
    )
    table = daily_table(AG, START, 5, [], fire)
    s = table.sectors.index("CL-07")
    assert table.counts[s, 0, COL["fire"]] == 2
    assert np.isclose(table.counts[s, 0, COL["fire_ukr"]], 1.1) and np.isclose(table.counts[s, 0, COL["fire_rus"]], 0.9)
    assert table.counts[:, :, COL["fire"]].sum() == 2


def test_a_claim_is_placed_at_the_settlement_it_names_nearest_the_line() -> None:
    claim = Claim(
        key="c2",
        time=_t(1),
        claimant="RUS",
        accused="UKR",
        claim_kind="shelling",
        claimed_time=_t(1),
        place_name="Avdiivka",
        participant="RUS",
        source="mod",
        markings=MARK,
    )
    table = daily_table(AG, START, 3, [claim])
    s = table.sectors.index(str(AG.sector_of([37.75], [48.14])[0]))
    assert table.counts[s, 1, COL["claims"]] == 1
