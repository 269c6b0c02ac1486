"""A simulated run: build the world, fire, sense it day by day, write the reports and the truth.

``simulate(config, out_dir)`` writes ``observations.ndjson`` (the ingest format) and
``truth.json`` (everything the reports are not allowed to say), plus ``media/`` with the claims'
photographs. Each component draws from its own random stream, seeded by (seed, component, day),
so the same seed gives the same bytes and a change to one sensor does not reshuffle the others.
"""

from __future__ import annotations

import shutil
import time
import zlib
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

import numpy as np

from truceline.agreement import Agreement, default_agreement
from truceline.sim import acoustic, airsea, craters, imagery, inspections, observers, radar
from truceline.sim._frame import build_frame
from truceline.sim._truthlog import TruthLog
from truceline.sim.claims import Claims, plan_staging
from truceline.sim.config import ScenarioConfig
from truceline.sim.fire import Shots, simulate_fire
from truceline.sim.ndjson import DayOutput
from truceline.sim.truthdoc import write_events, write_truth
from truceline.sim.world import build_world

OBSERVATIONS_FILE = "observations.ndjson"


@dataclass(frozen=True)
class SimulationSummary:
    """What a run wrote, and how fast."""

    out_dir: Path
    config: ScenarioConfig
    observations: int
    by_kind: dict[str, int]
    events: int
    seconds: float
    phases: dict[str, float] = field(default_factory=dict)

    @property
    def per_minute(self) -> float:
        return self.observations / self.seconds * 60.0 if self.seconds > 0 else 0.0


def _rng(seed: int, name: str, day: int = 0) -> np.random.Generator:
    return np.random.default_rng([seed, zlib.crc32(name.encode()), day])


def simulate(
    config: ScenarioConfig,
    out_dir: str | Path,
    *,
    agreement: Agreement | None = None,
    now: datetime | None = None,
    progress: Callable[[int, int], None] | None = None,
) -> SimulationSummary:
    """Simulate ``config`` into ``out_dir`` (created); see the module docstring."""
    cfg = config
    cfg.check_in_the_past(now or datetime.now(UTC))
    started = time.perf_counter()
    phases: dict[str, float] = {}
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    ag = agreement or default_agreement()
    seed = cfg.seed
    frame = build_frame(ag)
    world = build_world(ag, cfg, frame, _rng(seed, "world"), firing_positions_in_sector=cfg.firing_positions_in_sector)
    shots = simulate_fire(world, _rng(seed, "fire"))
    shots, plans = plan_staging(world, shots, _rng(seed, "staging"))
    shots = shots.finish()
    arrays = acoustic.layout_arrays(world, _rng(seed, "arrays"))
    radars = radar.layout_radars(world, _rng(seed, "radars"))
    stations = inspections.layout_met(world, _rng(seed, "met"))
    towns = observers.patrol_towns(world)
    air_plan = airsea.incursion_plan(world, _rng(seed, "incursions"))
    media = out / "media"
    if media.exists():
        shutil.rmtree(media)
    claims = Claims(world, media if cfg.write_media else None, plans)
    log = TruthLog()
    phases["world"] = time.perf_counter() - started
    start_us = int(cfg.start_time.timestamp() * 1_000_000)
    by_kind: dict[str, int] = {}
    events_tmp = out / ".truth-events.tmp"
    bounds = np.searchsorted(shots.t_h, np.arange(cfg.days + 1) * 24.0)
    with open(out / OBSERVATIONS_FILE, "wb") as obs_file, open(events_tmp, "w", encoding="utf-8") as ev_file:
        for day in range(cfg.days):
            lo, hi = int(bounds[day]), int(bounds[day + 1])
            sel = np.arange(lo, hi)
            day_out = DayOutput()
            det = acoustic.detect(world, arrays, shots, sel, _rng(seed, "acoustic", day))
            local = acoustic.Detections(
                det.shot - lo, det.sensor, det.range_m, det.arrival_s, det.bearing, det.snr, det.outlier
            )
            crlb, n_ac = acoustic.crlb_m(world, arrays, _slice(shots, lo, hi), local, hi - lo)
            log.outlier_picks += acoustic.emit(
                day_out, arrays, det, day, start_us, _rng(seed, "false-picks", day), cfg.false_picks_per_sensor_hour
            )
            radar.emit(
                world, radars, shots, sel, day, start_us, day_out, _rng(seed, "radar", day), log.radar_by_position
            )
            observers.patrols(world, towns, shots, sel, day, start_us, day_out, _rng(seed, "patrols", day), log)
            observers.uav_flights(world, shots, day, start_us, day_out, _rng(seed, "uav", day), log)
            imagery.passes(world, shots, sel, day, start_us, day_out, _rng(seed, "imagery", day), log)
            # Its own stream: crater analyses change no other report of the seed.
            craters.analyses(world, towns, shots, sel, day, start_us, day_out, _rng(seed, "craters", day), log)
            inspections.storage_visits(world, day, start_us, day_out, _rng(seed, "storage", day), log)
            inspections.met_observations(world, stations, day, start_us, day_out, _rng(seed, "weather", day))
            inspections.declarations(world, day, start_us, day_out, _rng(seed, "declarations", day), log)
            airsea.air_and_sea(world, day, day_out, _rng(seed, "air-sea", day), log, air_plan)
            claims.issue(shots, day, day_out, _rng(seed, "claims", day), log)
            day_out.write_sorted(obs_file)
            for kind, n in day_out.counts.items():
                by_kind[kind] = by_kind.get(kind, 0) + n
            write_events(ev_file, world, shots, lo, hi, day_out, crlb, n_ac, start_us, log)
            if progress is not None:
                progress(day + 1, cfg.days)
    phases["days"] = time.perf_counter() - started - phases["world"]
    write_truth(out, world, shots, arrays, radars, stations, log, by_kind, start_us, events_tmp)
    events_tmp.unlink()
    seconds = time.perf_counter() - started
    phases["truth"] = seconds - phases["world"] - phases["days"]
    return SimulationSummary(
        out, cfg, sum(by_kind.values()), dict(sorted(by_kind.items())), len(shots), seconds, phases
    )


def _slice(shots: Shots, lo: int, hi: int) -> Shots:
    cols = {
        n: getattr(shots, n)[lo:hi]
        for n in ("t_h", "side", "sector", "cls", "ox", "oy", "ix", "iy", "parent", "generation", "cause", "position")
    }
    return Shots(**cols)
