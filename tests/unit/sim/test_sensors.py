"""The sensors behave as specified, and their reports say only what a sensor could know."""

from __future__ import annotations

import itertools
import math
import re
from collections import defaultdict
from pathlib import Path
from typing import Any

import numpy as np
import shapely
from scipy.spatial import cKDTree

from tests.unit.sim.conftest import read_run
from truceline.agreement import default_agreement
from truceline.geo import geodesic_distance_m, to_metric
from truceline.model import observation_adapter
from truceline.sim import detection_probability
from truceline.sim.acoustic import R50_M


def _time_h(text: str, start: str) -> float:
    return float((np.datetime64(text.rstrip("Z")) - np.datetime64(start.rstrip("Z"))) / np.timedelta64(1, "us")) / 3.6e9


def _pairs(truth: dict[str, Any]) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(ground range m, weapon class index, detected) for every event × working array within 40 km."""
    arrays = truth["sensors"]["acoustic"]["arrays"]
    a_lon = np.array([a["lon"] for a in arrays])
    a_lat = np.array([a["lat"] for a in arrays])
    index = {a["id"]: k for k, a in enumerate(arrays)}
    start = truth["window"]["start"]
    outages = defaultdict(list)
    for o in truth["sensors"]["acoustic"]["outages"]:
        outages[index[o["array"]]].append((_time_h(o["from"], start), _time_h(o["to"], start)))
    classes = list(R50_M)
    ranges, cls, hit = [], [], []
    for ev in truth["events"]:
        heard = {index[s] for _, s, _ in ev["observations"] if s in index}
        d = geodesic_distance_m(
            np.full(len(arrays), ev["origin"]["lon"]), np.full(len(arrays), ev["origin"]["lat"]), a_lon, a_lat
        )
        t = _time_h(ev["time"], start)
        for k in np.flatnonzero(d < 40_000).tolist():
            if any(t0 <= t < t1 for t0, t1 in outages.get(k, ())):
                continue
            ranges.append(d[k])
            cls.append(classes.index(ev["weapon_class"]))
            hit.append(k in heard)
    return np.array(ranges), np.array(cls), np.array(hit)


def test_acoustic_detection_probability_falls_with_range_as_specified(small_run: Path) -> None:
    _, truth = read_run(small_run)
    r, c, hit = _pairs(truth)
    assert len(r) > 20_000
    p = detection_probability(r, c)
    edges = np.arange(0, 40_001, 2_000)
    rates = []
    for lo, hi in itertools.pairwise(edges):
        m = (r >= lo) & (r < hi)
        var = float(np.sum(p[m] * (1 - p[m])))
        if m.sum() < 200 or var < 5:
            continue
        z = (hit[m].sum() - p[m].sum()) / math.sqrt(var)
        assert abs(z) < 4.5, (
            f"{lo / 1000:.0f}-{hi / 1000:.0f} km: observed {hit[m].mean():.3f}, model {p[m].mean():.3f} (z={z:.1f})"
        )
        rates.append(hit[m].mean())
    assert len(rates) >= 8
    assert rates[0] > 0.8 and rates[-1] < 0.1
    assert all(b <= a + 0.03 for a, b in itertools.pairwise(rates)), rates


def test_arrival_times_follow_the_speed_of_sound_within_the_stated_timing_error(small_run: Path) -> None:
    obs, truth = read_run(small_run)
    by_ref = {(o["participant"], o["source"], o["key"]): o for o in obs}
    weather = {w["day"]: w for w in truth["weather"]}
    z = []
    for ev in truth["events"][:300]:
        t0 = np.datetime64(ev["time"].rstrip("Z"))
        for ref in ev["observations"]:
            o = by_ref[tuple(ref)]
            if o["kind"] != "acoustic_arrival":
                continue
            d = geodesic_distance_m(
                o["location"]["lon"], o["location"]["lat"], ev["origin"]["lon"], ev["origin"]["lat"]
            )
            dt = float((np.datetime64(o["time"].rstrip("Z")) - t0) / np.timedelta64(1, "us")) / 1e6
            # Within ±6 °C of the day's mean and ±15 m/s of wind, c lies in [325, 365] m/s.
            assert d / 365.0 - 0.6 < dt < d / 325.0 + 0.6, (dt, d, weather[0])
            z.append(dt * 343.0 - d)
    assert len(z) > 1000


def test_radar_origin_error_grows_with_range_and_the_stated_ellipse_grows_with_it(small_run: Path) -> None:
    obs, truth = read_run(small_run)
    by_ref = {(o["participant"], o["source"], o["key"]): o for o in obs}
    rows = []
    for ev in truth["events"]:
        for ref in ev["observations"]:
            o = by_ref[tuple(ref)]
            if o["kind"] == "radar_track":
                rng = geodesic_distance_m(
                    o["location"]["lon"], o["location"]["lat"], ev["origin"]["lon"], ev["origin"]["lat"]
                )
                err = geodesic_distance_m(
                    o["origin"]["lon"], o["origin"]["lat"], ev["origin"]["lon"], ev["origin"]["lat"]
                )
                rows.append((rng, err, o["origin"]["error"]["semi_major_m"]))
    a = np.array(rows)
    near, far = a[a[:, 0] < 12_000], a[a[:, 0] > 20_000]
    assert len(near) > 30 and len(far) > 30
    assert np.sqrt(np.mean(far[:, 1] ** 2)) > 1.5 * np.sqrt(np.mean(near[:, 1] ** 2))
    assert far[:, 2].mean() > near[:, 2].mean()
    # The stated 95 % ellipse is honest: its semi-major axis bounds the error nearly always.
    assert np.mean(a[:, 1] <= a[:, 2]) > 0.9


_TRUTH_WORDS = re.compile(r'"(event|truth|staged|cause|parent|generation|firing_position|violation|true_[a-z_]+)"\s*:')
_TRUTH_IDS = re.compile(r"\b(E\d{7}|FP\d{4}|U\d{4}|B\d{5}|V\d{5})\b")


def test_reports_validate_and_carry_no_truth(small_run: Path) -> None:
    text = (small_run / "observations.ndjson").read_text(encoding="utf-8")
    for line in text.splitlines():
        observation_adapter.validate_json(line)  # strict, unknown fields forbidden
    assert not _TRUTH_WORDS.search(text)
    assert not _TRUTH_IDS.search(text)
    assert "staged" not in text.lower() and "false flag" not in text.lower()


def test_several_nations_report_the_same_event(small_run: Path) -> None:
    _, truth = read_run(small_run)
    multi = [ev for ev in truth["events"] if len({p for p, _, _ in ev["observations"]}) >= 3]
    assert len(multi) > len(truth["events"]) / 2
    relayed = [ev for ev in truth["events"] if any(s.startswith("relay-") for _, s, _ in ev["observations"])]
    assert relayed, "some radar tracks are re-reported by an ally"


def test_coverage_has_gaps_and_false_picks(buildup_run: Path) -> None:
    _, truth = read_run(buildup_run)
    assert truth["sensors"]["acoustic"]["outages"]
    assert truth["false_detections"]
    passes = truth["imagery_passes"]
    assert 0.1 < sum(not p["usable"] for p in passes) / len(passes) < 0.6  # clouds hide some passes
    arrays = truth["sensors"]["acoustic"]["arrays"]
    ax, ay = to_metric(np.array([a["lon"] for a in arrays]), np.array([a["lat"] for a in arrays]))
    line = shapely.get_coordinates(default_agreement().contact_line_metric)
    nearest, _ = cKDTree(np.column_stack([ax, ay])).query(line)
    assert max(nearest) > 15_000  # a stretch of the line with no array within 15 km: a gap in coverage
