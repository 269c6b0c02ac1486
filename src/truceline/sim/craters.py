"""Crater analyses: monitoring teams read the direction of fire from fresh craters of heavy fire.

The OSCE mission logged them as "a fresh crater ... caused by a 122 mm round fired from a
south-easterly direction": a team visiting a settlement in daylight finds the craters of the
night's shelling and reads, from the crater's shape and fragmentation pattern, the direction the
round came from and a guess of the weapon. Each analysis is a ``patrol_report`` whose
``location`` is the crater (a few metres of error: the team stands in it), ``direction``
``incoming``, ``impact_bearing_deg`` the direction *from the crater toward where the round came
from* with its ``bearing_error_deg`` (crater analysis is rough: 10, 15 or 20° by the crater's
state), ``explosions`` 1, ``time`` the estimated time of impact (residents' accounts: hours of
error) and a note saying it is a crater analysis.

The numbers, and why:

- :data:`TEAMS_PER_DAY` (6) teams a day go where shelling was reported: each, in daylight,
  visits a settlement (of those patrols visit, 2–15 km from the line) holding fresh craters of
  heavy fire (artillery ≥ 100 mm, MLRS, heavy MLRS — the classes imagery sees craters of; fired
  that day before the visit) within :data:`SEARCH_M` (3 km) of it, chosen in proportion to their
  number; teams do not share a settlement. A crater is analysed with probability
  :data:`P_ANALYSE` (0.5: found, reachable, not mined, not already filled in), at most
  :data:`MAX_PER_VISIT` (2) a visit (an analysis takes an hour). On the default scenario that is
  3–6 a day along the whole line, 10 on the day fire surges — what the mission's daily reports
  held (most days one to five analysed craters); the teams cap it, not the fire.
- Back-bearing: the true azimuth from the crater to the firing position plus ``N(0, σ)`` with σ
  the stated error; :data:`P_GROSS` (5 %) of analyses are gross errors, a bearing uniform on the
  circle with the same stated error (a ricochet, an old crater, a fuse setting misread).
- Weapon: right :data:`P_CLASS_RIGHT` (75 %), else its look-alike: a 122 mm rocket's crater for a
  howitzer shell's and back (the classic confusion), a heavy rocket's for an MLRS rocket's.
- Time: the true impact time plus ``N(0, TIME_SIGMA_S)`` (1.5 h), stated as ``time_error_s``.
- Position: the impact plus ``N(0, 4 m)`` per axis, a 95 % ellipse of 12 m.

Every analysis is linked, in the truth, to the shot that made its crater (the event's
``observations``) and listed in the truth's ``crater_analyses`` with its true back-bearing and
whether it is a gross error. The stream is its own (``(seed, "craters", day)``), so no other
report of a seed changes with it.
"""

from __future__ import annotations

import numpy as np
import pyproj
from numpy.typing import NDArray
from scipy.spatial import cKDTree

from truceline.sim._truthlog import TruthLog
from truceline.sim.fire import Shots
from truceline.sim.imagery import _CRATER_CLASSES
from truceline.sim.ndjson import DayOutput, loc
from truceline.sim.observers import Towns
from truceline.sim.world import FIRE_CLASSES, World, lonlat

FloatArray = NDArray[np.float64]
IntArray = NDArray[np.intp]

TEAMS_PER_DAY = 6
SEARCH_M = 3_000.0  # a settlement, its outskirts and the fields along its roads
P_ANALYSE = 0.5
MAX_PER_VISIT = 2
VISIT_HOURS = (9.0, 16.0)  # daylight, UTC (local time is UTC+2/+3)
BEARING_ERRORS_DEG = (10.0, 15.0, 20.0)  # stated (and drawn) σ, by the crater's state
P_GROSS = 0.05
P_CLASS_RIGHT = 0.75
LOOK_ALIKE = {"artillery_ge100": "mlrs", "mlrs": "artillery_ge100", "heavy_mlrs_missile": "mlrs"}
TIME_SIGMA_S = 5_400.0
POSITION_SIGMA_M = 4.0
NOTE = "crater analysis: fresh crater; direction of fire assessed from its shape and fragmentation pattern"
_GEOD = pyproj.Geod(ellps="WGS84")


def analyses(
    world: World,
    towns: Towns,
    shots: Shots,
    sel: IntArray,
    day: int,
    base_us: int,
    out: DayOutput,
    rng: np.random.Generator,
    log: TruthLog,
) -> None:
    """The day's crater analyses (see the module's note); ``sel`` are the day's shots."""
    heavy = sel[np.isin(shots.cls[sel], _CRATER_CLASSES)]
    if len(towns.lon) == 0 or len(heavy) == 0:
        return
    tree = cKDTree(np.stack([shots.ix[heavy], shots.iy[heavy]], -1))
    near = tree.query_ball_point(np.stack([towns.x, towns.y], -1), SEARCH_M)
    visit_h = np.sort(rng.uniform(*VISIT_HOURS, TEAMS_PER_DAY)) + day * 24.0
    taken: set[int] = set()
    date = f"{day:03d}"
    for v, t_v in enumerate(visit_h.tolist()):
        operator = "MVM" if v % 2 == 0 else "OSCE"
        team = f"crater-{operator}-{v:02d}"
        # Fresh craters (the day's fire before the visit) per settlement not yet visited today.
        fresh = [heavy[np.asarray(n, dtype=np.intp)] for n in near]
        fresh = [f[shots.t_h[f] < t_v] for f in fresh]
        count = np.array([0 if j in taken else len(f) for j, f in enumerate(fresh)], dtype=np.float64)
        if count.sum() == 0:
            continue
        town = int(rng.choice(len(count), p=count / count.sum()))
        taken.add(town)
        cand = np.sort(fresh[town])
        chosen = cand[rng.random(len(cand)) < P_ANALYSE]
        if len(chosen) > MAX_PER_VISIT:
            chosen = np.sort(rng.choice(chosen, MAX_PER_VISIT, replace=False))
        for k, s in enumerate(chosen.tolist()):
            _report(world, shots, s, t_v, f"{team}-{date}-{k}", operator, team, base_us, out, rng, log)


def _report(
    world: World,
    shots: Shots,
    s: int,
    visit_h: float,
    key: str,
    operator: str,
    team: str,
    base_us: int,
    out: DayOutput,
    rng: np.random.Generator,
    log: TruthLog,
) -> None:
    ex, ey = rng.normal(0.0, POSITION_SIGMA_M, 2)
    clon, clat = lonlat(np.array([shots.ix[s] + ex]), np.array([shots.iy[s] + ey]))
    ilon, ilat = lonlat(np.array([shots.ix[s]]), np.array([shots.iy[s]]))
    olon, olat = lonlat(np.array([shots.ox[s]]), np.array([shots.oy[s]]))
    az, _, _ = _GEOD.inv(ilon, ilat, olon, olat)
    true_az = float(np.asarray(az)[0]) % 360.0
    sigma = float(rng.choice(BEARING_ERRORS_DEG))
    gross = bool(rng.random() < P_GROSS)
    b = float(rng.uniform(0.0, 360.0)) if gross else true_az + float(rng.normal(0.0, sigma))
    true_cls = FIRE_CLASSES[int(shots.cls[s])]
    right = bool(rng.random() < P_CLASS_RIGHT)
    guess = true_cls if right else LOOK_ALIKE.get(true_cls, "unknown")
    dt_s = float(rng.normal(0.0, TIME_SIGMA_S))
    t_us = base_us + round(float(shots.t_h[s]) * 3600e6 + dt_s * 1e6)
    bearing = round(b % 360.0, 1) % 360.0
    ref = out.record(
        "patrol_report",
        key,
        operator,
        team,
        t_us,
        loc(float(clon[0]), float(clat[0]), 2.45 * POSITION_SIGMA_M * 1.2),
        tlp="green",
        credibility=2,
        time_error_s=TIME_SIGMA_S,
        explosions=1,
        direction="incoming",
        impact_bearing_deg=bearing,
        bearing_error_deg=sigma,
        weapon_class_guess=guess,
        note=NOTE,
    )
    out.link([s], [ref])
    log.crater_analyses.append(
        {
            "ref": ref,
            "event": f"E{s:07d}",
            "visit_h": visit_h,
            "true_back_bearing_deg": round(true_az, 2),
            "bearing_deg": bearing,
            "bearing_error_deg": sigma,
            "gross": gross,
            "time_offset_s": round(dt_s, 1),
            "weapon_class": true_cls,
            "weapon_class_guess": guess,
        }
    )
