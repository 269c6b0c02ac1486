"""The scripted story is in the truth and visible in the reports: build-up, offensive, staged claims,
incursions, storage removals, the ceiling breach."""

from __future__ import annotations

import hashlib
import io
from collections import Counter
from datetime import datetime
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from PIL import Image

from tests.unit.sim.conftest import read_run
from truceline.agreement import default_agreement
from truceline.geo import geodesic_distance_m

LOGISTICS = {"fuel_depot", "ammunition_depot", "field_hospital", "bridging_equipment", "armoured_vehicle", "truck"}


@pytest.fixture(scope="module")
def run(buildup_run: Path) -> tuple[list[dict[str, Any]], dict[str, Any]]:
    return read_run(buildup_run)


def _day(t: str, start: str = "2026-09-01") -> int:
    return (datetime.fromisoformat(t[:10]) - datetime.fromisoformat(start)).days


def test_the_truth_dates_the_buildup_and_the_offensive(run: tuple[list[dict[str, Any]], dict[str, Any]]) -> None:
    _, truth = run
    b = truth["buildup"]
    assert (b["sector"], b["attacker"], b["onset_day"], b["offensive_day"]) == ("CL-06", "RUS", 4, 18)
    assert b["onset"] == "2026-09-05T00:00:00Z" and b["offensive"] == "2026-09-19T00:00:00Z"
    assert truth["offensives"] == [
        {"sector": "CL-06", "side": "RUS", "date": "2026-09-19T00:00:00Z", "day": 18, "in_window": True}
    ]


def test_the_buildup_shows_in_imagery_denials_jamming_and_claims(
    run: tuple[list[dict[str, Any]], dict[str, Any]],
) -> None:
    obs, _ = run
    ag = default_agreement()
    located = [o for o in obs if o.get("location")]
    sector = ag.sector_of([o["location"]["lon"] for o in located], [o["location"]["lat"] for o in located])
    before, late = Counter(), Counter()
    for o, s in zip(located, sector, strict=True):
        d = _day(o["time"])
        what = None
        if o["kind"] in ("imagery_detection", "uav_sighting") and o["object_class"] in LOGISTICS and s == "CL-06":
            what = "logistics"
        elif o["kind"] == "movement_denial" and o["denied_by"] == "RUS":
            what = "denial"
        elif o["kind"] == "patrol_report" and "GNSS" in o.get("note", ""):
            what = "jamming"
        if what and d < 4:
            before[what] += 1
        elif what and 13 <= d < 18:
            late[what] += 1
    assert late["logistics"] / 5 > 2 * max(before["logistics"] / 4, 0.5), (before, late)
    assert late["denial"] / 5 > 2 * max(before["denial"] / 4, 0.25), (before, late)
    assert late["jamming"] >= 3, (before, late)
    claims = Counter((_day(o["claimed_time"]) >= 11, o["claimant"]) for o in obs if o["kind"] == "claim")
    assert claims[(True, "RUS")] / 7 > claims[(False, "RUS")] / 11


def test_weapons_move_into_their_withdrawal_zones_before_the_offensive(
    run: tuple[list[dict[str, Any]], dict[str, Any]],
) -> None:
    _, truth = run
    ag = default_agreement()
    moved = [p for p in truth["positions"] if p["note"] == "build-up" and p["kind"] == "unit" and p["violation"]]
    assert len(moved) >= 10
    for p in moved:
        assert p["violation"] == f"withdrawal.{p['class']}"
        assert p["distance_to_line_m"] < ag.withdrawal_distance_m(p["class"])
        assert p["from"] < truth["buildup"]["offensive"]
    assert sum(1 for p in moved if p["observations"]) >= 3


def test_fire_surges_on_the_offensive(run: tuple[list[dict[str, Any]], dict[str, Any]]) -> None:
    _, truth = run
    per_day = Counter(_day(e["time"]) for e in truth["events"] if e["sector"] == "CL-06" and e["side"] == "RUS")
    quiet = np.mean([per_day[d] for d in range(4)])
    assert np.mean([per_day[d] for d in (18, 19, 20)]) > 8 * max(quiet, 1.0)
    assert any(e["cause"] == "offensive" for e in truth["events"])


def test_staged_claims_are_false_as_the_truth_says_and_their_photos_predate_them(
    run: tuple[list[dict[str, Any]], dict[str, Any]], buildup_run: Path
) -> None:
    obs, truth = run
    by_ref = {(o["participant"], o["source"], o["key"]): o for o in obs}
    events = {e["id"]: e for e in truth["events"]}
    staged = [c for c in truth["claims"] if c["staged"]]
    assert len(staged) == 3 and {c["kind"] for c in staged} == {"own_side_fire", "no_fire"}
    assert any(c["media"][0]["reused_from"] for c in staged)
    for c in staged:
        o = by_ref[tuple(c["ref"])]
        assert o["kind"] == "claim" and o["claimant"] == c["claimant"] == "RUS" and o["accused"] == "UKR"
        assert c["reasons"] and 13 - 10 <= _day(c["claimed_time"]) < 18
        media = o["media"][0]
        data = (buildup_run / media["uri"]).read_bytes()
        assert hashlib.sha256(data).hexdigest() == media["sha256"]
        taken = Image.open(io.BytesIO(data)).getexif().get_ifd(0x8769)[0x9003]
        claimed = datetime.fromisoformat(c["claimed_time"].replace("Z", "+00:00")).replace(tzinfo=None)
        assert (claimed - datetime.strptime(taken, "%Y:%m:%d %H:%M:%S")).total_seconds() > 36 * 3600
        t = np.datetime64(c["claimed_time"].rstrip("Z"))
        if c["kind"] == "own_side_fire":
            ev = events[c["event"]]
            assert ev["origin"]["side"] == ev["impact"]["side"] == "RUS" and ev["cause"] == "staging"
        else:
            assert c["event"] is None
            near = [
                e
                for e in truth["events"]
                if abs((np.datetime64(e["time"].rstrip("Z")) - t) / np.timedelta64(1, "m")) < 120
                and geodesic_distance_m(e["impact"]["lon"], e["impact"]["lat"], c["lon"], c["lat"]) < 10_000
            ]
            assert not near
    genuine = [c for c in truth["claims"] if not c["staged"]]
    assert genuine and all(events[c["event"]]["side"] == c["accused"] for c in genuine)


def test_storage_removals_are_reported_missing_after_they_happen(
    run: tuple[list[dict[str, Any]], dict[str, Any]],
) -> None:
    obs, truth = run
    removals = truth["storage_removals"]
    assert len(removals) == 4
    visits = [o for o in obs if o["kind"] == "storage_visit"]
    for r in removals:
        after = [v for v in visits if v["site_id"] == r["site"] and v["time"] > r["removed"] and v["access_granted"]]
        early = [v for v in visits if v["site_id"] == r["site"] and v["time"] < r["removed"]]
        assert after and all(r["serial"] in v["serials_missing"] for v in after)
        assert all(r["serial"] in v["serials_present"] for v in early if v["access_granted"])
    assert any(not v["access_granted"] for v in visits)  # the attacker turns inspectors away


def test_incursions_ceiling_and_disengagement_breaches_are_violations(
    run: tuple[list[dict[str, Any]], dict[str, Any]],
) -> None:
    obs, truth = run
    refs = {(o["participant"], o["source"], o["key"]) for o in obs}
    clauses = Counter(v["clause"].split(".")[0] for v in truth["violations"])
    assert clauses["air"] + clauses["sea"] >= 4 and clauses["ceiling"] >= 1 and clauses["disengagement"] == 1
    assert clauses["storage"] == 4 and clauses["freedom_of_movement"] >= 1
    for v in truth["violations"]:
        assert all(tuple(r) in refs for r in v["observations"])
    permitted = [t for t in truth["incursions"] if not t["violation"]]
    assert any(t["side"] == "USA" and t["zone"] == "contact_line_band" for t in permitted)
    decl = [o for o in obs if o["kind"] == "force_declaration" and o["declaring_party"] == "UKR"]
    assert max(o["troop_strength"] for o in decl if _day(o["time"]) >= 18) > 800_000
    assert all(o["troop_strength"] < 800_000 for o in decl if _day(o["time"]) < 18)


@pytest.mark.parametrize("share", [0.0, 0.3])
def test_the_force_posture_violates_withdrawal_in_the_configured_share(share: float) -> None:
    from truceline.sim import scenario
    from truceline.sim._frame import build_frame
    from truceline.sim.world import build_world

    ag = default_agreement()
    world = build_world(ag, scenario("quiet", violation_share=share), build_frame(ag), np.random.default_rng(1))
    o = world.objects
    units = [v for k, v, n in zip(o.kind, o.violation, o.note, strict=True) if k == "unit" and not n]
    bad = sum(1 for v in units if v)
    sd = (len(units) * max(share, 0.01) * (1 - share)) ** 0.5
    assert abs(bad - share * len(units)) <= 3 * sd, (bad, len(units))


def test_a_buildup_beyond_the_border_stays_silent_until_the_attack(tmp_path: Path) -> None:
    from tests.unit.sim.conftest import NOW
    from truceline.sim import scenario, simulate

    cfg = scenario("northern-axis", days=9, scale=0.002, seed=2, buildup_days=7, offensive_day=7, staged_claims=0)
    simulate(cfg, tmp_path, now=NOW)
    _, truth = read_run(tmp_path)
    ag = default_agreement()
    axis = [e for e in truth["events"] if e["sector"] == "AX-BY-06"]
    assert axis and all(_day(e["time"]) >= 7 for e in axis)
    attack = [e for e in axis if e["side"] == "RUS"]
    assert {e["origin"]["side"] for e in attack} == {""}  # fired from Belarus, outside both areas
    assert sum(e["impact"]["side"] == "UKR" for e in attack) > 0.8 * len(attack)
    build = [p for p in truth["positions"] if p["note"] == "build-up"]
    assert build and set(ag.side_of([p["lon"] for p in build], [p["lat"] for p in build]).tolist()) == {""}
