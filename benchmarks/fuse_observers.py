"""Patrol reports and radar tracks joined to incidents, scored against the simulator's truth.

The simulator logs, per patrol hour, a bearing and distance to the *first* explosion the team
heard and links the report to every explosion of that hour; radar tracks are linked to the shot
they tracked. From the fuse stage's incidents on the default scenario this prints:

- **patrol links**: a report's link is *right* when its incident is matched (as ``evaluate``
  matches) to an explosion of the report's hour, *exact* when to the first one, the one its
  bearing and distance describe. ``precision`` = right links / links, ``recall`` = right links /
  reports with a bearing and distance whose first explosion has a matched incident;
- **radar**: incidents located by radar alone (fire no array heard) and unlocated acoustic
  incidents the radar located, with the share matched to a true event and their ellipse coverage;
- **localization** per preferred-origin method (``tdoa``/``fused``, ``radar``, ``observer``), so
  that radar-located incidents, whose errors are far below the acoustic CRLB the simulator
  records, do not hide a change in the acoustic figures;
- ``evaluate``'s association and localization sections.

    python benchmarks/fuse_observers.py [--data DIR_WITH_SIMULATION --db INGESTED_STORE]

Without ``--data`` the default scenario (7 days, scale 0.01) is simulated and ingested into a
temporary store first (about 2 minutes on 2 cores).
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from collections import Counter
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))

from _common import write_result
from truceline.agreement import default_agreement
from truceline.fuse import run
from truceline.ingest import ContextChecks, ingest_paths
from truceline.model import Incident, PatrolReport
from truceline.sim import load_truth, scenario, simulate
from truceline.sim.metrics import score_association, score_localization
from truceline.sim.truth import Truth
from truceline.store import ObservationQuery, SQLiteStore, Store


def score(truth: Truth, store: Store) -> dict[str, Any]:
    incidents = [r.record for r in store.records("incident") if isinstance(r.record, Incident)]
    association, matches = score_association(truth, incidents)
    event_of_incident = {inc.id: ev for inc, ev in matches}
    incident_of_ref: dict[tuple[str, str, str], list[Incident]] = {}
    for inc in incidents:
        for o in inc.observations:
            incident_of_ref.setdefault((o.participant, o.source, o.key), []).append(inc)
    matched_events = set(event_of_incident.values())

    # Patrol links.
    links = right = exact = placeable = reachable = 0
    for stored in store.observations(ObservationQuery(kinds=("patrol_report",))):
        rep = stored.observation
        if not isinstance(rep, PatrolReport):
            continue
        group = truth.event_of.get(rep.dedup_key, [])
        first = min(group, key=lambda e: truth.events[e]["time"]) if group else None
        has_point = rep.bearing_deg is not None and rep.distance_m is not None
        placeable += has_point
        reachable += has_point and first in matched_events
        for inc in incident_of_ref.get(rep.dedup_key, []):
            links += 1
            ev = event_of_incident.get(inc.id)
            right += ev in group
            exact += ev is not None and ev == first

    # Radar-located incidents: the acoustic picks they cite, against the truth of their tracks.
    picks: Counter[str] = Counter()
    for inc in incidents:
        origin = inc.preferred_origin
        if origin is None or origin.method != "radar":
            continue
        refs = [(o.participant, o.source, o.key) for o in inc.observations]
        shots = {e for r in refs if not r[1].startswith("ac-") for e in truth.event_of.get(r, [])}
        for r in refs:
            if r[1].startswith("ac-"):
                events = set(truth.event_of.get(r, []))
                picks["right" if events & shots else "false_pick" if not events else "other_blast"] += 1

    # Localization by the preferred origin's method.
    by_method: dict[str, list[tuple[Incident, int]]] = {}
    for inc, ev in matches:
        origin = inc.preferred_origin
        if origin is not None:
            method = "acoustic" if origin.method in ("tdoa", "fused") else origin.method
            by_method.setdefault(method, []).append((inc, ev))
    methods = Counter(inc.preferred_origin.method if inc.preferred_origin else "none" for inc in incidents)
    unmatched = Counter(
        inc.preferred_origin.method if inc.preferred_origin else "none"
        for inc in incidents
        if inc.id not in event_of_incident
    )
    return {
        "association": association,
        "localization": score_localization(truth, matches),
        "localization_by_method": {m: score_localization(truth, v) for m, v in sorted(by_method.items())},
        "incidents_by_preferred_method": dict(methods),
        "unmatched_incidents_by_method": dict(unmatched),
        "radar_located_picks": dict(picks),
        "patrol": {
            "reports_with_bearing_and_distance": placeable,
            "reachable": reachable,
            "links": links,
            "precision": round(right / links, 4) if links else None,
            "exact_share": round(exact / links, 4) if links else None,
            "recall": round(right / reachable, 4) if reachable else None,
        },
    }


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--data", type=Path, help="a simulation's directory (observations.ndjson, truth.json)")
    ap.add_argument(
        "--db", type=Path, help="the store that simulation was ingested into (fuse runs on it if it has no incidents)"
    )
    args = ap.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        data = args.data
        if data is None:
            data = Path(tmp) / "sim"
            simulate(scenario("default"), data)
        db = args.db or Path(tmp) / "store.db"
        store = SQLiteStore(db)
        if store.max_seq() == 0:
            checks = ContextChecks(participants=default_agreement().participant_ids(), now=datetime.now(UTC))
            ingest_paths([str(data / "observations.ndjson")], store, checks, on_reject=lambda r: None)
        fuse_s = None
        if not any(True for _ in store.records("incident")):
            t = time.perf_counter()
            run(store, default_agreement(), after_seq=0, upto_seq=store.max_seq())
            fuse_s = round(time.perf_counter() - t, 2)
        result = score(load_truth(data / "truth.json"), store)
        result["fuse_s"] = fuse_s
        write_result("fuse_observers", result)


if __name__ == "__main__":
    main()
