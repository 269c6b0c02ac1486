"""Fire: per contact-line sector, a bivariate Hawkes process of the two sides' firing events.

Each sector's process has its own baselines (proportional to its length and heat), a branching
matrix near the scenario's and a common decay; the escalation-spiral sector and the build-up
sector run scripted day-by-day multipliers of the baseline and of the excitation (recorded in
the truth as daily series). Every event then gets a weapon class, a firing position of its side
and class (so fire clusters on real batteries, as radar crews see it) and an impact across the
line within the weapon's reach.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np
from numpy.typing import NDArray
from scipy.spatial import cKDTree

from truceline.sim.hawkes import HawkesParams, simulate_hawkes
from truceline.sim.world import FIRE_CLASSES, REACH_KM, World, lonlat

FloatArray = NDArray[np.float64]
IntArray = NDArray[np.intp]

CAUSES = ("background", "retaliation", "follow_up", "offensive", "staging")
_MIX_NORMAL = np.array([0.34, 0.12, 0.30, 0.08, 0.14, 0.02])  # in FIRE_CLASSES order
_MIX_OFFENSIVE = np.array([0.12, 0.03, 0.40, 0.25, 0.12, 0.08])
_NIGHT_PEAK_H = 1.0  # UTC; fire peaked in the small hours in every monitoring mission's logs


@dataclass
class Shots:
    """Every firing event of the run, in time order once :meth:`finish` has run."""

    t_h: FloatArray
    side: IntArray
    sector: IntArray
    cls: IntArray
    ox: FloatArray
    oy: FloatArray
    ix: FloatArray
    iy: FloatArray
    parent: IntArray
    generation: IntArray
    cause: IntArray
    position: IntArray  # object row of the firing position, -1 for none
    hawkes: dict[str, dict[str, Any]] = field(default_factory=dict)

    def __len__(self) -> int:
        return len(self.t_h)

    def append(self, other: Shots) -> Shots:
        n = len(self)
        cols = {
            name: np.concatenate([getattr(self, name), getattr(other, name)])
            for name in ("t_h", "side", "sector", "cls", "ox", "oy", "ix", "iy", "generation", "cause", "position")
        }
        cols["parent"] = np.concatenate([self.parent, np.where(other.parent >= 0, other.parent + n, -1)])
        return Shots(**cols, hawkes={**self.hawkes, **other.hawkes})

    def finish(self) -> Shots:
        """Sort by time (parents re-indexed) and compute lon/lat once."""
        order = np.argsort(self.t_h, kind="stable")
        rank = np.empty_like(order)
        rank[order] = np.arange(len(order))
        cols = {
            n: getattr(self, n)[order]
            for n in ("t_h", "side", "sector", "cls", "ox", "oy", "ix", "iy", "generation", "cause", "position")
        }
        p = self.parent[order]
        cols["parent"] = np.where(p >= 0, rank[np.maximum(p, 0)], -1)
        return Shots(**cols, hawkes=self.hawkes)

    def lonlat(self) -> tuple[FloatArray, FloatArray, FloatArray, FloatArray]:
        olon, olat = lonlat(self.ox, self.oy)
        ilon, ilat = lonlat(self.ix, self.iy)
        return olon, olat, ilon, ilat


def empty_shots() -> Shots:
    f, i = np.zeros(0), np.zeros(0, dtype=np.intp)
    return Shots(f, i, i, i, f, f, f, f, i, i, i, i)


def daily_profiles(world: World, sector: int, rho: float) -> tuple[FloatArray, FloatArray]:
    """(baseline multiplier per side and day (2, days), excitation multiplier per day).

    ``rho`` is the sector's own branching ratio: the spiral scales it up to the scenario's peak.
    """
    cfg = world.cfg
    days = np.arange(cfg.days, dtype=np.float64)
    base = np.ones((2, cfg.days))
    excite = np.ones(cfg.days)
    sid = world.frame.sector_ids[sector]
    if sid == cfg.spiral_sector:
        # The OSCE-observed shape: a sharp drop (a renewed commitment), a slow rise, then escalation.
        drop, rise = round(0.2 * cfg.days), max(round(0.55 * cfg.days), round(0.2 * cfg.days) + 1)
        m = np.where(days < drop, 1.0, 0.15 + 0.85 * np.clip((days - drop) / max(rise - drop, 1), 0, 1))
        esc = np.clip((days - rise) / max(cfg.days - 1 - rise, 1), 0, 1)
        base *= (m * (1.0 + 1.5 * esc))[None, :]
        excite = 1.0 + esc * (cfg.spiral_peak_branching / rho - 1.0)
    if sector == world.buildup_sector and cfg.onset is not None and cfg.offensive is not None:
        att = world.attacker
        progress = np.clip((days - cfg.onset + 1) / cfg.buildup_days, 0, 1)
        on = days >= cfg.offensive
        # Across a border there is no fire at all until the attack: only the build-up shows.
        quiet_before = 0.0 if world.frame.sector_kinds[sector] == "approach_axis" else 1.0
        base[att] *= np.where(on, cfg.offensive_fire_multiplier, quiet_before * (1.0 + 1.5 * progress))
        base[1 - att] *= np.where(on, 0.4 * cfg.offensive_fire_multiplier, quiet_before * (1.0 + 0.8 * progress))
    return base, excite


def simulate_fire(world: World, rng: np.random.Generator) -> Shots:
    cfg, frame = world.cfg, world.frame
    heat = np.array(
        [
            cfg.sector_heat.get(frame.sector_ids[k], 1.0) * len(frame.samples(frame.sector_ids[k]))
            for k in world.fire_sectors
        ]
    )
    share = heat / heat.sum()
    tree = cKDTree(np.column_stack([frame.x, frame.y]))
    shots = empty_shots()
    for k, sector in enumerate(world.fire_sectors):
        sid = frame.sector_ids[int(sector)]
        total = cfg.scale * cfg.background_per_day * share[k] / 24.0  # events/hour, both sides
        alpha = np.array(cfg.alpha) * rng.uniform(0.85, 1.1, (2, 2))
        params = HawkesParams(
            (0.45 * total, 0.55 * total), ((alpha[0, 0], alpha[0, 1]), (alpha[1, 0], alpha[1, 1])), cfg.beta_per_hour
        )
        base, excite = daily_profiles(world, int(sector), params.branching_ratio)
        amp = cfg.diurnal_amplitude

        def baseline(t: FloatArray, c: IntArray, base: FloatArray = base, amp: float = amp) -> FloatArray:
            day = np.minimum((t // 24).astype(np.intp), cfg.days - 1)
            return np.asarray(base[c, day] * (1.0 + amp * np.cos(2 * np.pi * (t % 24 - _NIGHT_PEAK_H) / 24)))

        def excitation(t: FloatArray, c: IntArray, excite: FloatArray = excite) -> FloatArray:
            return np.asarray(excite[np.minimum((t // 24).astype(np.intp), cfg.days - 1)])

        ev = simulate_hawkes(
            params,
            cfg.days * 24.0,
            rng,
            baseline=baseline,
            baseline_max=float(base.max()) * (1 + amp),
            excitation=excitation,
        )
        rho = params.branching_ratio
        shots = shots.append(_dress(world, rng, tree, int(sector), ev.t, ev.type, ev.parent, ev.generation))
        shots.hawkes[sid] = {
            "kernel": "phi_ij(t) = alpha_ij * beta * exp(-beta * t), t in hours; type 0 = UKR fire, 1 = RUS fire",
            "mu_per_day": [round(params.mu[0] * 24, 6), round(params.mu[1] * 24, 6)],
            "alpha": [[round(a, 6) for a in row] for row in params.alpha],
            "beta_per_hour": params.beta,
            "branching_ratio": round(rho, 6),
            "diurnal_amplitude": amp,
            "diurnal_peak_utc_h": _NIGHT_PEAK_H,
            "daily_baseline_multiplier": [[round(float(v), 6) for v in row] for row in base],
            "daily_excitation_multiplier": [round(float(v), 6) for v in excite],
            "daily_branching_ratio": [round(float(rho * g), 6) for g in excite],
            "scripted": "spiral"
            if sid == cfg.spiral_sector
            else "buildup"
            if int(sector) == world.buildup_sector
            else None,
            "events": len(ev.t),
        }
    return shots


def _dress(
    world: World,
    rng: np.random.Generator,
    tree: cKDTree,
    sector: int,
    t_h: FloatArray,
    side: IntArray,
    parent: IntArray,
    generation: IntArray,
) -> Shots:
    """Give each event a class, a firing position, an origin and an impact."""
    cfg = world.cfg
    n = len(t_h)
    day = (t_h // 24).astype(np.intp)
    offensive = (
        (sector == world.buildup_sector)
        & (cfg.offensive is not None)
        & (day >= (cfg.offensive or 0))
        & (side == world.attacker)
    )
    cls = np.where(
        offensive,
        rng.choice(len(FIRE_CLASSES), n, p=_MIX_OFFENSIVE / _MIX_OFFENSIVE.sum()),
        rng.choice(len(FIRE_CLASSES), n, p=_MIX_NORMAL / _MIX_NORMAL.sum()),
    ).astype(np.intp)
    # Tit for tat in kind: half of the responses answer with the weapon that provoked them.
    has_parent = parent >= 0
    same = has_parent & (rng.random(n) < 0.5)
    for _ in range(int(generation.max(initial=0)) + 1):  # parents precede children in time order
        cls = np.where(same, cls[np.maximum(parent, 0)], cls)
    cause = np.where(
        offensive & ~has_parent, 3, np.where(~has_parent, 0, np.where(side[np.maximum(parent, 0)] != side, 1, 2))
    )
    position = np.full(n, -1, dtype=np.intp)
    objs = world.objects
    ox, oy = np.zeros(n), np.zeros(n)
    for s in (0, 1):
        for c, name in enumerate(FIRE_CLASSES):
            rows = world.fp_index.get((sector, s, name), [])
            m = np.flatnonzero((side == s) & (cls == c))
            if not rows or not len(m):
                continue
            pick = np.array(rows)[rng.integers(0, len(rows), len(m))]
            position[m] = pick
            ox[m] = np.array(objs.x)[pick] + rng.normal(0, 150, len(m))
            oy[m] = np.array(objs.y)[pick] + rng.normal(0, 150, len(m))
    _, near = tree.query(np.column_stack([ox, oy]))
    reach = np.array([REACH_KM[c] for c in FIRE_CLASSES])[cls] * 1000.0
    ix, iy = world.frame.place(near, 1 - side, rng.uniform(0.3, 1.0, n) * reach, rng.normal(0, 1500, n))
    return Shots(
        t_h,
        side.astype(np.intp),
        np.full(n, sector, dtype=np.intp),
        cls,
        ox,
        oy,
        ix,
        iy,
        parent.astype(np.intp),
        generation.astype(np.intp),
        cause.astype(np.intp),
        position,
    )
