"""Where weapons were seen, as columns: radar origins, imagery, UAV and patrol sightings.

Every report that places a weapon (or a vehicle) on the ground becomes one row: its position and
error, its time, and the log-likelihood of what it reported under each possible true class
(:data:`CATEGORIES`: the model's weapon classes and ``none`` for things that are no weapon).
A report naming a class with probability ``q`` of being right gives ``q`` spread over the
classes its label fits and ``1 - q`` over the rest — an imagery "artillery" fits both calibres.

Rows that lie close together are grouped into *objects* (:func:`group_objects`, single linkage
within ``link_m``): the same battery seen by three satellite passes, two nations' UAVs and a
counter-battery radar every night is one object, and one finding.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray
from scipy.sparse import coo_matrix
from scipy.sparse.csgraph import connected_components
from scipy.spatial import cKDTree

from truceline.geo import geodesic_distance_m, to_metric
from truceline.model import (
    WEAPON_CLASSES,
    ImageryDetection,
    ObservationBase,
    RadarTrack,
    UAVSighting,
    WeaponSighting,
)

__all__ = [
    "CATEGORIES",
    "CELL_M",
    "FIRE_CLASSES",
    "KINDS",
    "MAX_RANGE_KM",
    "STANDOFF_KM",
    "Sightings",
    "group_objects",
    "group_objects_reference",
    "label_log_likelihood",
    "standoff_log_likelihood",
]

FloatArray = NDArray[np.float64]
IntArray = NDArray[np.intp]

CATEGORIES: tuple[str, ...] = (*WEAPON_CLASSES, "none")
"""What a sighted object truly is: a weapon class, or ``none`` (a truck, a depot, a hospital…)."""

KINDS = ("radar_track", "imagery_detection", "uav_sighting", "weapon_sighting")
"""The observation kinds that place weapons on the ground."""

IMAGERY_LABELS: dict[str, tuple[str, ...]] = {
    "artillery": ("artillery_ge100", "artillery_lt100"),
    "mlrs": ("mlrs",),
    "heavy_mlrs_missile": ("heavy_mlrs_missile",),
    "tank": ("tank",),
    "mortar": ("mortar",),
    "armoured_vehicle": ("armoured_vehicle",),
    "air_defence": ("air_defence",),
}
"""Imagery object classes and the weapon classes they can be; any other label means ``none``."""

# How often a report's class label is right, where the report does not say so itself.
RADAR_LABEL_RIGHT = 0.8  # counter-battery radars classify by trajectory and often guess wrong
UAV_LABEL_RIGHT = 0.9
PATROL_LABEL_RIGHT = 0.95  # monitors read the weapon from close by

MAX_RANGE_KM: dict[str, float] = {
    "mortar": 9.0,
    "tank": 10.0,
    "artillery_lt100": 16.0,
    "artillery_ge100": 40.0,
    "mlrs": 45.0,
    "heavy_mlrs_missile": 300.0,
    "anti_tank_gun": 16.0,
    "small_arms": 3.0,
}
"""Longest range (km) of each class's fire: a shot that flew further cannot be of that class."""

STANDOFF_KM: dict[str, float] = {
    "mortar": 3.0,
    "tank": 2.0,
    "artillery_lt100": 4.0,
    "artillery_ge100": 9.0,
    "mlrs": 15.0,
    "heavy_mlrs_missile": 50.0,
}
"""How deep behind the line each class typically stands (km): about a third of its range."""
_STANDOFF_SIGMA = 0.7

FIRE_CLASSES = ("mortar", "artillery_lt100", "artillery_ge100", "mlrs", "tank", "heavy_mlrs_missile")
"""The classes a counter-battery radar can name."""

_LOG_FLOOR = np.log(1e-6)
_ERROR_LINK = 1.2  # link fixes up to 1.2 × the 95 % radius of their difference
CELL_M = 50.0
"""Rows are pooled into cells this wide (metres) before linking: well under any linking distance."""
_KEY_SPAN = np.int64(1) << 32


def label_log_likelihood(fits: Sequence[str], right: float, among: Sequence[str] = CATEGORIES) -> FloatArray:
    """Log P(label | true category) for a label fitting ``fits``, right with probability ``right``.

    A wrong label is one of the other labels the reporter can give (``among``), equally likely.

    >>> ll = label_log_likelihood(["mlrs"], 0.8, among=FIRE_CLASSES)
    >>> round(float(np.exp(ll[CATEGORIES.index("mlrs")])), 3), round(float(np.exp(ll[0])), 3)
    (0.8, 0.04)
    """
    names = np.array(CATEGORIES)
    mask = np.isin(names, list(fits))
    n_fit = int(mask.sum())
    n_other = max(len(set(among) - set(fits)), 1)
    right = float(min(max(right, 1e-3), 1.0 - 1e-3))
    p = np.where(mask, right / max(n_fit, 1), (1.0 - right) / n_other)
    return np.asarray(np.log(p), dtype=np.float64)


def standoff_log_likelihood(distance_m: FloatArray) -> FloatArray:
    """Log density of each object's distance behind the line under each category, (n, categories).

    A weapon stands about a third of its range behind the line (:data:`STANDOFF_KM`), give or
    take a factor of two (log-normal); categories without a typical depth get a flat density.
    Used only to tell apart classes that the reports cannot (imagery's "artillery": either calibre).
    """
    d_km = np.maximum(np.asarray(distance_m, dtype=np.float64)[:, None] / 1000.0, 0.05)
    typical = np.array([STANDOFF_KM.get(c, 0.0) for c in CATEGORIES])[None, :]
    has = typical > 0
    z = np.log(d_km / np.where(has, typical, 1.0)) / _STANDOFF_SIGMA
    return np.asarray(np.where(has, -0.5 * z * z - np.log(d_km * _STANDOFF_SIGMA), 0.0), dtype=np.float64)


@dataclass
class Sightings:
    """Rows of weapon positions; ``loglik[i, c]`` is log P(report i | the object is CATEGORIES[c])."""

    observations: list[ObservationBase]
    seq: IntArray
    lon: FloatArray
    lat: FloatArray
    x: FloatArray
    y: FloatArray
    error_m: FloatArray  # 95 % radius of the position
    time_s: FloatArray  # POSIX seconds
    loglik: FloatArray
    fire: NDArray[np.bool_]  # a radar origin (a weapon that fired), not a sighting of one standing

    def __len__(self) -> int:
        return len(self.observations)

    @classmethod
    def from_observations(cls, items: Sequence[tuple[int, ObservationBase]]) -> Sightings:
        """Rows for the observations that place a weapon; other kinds and labels are skipped."""
        obs: list[ObservationBase] = []
        seqs: list[int] = []
        lon: list[float] = []
        lat: list[float] = []
        err: list[float] = []
        rows: list[FloatArray] = []
        fire: list[bool] = []
        ranges: list[int] = []  # rows of radar tracks with an impact point
        for seq, o in items:
            if isinstance(o, RadarTrack):
                if o.weapon_class_guess is None or o.weapon_class_guess == "unknown":
                    ll = np.zeros(len(CATEGORIES))
                else:
                    ll = label_log_likelihood([o.weapon_class_guess], RADAR_LABEL_RIGHT, among=FIRE_CLASSES)
                place = o.origin
                if o.impact is not None:
                    ranges.append(len(obs))
                fire.append(True)
            elif isinstance(o, ImageryDetection | UAVSighting):
                fits = IMAGERY_LABELS.get(o.object_class)
                if fits is None:
                    continue  # a truck, a depot, a crater: no weapon to place
                right = o.class_confidence if isinstance(o, ImageryDetection) else UAV_LABEL_RIGHT
                ll = label_log_likelihood(fits, right)
                place = o.location
                fire.append(False)
            elif isinstance(o, WeaponSighting):
                fits = (o.weapon_class,) if o.weapon_class != "unknown" else tuple(WEAPON_CLASSES)
                ll = label_log_likelihood(fits, PATROL_LABEL_RIGHT)
                place = o.location
                fire.append(False)
            else:
                continue
            obs.append(o)
            seqs.append(seq)
            lon.append(place.lon)
            lat.append(place.lat)
            err.append(place.error.semi_major_m)
            rows.append(ll)
        lo = np.array(lon, dtype=np.float64)
        la = np.array(lat, dtype=np.float64)
        x, y = to_metric(lo, la) if len(lo) else (np.zeros(0), np.zeros(0))
        loglik = np.array(rows, dtype=np.float64).reshape(len(rows), len(CATEGORIES))
        if ranges:
            # The range of the shot rules out classes that cannot reach that far.
            idx = np.array(ranges, dtype=np.intp)
            tracks = [obs[i] for i in idx.tolist()]
            ilon = np.array([t.impact.lon for t in tracks if isinstance(t, RadarTrack) and t.impact is not None])
            ilat = np.array([t.impact.lat for t in tracks if isinstance(t, RadarTrack) and t.impact is not None])
            shot_m = geodesic_distance_m(lo[idx], la[idx], ilon, ilat)
            for c, name in enumerate(CATEGORIES):
                limit = MAX_RANGE_KM.get(name)
                if limit is not None:
                    too_far = shot_m > limit * 1000.0
                    loglik[idx[too_far], c] += _LOG_FLOOR
        times = np.array([o.time.timestamp() for o in obs], dtype=np.float64)
        # A report relayed by an ally (same time, same place, same label) is one measurement: its
        # copies share one vote, or a relayed guess would count twice.
        copies: dict[tuple[float, float, float, int], list[int]] = {}
        for i in range(len(obs)):
            copies.setdefault((times[i], lo[i], la[i], int(np.argmax(loglik[i]))), []).append(i)
        for rows_of in copies.values():
            if len(rows_of) > 1:
                loglik[rows_of] /= len(rows_of)
        return cls(
            observations=obs,
            seq=np.array(seqs, dtype=np.intp),
            lon=lo,
            lat=la,
            x=np.asarray(x, dtype=np.float64),
            y=np.asarray(y, dtype=np.float64),
            error_m=np.array(err, dtype=np.float64),
            time_s=times,
            loglik=loglik,
            fire=np.array(fire, dtype=bool),
        )

    def subset(self, rows: IntArray) -> Sightings:
        return Sightings(
            observations=[self.observations[i] for i in rows.tolist()],
            seq=self.seq[rows],
            lon=self.lon[rows],
            lat=self.lat[rows],
            x=self.x[rows],
            y=self.y[rows],
            error_m=self.error_m[rows],
            time_s=self.time_s[rows],
            loglik=self.loglik[rows],
            fire=self.fire[rows],
        )


def _renumber(labels: IntArray) -> IntArray:
    """Labels renumbered 0, 1, … in order of first appearance (independent of any library's numbering)."""
    if not labels.size:
        return np.zeros(0, dtype=np.intp)
    _, first = np.unique(labels, return_index=True)
    order = np.argsort(first)
    rank = np.empty_like(order)
    rank[order] = np.arange(order.size)
    return np.asarray(rank[np.unique(labels, return_inverse=True)[1]], dtype=np.intp)


def group_objects(x: FloatArray, y: FloatArray, link_m: float, error_m: FloatArray | None = None) -> IntArray:
    """Object labels (0..n-1 in order of first row) linking rows that may be the same object.

    Rows are first pooled into cells of :data:`CELL_M` (a cell stands at the mean of its rows,
    with the largest of their errors): a battery fired from every night gives thousands of radar
    origins but a few dozen cells, so the work does not grow with the square of its reports. Two
    cells link when they lie within ``link_m`` or within what their errors allow: the 95 % radius
    of the difference of two fixes, ``hypot(e1, e2)`` for 95 % radii e1, e2 (times 1.2).

    >>> group_objects(np.array([0.0, 100.0, 5_000.0, 250.0]), np.zeros(4), 200.0).tolist()
    [0, 0, 1, 0]
    >>> group_objects(np.array([0.0, 600.0]), np.zeros(2), 200.0, np.array([500.0, 500.0])).tolist()
    [0, 0]
    """
    n = len(x)
    if n == 0:
        return np.zeros(0, dtype=np.intp)
    err = np.zeros(n) if error_m is None else np.asarray(error_m, dtype=np.float64)
    keys = np.floor(x / CELL_M).astype(np.int64) * _KEY_SPAN + np.floor(y / CELL_M).astype(np.int64)
    _, cell = np.unique(keys, return_inverse=True)
    m = int(cell.max()) + 1
    size = np.bincount(cell, minlength=m).astype(np.float64)
    cx = np.bincount(cell, x, minlength=m) / size
    cy = np.bincount(cell, y, minlength=m) / size
    ce = np.zeros(m)
    np.maximum.at(ce, cell, err)
    reach = max(link_m, float(np.sqrt(2.0) * ce.max()) * _ERROR_LINK)
    pairs = cKDTree(np.column_stack([cx, cy])).query_pairs(reach, output_type="ndarray")
    if len(pairs):
        i, j = pairs[:, 0], pairs[:, 1]
        d = np.hypot(cx[i] - cx[j], cy[i] - cy[j])
        pairs = pairs[d <= np.maximum(link_m, _ERROR_LINK * np.hypot(ce[i], ce[j]))]
    graph = coo_matrix((np.ones(len(pairs)), (pairs[:, 0], pairs[:, 1])), shape=(m, m))
    _, cell_label = connected_components(graph, directed=False)
    return _renumber(np.asarray(cell_label[cell], dtype=np.intp))


def group_objects_reference(x: FloatArray, y: FloatArray, link_m: float, error_m: FloatArray | None = None) -> IntArray:
    """:func:`group_objects` the plain way (dicts of cells, every pair, a flood fill): its tested twin."""
    n = len(x)
    err = [0.0] * n if error_m is None else [float(e) for e in error_m]
    members: dict[tuple[int, int], list[int]] = {}
    for i in range(n):
        members.setdefault((int(np.floor(x[i] / CELL_M)), int(np.floor(y[i] / CELL_M))), []).append(i)
    cells = list(members.values())
    px = [sum(float(x[i]) for i in c) / len(c) for c in cells]
    py = [sum(float(y[i]) for i in c) / len(c) for c in cells]
    pe = [max(err[i] for i in c) for c in cells]
    label = [-1] * len(cells)
    current = 0
    for start in range(len(cells)):
        if label[start] >= 0:
            continue
        label[start] = current
        todo = [start]
        while todo:
            a = todo.pop()
            for b in range(len(cells)):
                if label[b] < 0:
                    d = float(np.hypot(px[a] - px[b], py[a] - py[b]))
                    if d <= max(link_m, _ERROR_LINK * float(np.hypot(pe[a], pe[b]))):
                        label[b] = current
                        todo.append(b)
        current += 1
    out = np.zeros(n, dtype=np.intp)
    for c, rows in enumerate(cells):
        out[rows] = label[c]
    return _renumber(out)
