"""Sensor → alert under load (``benchmarks/load.py --alerts``): real shots, staged claims, the pipeline.

The plain load is acoustic picks that no shot explains (sensor gateways' noise). With ``--alerts``
three things join it, in the same batches, from the same senders:

* **shots**: every ``shot_every`` seconds a blast at a random point of the northern half of the
  array grid; each array within 20 km hears it at ``t0 + range / c`` (WGS84 range; c at 15 °C,
  the speed fuse assumes without weather reports) from the shot's bearing (3° error), so fuse
  locates real incidents and attribute has the background rate of fire it weighs claims against;
* **false picks**: each array also picks something no blast explains every 20 s (a random
  bearing, low SNR), as real arrays do; it is also how attribute knows they were working;
* **staged claims** (the probes): every ``probe_every`` seconds UKR claims that RUS shelled a
  point of the southern half with mortars 35 minutes ago (a fresher claim waits for its
  evidence window to close, by design). Nothing was fired there, and a dozen
  working arrays would have heard it: attribute finds the claim not corroborated despite
  coverage, writes a ``no_staging`` finding above 0.5, and act issues a signed CAP staging alert;
* ``truceline process --follow`` on the same PostgreSQL database: the pipeline (fuse, attribute,
  verify, assess, act), round after round, beside the API or the workers.

Sensor → alert, per probe: the ``created`` time of its alert record (stored in the transaction
that stores its signed CAP message) minus the claim's sensor time (its ``time``, the moment its
batch was due). A probe with no alert by the end of the drain counts as missed.
"""

from __future__ import annotations

import json
import math
import os
import random
import subprocess
import sys
from collections import deque
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pyproj

from truceline.fuse import incident_id

SOUND_SPEED_M_S = 331.3 + 0.606 * 15.0
"""Fuse's speed of sound with no weather report (15 °C): the shots' picks are consistent with it."""
HEARING_RANGE_M = 20_000.0
FALSE_PICK_EVERY_S = 20.0
CLAIMED_AGO_S = 35 * 60.0
"""How long before its report each staged claim says the shelling was: attribute judges a claim once
its evidence window (25 min past the claimed time, plus 5 min for late picks) has closed, so a
claim about the last half hour waits by design; one about earlier is judged on arrival."""
PROBE_PARTICIPANT = "UKR"
PROBE_SOURCE = "ukr-probe"
GEOD = pyproj.Geod(ellps="WGS84")


def _iso(t: float) -> str:
    return datetime.fromtimestamp(t, UTC).isoformat().replace("+00:00", "Z")


@dataclass
class Scene:
    """The shots and staged claims fed beside the noise picks, and when each probe was sent."""

    arrays: dict[tuple[str, int], tuple[float, float]]  # (participant, array) → (lon, lat)
    shot_every: float
    probe_every: float
    warm_up: float
    seed: int = 12
    pending: dict[str, deque[tuple[float, bytes]]] = field(default_factory=dict)  # participant → (due, body)
    probes: dict[str, float] = field(default_factory=dict)  # claim key → sensor time (epoch s)
    located_by: dict[str, float] = field(default_factory=dict)  # shot's incident id → its 4th pick's time
    shots: int = 0
    _next_shot: float | None = None
    _next_probe: float | None = None
    _next_false: float | None = None
    _false: int = 0
    _began: float | None = None

    def __post_init__(self) -> None:
        self.rng = random.Random(self.seed)
        lons = [p[0] for p in self.arrays.values()]
        lats = [p[1] for p in self.arrays.values()]
        self.box = (min(lons), min(lats), max(lons), max(lats))
        self.middle = (self.box[1] + self.box[3]) / 2

    def due(self, participant: str, when: float) -> list[bytes]:
        """The shot picks and probes of ``participant`` due by ``when`` (its batch's sensor time)."""
        self._schedule(when)
        queue = self.pending.get(participant)
        out: list[bytes] = []
        while queue and queue[0][0] <= when:
            out.append(queue.popleft()[1])
        return out

    def _schedule(self, when: float) -> None:
        if self._began is None:
            self._began = when
            self._next_shot = when
            self._next_probe = when + self.warm_up
            self._next_false = when
        assert self._next_shot is not None and self._next_probe is not None and self._next_false is not None
        while self._next_false <= when:  # each array's false picks, one every FALSE_PICK_EVERY_S
            self._false_pick(self._next_false)
            self._next_false += FALSE_PICK_EVERY_S / len(self.arrays)
        while self._next_shot <= when:
            self._shoot(self._next_shot)
            self._next_shot += self.shot_every
        while self._next_probe <= when:
            self._stage_claim(self._next_probe)
            self._next_probe += self.probe_every

    def _shoot(self, t0: float) -> None:
        lon = self.rng.uniform(self.box[0], self.box[2])
        lat = self.rng.uniform(self.middle + 0.05, self.box[3])
        self.shots += 1
        heard: list[tuple[float, str, str, str]] = []
        for (participant, array), (alon, alat) in self.arrays.items():
            # WGS84 geodesics, as fuse computes them: a flat-earth range is metres off at 20 km,
            # and the picks are timed to 2 ms.
            azimuth, _, d = GEOD.inv(alon, alat, lon, lat)
            if d > HEARING_RANGE_M:
                continue
            t = t0 + d / SOUND_SPEED_M_S + self.rng.gauss(0.0, 0.002)
            bearing = (azimuth + self.rng.gauss(0.0, 3.0)) % 360.0
            doc = self._pick_doc(participant, array, f"shot{self.shots:06d}-{array:02d}", t, bearing, 18.0)
            self._push(participant, t, doc)
            heard.append((t, participant, doc["source"], doc["key"]))
        if len(heard) >= 4:
            # Fuse names an incident after its earliest pick; it can be located once four are in.
            heard.sort()
            first = heard[0]
            iid = incident_id((first[1], first[2], first[3]))
            self.located_by[iid] = heard[3][0]

    def _false_pick(self, t: float) -> None:
        """A pick no blast explains (wind, traffic): it is also how the arrays show they work."""
        participant, array = list(self.arrays)[self._false % len(self.arrays)]
        self._false += 1
        bearing = self.rng.uniform(0.0, 360.0)
        doc = self._pick_doc(participant, array, f"false{self._false:07d}", t, bearing, 7.0)
        self._push(participant, t, doc)

    def _pick_doc(
        self, participant: str, array: int, key: str, t: float, bearing: float, snr_db: float
    ) -> dict[str, Any]:
        alon, alat = self.arrays[(participant, array)]
        return {
            "kind": "acoustic_arrival",
            "participant": participant,
            "source": f"load-{participant.lower()}-{array:02d}",
            "key": key,
            "time": _iso(t),
            "reliability": "B",
            "credibility": 2,
            "time_error_s": 0.002,
            "location": {"lat": alat, "lon": alon, "error": {"semi_major_m": 8.0, "semi_minor_m": 5.0}},
            "markings": {"tlp": "green", "originator": participant},
            "bearing_deg": round(bearing, 2),
            "bearing_error_deg": 3.0,
            "snr_db": snr_db,
            "phase": "blast",
        }

    def _stage_claim(self, t: float) -> None:
        lon = self.rng.uniform(self.box[0] + 0.05, self.box[2] - 0.05)
        lat = self.rng.uniform(self.box[1] + 0.05, self.middle - 0.05)
        key = f"probe-{len(self.probes) + 1:05d}"
        doc = {
            "kind": "claim",
            "participant": PROBE_PARTICIPANT,
            "source": PROBE_SOURCE,
            "key": key,
            "time": _iso(t),
            "reliability": "C",
            "credibility": 3,
            "time_error_s": 60.0,
            "location": {"lat": lat, "lon": lon, "error": {"semi_major_m": 300.0, "semi_minor_m": 300.0}},
            "markings": {"tlp": "green", "originator": PROBE_PARTICIPANT},
            "claimant": PROBE_PARTICIPANT,
            "accused": "RUS",
            "claim_kind": "shelling",
            "claimed_time": _iso(t - CLAIMED_AGO_S),
            "weapon_class": "mortar",
            "media": [],
        }
        self.probes[key] = t
        self._push(PROBE_PARTICIPANT, t, doc)

    def _push(self, participant: str, due: float, doc: dict[str, Any]) -> None:
        queue = self.pending.setdefault(participant, deque())
        queue.append((due, json.dumps(doc, separators=(",", ":")).encode()))
        if len(queue) > 1 and queue[-2][0] > due:  # picks of one shot come in range order, not time order
            ordered = sorted(queue, key=lambda item: item[0])
            queue.clear()
            queue.extend(ordered)


FOLLOWERS: tuple[tuple[tuple[str, ...], float, int, float], ...] = (
    (("fuse",), 2.0, 10, 0.25),
    (("attribute", "verify", "act"), 0.25, 0, 0.05),
    (("assess",), 10.0, 10, 1.0),
)
"""The pipeline as deployed beside a busy feed, (stages, pace, nice, interval) per follower: fuse in
one (each round re-associates minutes of picks, so it starts one every 2 s), the claim → finding →
alert path in another (a round every quarter second when something for it arrived), the daily
assessment in a third, so no stage's round holds up another's. The bulk followers (fuse, assess)
run at a lower CPU priority than ingest and the alert path: acknowledging reports comes first."""


def start_follow(database: str, work: Path, env: dict[str, str]) -> list[subprocess.Popen[bytes]]:
    """``truceline process --follow --stages … --pace …`` per :data:`FOLLOWERS` (logs ``follow-<stages>.log``)."""
    procs = []
    profile_dir = os.environ.get("LOAD_PROFILE_DIR")  # set: each follower runs under cProfile, saved there
    for stages, pace, nice, interval in FOLLOWERS:
        name = "+".join(stages)
        cmd = [sys.executable, "-m", "truceline", "process", "--db", database, "--follow", "--interval", str(interval),
               "--pace", str(pace), "--stages", ",".join(stages)]  # fmt: skip
        if profile_dir:
            cmd[1:1] = ["-m", "cProfile", "-o", str(Path(profile_dir) / f"follow-{name}.prof")]
        if nice:
            cmd[:0] = ["nice", "-n", str(nice)]
        with (work / f"follow-{name}.log").open("wb") as log:
            named = {**env, "PGAPPNAME": f"follow-{name}"}  # its sessions named in pg_stat_activity and logs
            procs.append(
                subprocess.Popen(cmd, stdout=log, stderr=subprocess.STDOUT, env=named, stdin=subprocess.DEVNULL)
            )
    return procs


def wait_processed(database: str, deadline_s: float) -> None:
    """Bounded wait until every follower's cursor reaches the last stored observation."""
    import time

    import psycopg

    from truceline.pipeline import cursor_name

    names = [cursor_name(stages) for stages, *_ in FOLLOWERS]
    end = time.monotonic() + deadline_s
    with psycopg.connect(database, autocommit=True) as conn:
        while time.monotonic() < end:
            top = conn.execute("SELECT coalesce(max(seq), 0) FROM observations").fetchone()
            rows = conn.execute("SELECT name, value FROM cursors WHERE name = ANY(%s)", (names,)).fetchall()
            done = {str(name): int(value) for name, value in rows}
            if top is not None and all(done.get(name, -1) >= int(top[0]) for name in names):
                return
            time.sleep(0.5)


def alert_figures(database: str, scene: Scene, work: Path | None = None) -> dict[str, Any]:
    """Per probe: its staging alert's stored time minus the claim's sensor time.

    With ``work``, also ``probes.log`` there: one line per probe (its seq; sensor, stored,
    finding and alert times, UTC) to line a slow alert up with the follower's rounds."""
    import psycopg

    prefix = f"alert--staging--staging:{PROBE_PARTICIPANT}:{PROBE_SOURCE}:"
    with psycopg.connect(database, autocommit=True) as conn:
        rows = conn.execute(
            "SELECT id, min(created) FROM records WHERE type = 'alert' AND id LIKE %s GROUP BY id", (prefix + "%",)
        ).fetchall()
        incidents = conn.execute("SELECT count(DISTINCT id) FROM records WHERE type = 'incident'").fetchone()
        alerted = {rid[len(prefix) :] for rid, _ in rows}
        missed = sorted(set(scene.probes) - alerted)
        why: dict[str, str] = {}
        for key in missed[:10]:  # the latest judgement of each claim that raised no alert, for the log
            row = conn.execute(
                "SELECT body FROM records WHERE type = 'finding' AND id = %s ORDER BY version DESC LIMIT 1",
                (f"staging:{PROBE_PARTICIPANT}:{PROBE_SOURCE}:{key}",),
            ).fetchone()
            if row is None:
                why[key] = "no finding"
                continue
            finding = json.loads(bytes(row[0]))
            reasons = [f"{e.get('kind')}: {e.get('description', '')[:160]}" for e in finding.get("evidence", [])[1:]]
            why[key] = f"confidence {finding.get('confidence')}; " + "; ".join(reasons)
        first_seen = dict(
            conn.execute(
                "SELECT id, min(created) FROM records WHERE type = 'incident' AND id = ANY(%s) GROUP BY id",
                (list(scene.located_by),),
            ).fetchall()
        )
        stored_rows = conn.execute(
            "SELECT key, received, seq FROM observations WHERE participant = %s AND source = %s",
            (PROBE_PARTICIPANT, PROBE_SOURCE),
        ).fetchall()
        stored_at = {key: received for key, received, _ in stored_rows}
        if work is not None:
            found = dict(
                conn.execute(
                    "SELECT id, min(created) FROM records WHERE type = 'finding' AND id LIKE %s GROUP BY id",
                    (f"staging:{PROBE_PARTICIPANT}:{PROBE_SOURCE}:%",),
                ).fetchall()
            )
            alert_at = {rid[len(prefix) :]: created for rid, created in rows}
            _probe_log(work / "probes.log", scene, stored_rows, found, alert_at)
    located = sorted(float(first_seen[i]) - t for i, t in scene.located_by.items() if i in first_seen)
    latencies = sorted(
        float(created) - scene.probes[rid[len(prefix) :]] for rid, created in rows if rid[len(prefix) :] in scene.probes
    )
    # The pipeline's share: the alert's time minus the moment its claim was stored (acknowledged).
    keyed = [(rid[len(prefix) :], float(created)) for rid, created in rows]
    after_stored = sorted(created - float(stored_at[key]) for key, created in keyed if key in stored_at)

    def q(p: float, values: list[float] | None = None) -> float:
        v = latencies if values is None else values
        return round(v[min(len(v) - 1, math.ceil(p * len(v)) - 1)] * 1000, 1)

    out: dict[str, Any] = {
        "probes": len(scene.probes),
        "alerts": len(latencies),
        "missed": len(scene.probes) - len(latencies),
        "shots": scene.shots,
        "incidents": int(incidents[0]) if incidents else 0,
    }
    if located:  # sensor → incident: stored minus the moment the shot's fourth pick was taken
        out.update(
            shots_locatable=len(scene.located_by),
            shots_with_incident=len(located),
            incident_p50_ms=round(located[len(located) // 2] * 1000, 1),
            incident_p99_ms=round(located[min(len(located) - 1, math.ceil(0.99 * len(located)) - 1)] * 1000, 1),
        )
    if why:
        out["missed_why"] = why
    if latencies:
        out.update(alert_p50_ms=q(0.5), alert_p99_ms=q(0.99), alert_max_ms=round(latencies[-1] * 1000, 1))
    if after_stored:
        out.update(stored_to_alert_p50_ms=q(0.5, after_stored), stored_to_alert_p99_ms=q(0.99, after_stored))
    return out


def _probe_log(
    path: Path,
    scene: Scene,
    stored_rows: list[tuple[str, Any, int]],
    found: dict[str, Any],
    alert_at: dict[str, Any],
) -> None:
    """``probes.log``: per probe, in order of arrival, its seq and four moments (UTC, ms)."""

    def hms(t: Any) -> str:
        return "-" if t is None else datetime.fromtimestamp(float(t), UTC).strftime("%H:%M:%S.%f")[:-3]

    lines = ["seq\tkey\tsensor\tstored\tfinding\talert\tstored_to_alert_ms"]
    for key, received, seq in sorted(stored_rows, key=lambda r: r[2]):
        finding = found.get(f"staging:{PROBE_PARTICIPANT}:{PROBE_SOURCE}:{key}")
        alert = alert_at.get(key)
        took = "-" if alert is None else f"{(float(alert) - float(received)) * 1000:.0f}"
        lines.append(
            f"{seq}\t{key}\t{hms(scene.probes.get(key))}\t{hms(received)}\t{hms(finding)}\t{hms(alert)}\t{took}"
        )
    path.write_text("\n".join(lines) + "\n")


def follow_tail(work: Path, lines: int = 5) -> str:
    out = []
    for stages, *_ in FOLLOWERS:
        path = work / f"follow-{'+'.join(stages)}.log"
        if path.exists():
            tail = path.read_text(errors="replace").splitlines()[-lines:]
            out.append(f"[{'+'.join(stages)}] " + "\n".join(tail))
    return "\n".join(out)
