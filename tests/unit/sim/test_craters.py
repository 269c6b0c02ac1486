"""Crater analyses: a few a day, errors drawn as stated, linked to their shot, and on their own stream."""

from __future__ import annotations

import json
import math
from datetime import datetime
from pathlib import Path
from typing import Any

import numpy as np
import pyproj
import pytest

from tests.unit.sim.conftest import NOW, read_run
from truceline.model import PatrolReport, observation_adapter
from truceline.sim import craters, scenario, simulate
from truceline.sim.world import FIRE_CLASSES

_GEOD = pyproj.Geod(ellps="WGS84")
_HEAVY = {FIRE_CLASSES[k] for k in (2, 3, 5)}


def _craters(reports: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return [r for r in reports if r["kind"] == "patrol_report" and "impact_bearing_deg" in r]


def _ref(r: dict[str, Any]) -> tuple[str, str, str]:
    return (r["participant"], r["source"], r["key"])


def _t(text: str) -> float:
    return datetime.fromisoformat(text.replace("Z", "+00:00")).timestamp()


@pytest.fixture(scope="module")
def default_days(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Four days of the default scenario at its default scale (the rates are stated for it)."""
    out = tmp_path_factory.mktemp("craters-default")
    simulate(scenario("default", days=4, seed=3, write_media=False), out, now=NOW)
    return out


@pytest.fixture(scope="module")
def many(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Every fresh crater near every settlement analysed: hundreds of draws to test the errors on."""
    out = tmp_path_factory.mktemp("craters-many")
    mp = pytest.MonkeyPatch()
    mp.setattr(craters, "TEAMS_PER_DAY", 200)
    mp.setattr(craters, "P_ANALYSE", 1.0)
    mp.setattr(craters, "MAX_PER_VISIT", 50)
    mp.setattr(craters, "SEARCH_M", 15_000.0)
    try:
        simulate(scenario("default", days=2, seed=5, write_media=False), out, now=NOW)
    finally:
        mp.undo()
    return out


def test_a_few_crater_analyses_a_day_of_heavy_fire_in_daylight(default_days: Path) -> None:
    reports, truth = read_run(default_days)
    found = _craters(reports)
    per_day = len(found) / 4
    assert 2.0 <= per_day <= 10.0, per_day
    by_visit: dict[tuple[str, str], list[dict[str, Any]]] = {}
    for c in truth["crater_analyses"]:
        by_visit.setdefault((c["visit"], c["ref"][1]), []).append(c)
        visit = _t(c["visit"]) % 86_400 / 3600
        assert craters.VISIT_HOURS[0] <= visit <= craters.VISIT_HOURS[1]
        assert c["weapon_class"] in _HEAVY
    assert max(len(v) for v in by_visit.values()) <= craters.MAX_PER_VISIT
    assert len(truth["crater_analyses"]) == len(found)
    for r in found:
        report = observation_adapter.validate_python(r)
        assert isinstance(report, PatrolReport)
        assert report.direction == "incoming" and report.explosions == 1
        assert report.note.startswith("crater analysis")
        assert report.bearing_deg is None and report.distance_m is None  # not an observer's bearing


def test_each_crater_is_linked_to_the_shot_that_made_it(default_days: Path) -> None:
    reports, truth = read_run(default_days)
    events = {ev["id"]: ev for ev in truth["events"]}
    owner: dict[tuple[str, str, str], list[str]] = {}
    for ev in truth["events"]:
        for ref in ev["observations"]:
            owner.setdefault((ref[0], ref[1], ref[2]), []).append(ev["id"])
    logged = {tuple(c["ref"]): c for c in truth["crater_analyses"]}
    for r in _craters(reports):
        ref = _ref(r)
        assert owner.get(ref) == [logged[ref]["event"]]  # one shot, the one the log names
        ev = events[logged[ref]["event"]]
        assert ev["weapon_class"] in _HEAVY
        _, _, d = _GEOD.inv(ev["impact"]["lon"], ev["impact"]["lat"], r["location"]["lon"], r["location"]["lat"])
        assert d < 30.0  # the crater is the impact, a few metres off
        # The crater was fresh: its shot fired the same day, before the team's visit.
        assert _t(ev["time"]) < _t(logged[ref]["visit"])
        assert _t(ev["time"]) // 86_400 == _t(logged[ref]["visit"]) // 86_400


def test_bearing_time_position_and_class_errors_are_drawn_as_stated(many: Path) -> None:
    reports, truth = read_run(many)
    events = {ev["id"]: ev for ev in truth["events"]}
    logged = {tuple(c["ref"]): c for c in truth["crater_analyses"]}
    found = _craters(reports)
    assert len(found) >= 300
    z, gross, dt, pos, right = [], 0, [], [], []
    for r in found:
        c = logged[_ref(r)]
        ev = events[c["event"]]
        # The true back-bearing, computed here from the truth's impact and origin.
        az, _, _ = _GEOD.inv(ev["impact"]["lon"], ev["impact"]["lat"], ev["origin"]["lon"], ev["origin"]["lat"])
        err = (r["impact_bearing_deg"] - az + 180.0) % 360.0 - 180.0
        assert r["bearing_error_deg"] in craters.BEARING_ERRORS_DEG
        if c["gross"]:
            gross += 1
        else:
            z.append(err / r["bearing_error_deg"])
        dt.append(_t(r["time"]) - _t(ev["time"]))
        assert r["time_error_s"] == craters.TIME_SIGMA_S
        _, _, d = _GEOD.inv(ev["impact"]["lon"], ev["impact"]["lat"], r["location"]["lon"], r["location"]["lat"])
        pos.append(d)
        right.append(r["weapon_class_guess"] == ev["weapon_class"])
        if not right[-1]:
            assert r["weapon_class_guess"] == craters.LOOK_ALIKE[ev["weapon_class"]]
    n = len(found)
    zs = np.asarray(z)
    # Bearing errors: N(0, σ) as stated (the rounding to 0.1° is negligible at σ ≥ 10°).
    assert abs(zs.mean()) < 4.0 / math.sqrt(len(zs))
    assert 0.9 < zs.std() < 1.1
    assert np.mean(np.abs(zs) > 3.29) < 0.01
    # Gross errors: 5 %, within four binomial standard errors.
    sd = math.sqrt(craters.P_GROSS * (1 - craters.P_GROSS) / n)
    assert abs(gross / n - craters.P_GROSS) < 4 * sd
    # Time: N(0, 1.5 h); position: a few metres (√2 · 4 m RMS); class right 75 %.
    dts = np.asarray(dt)
    assert abs(dts.mean()) < 4 * craters.TIME_SIGMA_S / math.sqrt(n)
    assert 0.9 < dts.std() / craters.TIME_SIGMA_S < 1.1
    assert 3.5 < math.sqrt(np.mean(np.square(pos))) < 8.0
    sd = math.sqrt(craters.P_CLASS_RIGHT * (1 - craters.P_CLASS_RIGHT) / n)
    assert abs(np.mean(right) - craters.P_CLASS_RIGHT) < 4 * sd


def test_the_crater_stream_changes_no_other_report(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    cfg = scenario("default", days=2, seed=9, write_media=False)
    simulate(cfg, tmp_path / "with", now=NOW)
    monkeypatch.setattr(craters, "analyses", lambda *a, **k: None)
    simulate(cfg, tmp_path / "without", now=NOW)
    with_lines = (tmp_path / "with" / "observations.ndjson").read_bytes().splitlines()
    without_lines = (tmp_path / "without" / "observations.ndjson").read_bytes().splitlines()
    crater_lines = [line for line in with_lines if b'"impact_bearing_deg"' in line]
    assert crater_lines, "no crater analysis in two days: the comparison would prove nothing"
    assert [line for line in with_lines if b'"impact_bearing_deg"' not in line] == without_lines
    # The truth's events are the same but for the craters' links.
    crater_refs = {_ref(json.loads(line)) for line in crater_lines}
    _, truth_with = read_run(tmp_path / "with")
    _, truth_without = read_run(tmp_path / "without")
    assert len(truth_with["events"]) == len(truth_without["events"])
    for a, b in zip(truth_with["events"], truth_without["events"], strict=True):
        kept = [ref for ref in a["observations"] if tuple(ref) not in crater_refs]
        assert {**a, "observations": kept} == b
    assert truth_without["crater_analyses"] == []
