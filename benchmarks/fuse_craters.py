"""Crater analyses joined to incidents by their back-bearings, scored against the simulator's truth.

The simulator links each crater analysis (a patrol report with ``impact_bearing_deg``) to the
shot that made its crater. From the fuse stage's incidents this prints:

- **links**: a crater's link is *right* when its incident is matched (as ``evaluate`` matches) to
  the crater's shot, *same battery* when to a shot from the same firing position (or, for fire
  from no recorded position, an origin within 500 m). ``precision`` = right links / links;
  ``recall`` = right links / craters whose shot has a matched located incident (``reachable``);
- what fuse decided (its counts: craters with at least one candidate, ambiguous, pending,
  crater-only incidents) and the reasons of the craters that joined nothing;
- crater-only incidents (crossings) and whether they match a true event;
- ``evaluate``'s association and localization sections, and the localization per preferred-origin
  method (as ``fuse_observers.py`` gives it); with ``--baseline`` the same for the same store
  fused with the crater analyses withheld, to check nothing else moved.

    python benchmarks/fuse_craters.py [--data DIR_WITH_SIMULATION --db INGESTED_STORE] [--baseline]

Without ``--data`` the scenario (default: 7 days, scale 0.01) is simulated and ingested into a
temporary store first. ``--db`` is copied before fuse runs on it, so it can be reused.
"""

from __future__ import annotations

import argparse
import json
import math
import os
import platform
import shutil
import sys
import tempfile
import time
from collections import Counter
from collections.abc import Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from unittest import mock

sys.path.insert(0, str(Path(__file__).resolve().parent))

import fuse_observers
from _common import RESULTS
from truceline.agreement import default_agreement
from truceline.fuse import _run as fuse_run
from truceline.fuse import run
from truceline.fuse._craters import CraterReports
from truceline.ingest import ContextChecks, ingest_paths
from truceline.model import Incident, PatrolReport
from truceline.sim import load_truth, scenario, simulate
from truceline.sim.metrics import enu_m, score_association, score_localization
from truceline.sim.truth import Truth
from truceline.store import ObservationQuery, SQLiteStore, Store


def _same_battery(truth: Truth, a: int, b: int) -> bool:
    ea, eb = truth.events[a], truth.events[b]
    if ea.get("firing_position") and ea["firing_position"] == eb.get("firing_position"):
        return True
    e, n = enu_m(ea["origin"]["lon"], ea["origin"]["lat"], eb["origin"]["lon"], eb["origin"]["lat"])
    return math.hypot(e, n) <= 500.0


def score(truth: Truth, store: Store) -> dict[str, Any]:
    incidents = [r.record for r in store.records("incident") if isinstance(r.record, Incident)]
    association, matches = score_association(truth, incidents)
    event_of_incident = {inc.id: ev for inc, ev in matches}
    located_events = {ev for inc, ev in matches if inc.preferred_origin is not None}
    incident_of_ref: dict[tuple[str, str, str], list[Incident]] = {}
    for inc in incidents:
        for o in inc.observations:
            incident_of_ref.setdefault((o.participant, o.source, o.key), []).append(inc)
    reports = reachable = links = right = battery = joined_reports = 0
    by_guess: Counter[str] = Counter()
    crater_only = Counter[str]()
    for stored in store.observations(ObservationQuery(kinds=("patrol_report",))):
        rep = stored.observation
        if not isinstance(rep, PatrolReport) or rep.impact_bearing_deg is None:
            continue
        reports += 1
        shot = truth.event_of.get(rep.dedup_key, [-1])[0]
        reachable += shot in located_events
        by_guess[rep.weapon_class_guess or "none"] += 1
        incs = incident_of_ref.get(rep.dedup_key, [])
        joined_reports += bool(incs)
        for inc in incs:
            only = all(o.source.startswith("crater-") for o in inc.observations)  # the simulator's teams
            ev = event_of_incident.get(inc.id)
            if only:
                crater_only["matched" if ev is not None else "unmatched"] += 1
                continue
            links += 1
            right += ev == shot
            battery += ev is not None and shot >= 0 and _same_battery(truth, ev, shot)
    gross = [c for c in truth.doc.get("crater_analyses", []) if c.get("gross")]
    gross_linked = sum(
        1
        for c in gross
        for inc in incident_of_ref.get(Truth.ref(c["ref"]), [])
        if event_of_incident.get(inc.id) is not None
    )
    return {
        "association": association,
        "localization": score_localization(truth, matches),
        "craters": {
            "reports": reports,
            "reachable": reachable,
            "reports_joined": joined_reports,
            "links": links,
            "right": right,
            "same_battery": battery,
            "precision": round(right / links, 4) if links else None,
            "same_battery_share": round(battery / links, 4) if links else None,
            "recall": round(right / reachable, 4) if reachable else None,
            "gross_errors": len(gross),
            "gross_errors_linked": gross_linked,
            "crater_only_incident_citations": dict(crater_only),
            "by_guess": dict(by_guess),
        },
    }


class _NoCraters(CraterReports):
    """Crater analyses withheld: the baseline run fuses everything else exactly as before."""

    @classmethod
    def from_records(cls, reports: Sequence[PatrolReport], epoch: datetime) -> CraterReports:
        return CraterReports.from_records([], epoch)


def _fuse(db: Path, withhold: bool) -> tuple[SQLiteStore, dict[str, int], float]:
    store = SQLiteStore(db)
    t = time.perf_counter()
    with mock.patch.object(fuse_run, "CraterReports", _NoCraters if withhold else CraterReports):
        counts = run(store, default_agreement(), after_seq=0, upto_seq=store.max_seq())
    return store, counts, round(time.perf_counter() - t, 2)


def _machine() -> dict[str, Any]:
    return {
        "platform": platform.platform(),
        "cpus": os.cpu_count(),
        "python": platform.python_version(),
        "when": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
        "load_average": os.getloadavg(),
    }


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--data", type=Path, help="a simulation's directory (observations.ndjson, truth.json)")
    ap.add_argument("--db", type=Path, help="the store that simulation was ingested into, without incidents")
    ap.add_argument("--scenario", default="default")
    ap.add_argument("--seed", type=int, default=None)
    ap.add_argument("--baseline", action="store_true", help="also fuse a copy with the crater analyses withheld")
    args = ap.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        data = args.data
        if data is None:
            data = Path(tmp) / "sim"
            over = {} if args.seed is None else {"seed": args.seed}
            simulate(scenario(args.scenario, **over), data)
        db = Path(tmp) / "store.db"
        if args.db is not None:
            for suffix in ("", "-wal", "-shm"):
                src = Path(str(args.db) + suffix)
                if src.exists():
                    shutil.copy(src, str(db) + suffix)
        store = SQLiteStore(db)
        if store.max_seq() == 0:
            checks = ContextChecks(participants=default_agreement().participant_ids(), now=datetime.now(UTC))
            ingest_paths([str(data / "observations.ndjson")], store, checks, on_reject=lambda r: None)
        truth = load_truth(data / "truth.json")
        copy = Path(tmp) / "baseline.db"
        if args.baseline:
            for suffix in ("", "-wal", "-shm"):
                if Path(str(db) + suffix).exists():
                    shutil.copy(str(db) + suffix, str(copy) + suffix)
        store, counts, fuse_s = _fuse(db, withhold=False)
        result = score(truth, store)
        result["localization_by_method"] = fuse_observers.score(truth, store)["localization_by_method"]
        result["fuse_counts"] = {k: v for k, v in counts.items() if k.startswith(("crater", "patrol"))}
        result["fuse_s"] = fuse_s
        if args.baseline:
            base, _, base_s = _fuse(copy, withhold=True)
            scored = fuse_observers.score(truth, base)
            result["baseline_without_craters"] = {
                k: scored[k] for k in ("association", "localization", "localization_by_method")
            } | {"fuse_s": base_s}
        # Written here rather than by _common.write_result, which asks git for the commit.
        doc = {"name": "fuse_craters", **result, "machine": _machine()}
        RESULTS.mkdir(exist_ok=True)
        (RESULTS / "fuse_craters.json").write_text(json.dumps(doc, indent=2) + "\n")
        print(json.dumps(doc))


if __name__ == "__main__":
    main()
