"""Sustained ingest load (issue 12): reports at a fixed rate for a fixed time, through the HTTP API
(``truceline serve``) or through NATS JetStream (publish → ``truceline worker``), into PostgreSQL.

    python benchmarks/load.py --mode api  [--rate 5000] [--seconds 600] [--json-out build/prove/load_api.json]
    python benchmarks/load.py --mode nats [--rate 5000] [--seconds 600] [--json-out build/prove/load_nats.json]

What runs: a fresh PostgreSQL database; for ``api`` one ``truceline serve`` process (tokens for four
participants, each sending its own reports as NDJSON batches of ``--batch`` reports, the way a
sensor gateway posts them); for ``nats`` a JetStream server of our own on loopback that fsyncs
every message (``sync_interval: always``) and ``--workers`` ``truceline worker`` processes, fed
by a publisher that validates each report at the edge as ``truceline publish`` does and sends
``--batch`` reports of one sector per message, each message waiting for its PubAck.

The load is open-loop: batch *k* is due at ``k × batch / rate`` seconds and its reports carry that
moment as their sensor time (``time``), whether or not the sender is keeping up, so a slow server
shows as latency and is never hidden by a sender that waits for it. At most ``--in-flight``
requests or messages await an answer; batches still waiting ``--grace`` seconds after the end are
shed and counted as ``unsent`` (a server far below the offered rate would otherwise never finish).

What is measured (sensor time → stored, **not** → alert: neither the API nor the worker raises
alerts; the pipeline's stages run after ingest, and ``benchmarks/alert_latency.py`` measures
stored → signed alert):

* ``p50_ms``/``p99_ms``/``max_ms``: per report, the store's receipt time (stamped on the row in
  the transaction that stores it; the commit follows within that batch's commit) minus its sensor
  time, computed in PostgreSQL over every stored report;
* ``ack_p50_ms``/``ack_p99_ms``: per report, sensor time → the sender holds the acknowledgement
  (the HTTP response, sent after the durable commit; or JetStream's PubAck, before any worker);
* ``achieved_per_s``: acknowledged reports / the seconds the load ran; ``lost``: acknowledged
  reports missing from the database once drained; ``duplicated``: rows beyond distinct keys;
* memory: resident set of the serving processes (the API server; the workers, summed; and the
  NATS server) sampled every ``--sample`` seconds: ``rss_start_mb`` after a 10-second warm-up,
  ``rss_end_mb`` at the end of the load, ``rss_max_mb``, and ``rss_slope_mb_per_min`` (least
  squares over the samples after the warm-up).
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import functools
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))

from _alert_probe import FOLLOWERS, Scene, alert_figures, follow_tail, start_follow, wait_processed

ADMIN_URL = os.environ.get("TRUCELINE_TEST_POSTGRES", "postgresql://postgres@127.0.0.1:5432/postgres")
PARTICIPANTS = ("USA", "GBR", "FRA", "UKR")
SECTORS = ("CL-01", "CL-02", "CL-03", "CL-04")
TRUCELINE = [sys.executable, "-m", "truceline"]
WARM_UP_S = 10.0


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _wait_port(
    port: int, proc: subprocess.Popen[bytes], what: str, log: Path | None = None, seconds: float = 120.0
) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            tail = log.read_text(errors="replace")[-2000:] if log is not None and log.exists() else ""
            raise RuntimeError(f"{what} exited at start (status {proc.returncode})\n{tail}")
        with socket.socket() as s:
            if s.connect_ex(("127.0.0.1", port)) == 0:
                return
        time.sleep(0.1)
    raise RuntimeError(f"{what} did not listen on {port} within {seconds:.0f} s")


@contextlib.contextmanager
def fresh_database() -> Iterator[str]:
    import psycopg

    name = f"truceline_load_{uuid.uuid4().hex[:12]}"
    with psycopg.connect(ADMIN_URL, autocommit=True) as admin:
        admin.execute(f"CREATE DATABASE {name}")
    try:
        yield f"{ADMIN_URL.rsplit('/', 1)[0]}/{name}"
    finally:
        with psycopg.connect(ADMIN_URL, autocommit=True) as admin:
            admin.execute(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")


def rss_mb(pid: int) -> float:
    try:
        with open(f"/proc/{pid}/status") as f:
            for line in f:
                if line.startswith("VmRSS:"):
                    return int(line.split()[1]) / 1024
    except OSError:
        pass
    return 0.0


ARRAYS_PER_PARTICIPANT = 25
MICROPHONES_PER_PARTICIPANT = 100


def array_position(participant: str, array: int) -> tuple[float, float]:
    """(lon, lat) of one of a participant's acoustic arrays (``--alerts``): 100 arrays on a 5 × 20
    grid, 4 km apart, west of the line around Kostyantynivka, so every place there is heard by many."""
    k = PARTICIPANTS.index(participant) * ARRAYS_PER_PARTICIPANT + array
    return 37.55 + 0.055 * (k % 5), 48.20 + 0.036 * (k // 5)


def report(i: int, participant: str, when: datetime) -> bytes:
    """A valid acoustic pick sent by ``participant`` at sensor time ``when``; ``i`` keys it.

    The load's picks come from single microphones (no bearing), the participant's 100 in turn,
    400 in all on a line 100 km south-west of the arrays ``--alerts`` adds: picks that no shot
    explains, which fuse reads and leaves unassociated, as it must with a gateway's noise.
    Each microphone's report is a template with the key and time filled in: the load generator
    shares the machine with what it measures, and a ``json.dumps`` per report cost it a fifth of
    a core at 5,000/s."""
    mic = i % MICROPHONES_PER_PARTICIPANT
    head, middle, tail = _template(participant, mic)
    return b"".join((head, b"k%09d" % i, middle, when.isoformat().replace("+00:00", "Z").encode(), tail))


@functools.lru_cache(maxsize=1024)
def _template(participant: str, mic: int) -> tuple[bytes, bytes, bytes]:
    k = PARTICIPANTS.index(participant) * MICROPHONES_PER_PARTICIPANT + mic
    doc = {
        "kind": "acoustic_arrival",
        "participant": participant,
        "source": f"mic-{participant.lower()}-{mic:03d}",
        "key": "\x00KEY\x00",
        "time": "\x00TIME\x00",
        "reliability": "B",
        "credibility": 2,
        "time_error_s": 0.002,
        "location": {"lat": 47.55, "lon": 34.8 + 0.003 * k, "error": {"semi_major_m": 8.0, "semi_minor_m": 5.0}},
        "markings": {"tlp": "green", "originator": participant},
        "snr_db": 9.0,
        "phase": "blast",
    }
    text = json.dumps(doc, separators=(",", ":")).encode()
    head, rest = text.split(b"\\u0000KEY\\u0000")
    middle, tail = rest.split(b"\\u0000TIME\\u0000")
    return head, middle, tail


@dataclass
class Tally:
    sent: int = 0
    unsent: int = 0
    acknowledged: int = 0
    failed: int = 0
    errors: dict[str, int] = field(default_factory=dict)
    ack_latency: list[tuple[float, int]] = field(default_factory=list)  # (seconds, reports)
    max_in_flight: int = 0

    def fail(self, what: str, n: int) -> None:
        self.failed += n
        self.errors[what] = self.errors.get(what, 0) + 1


class Sampler:
    """RSS of some processes, every ``every`` seconds, in a background task."""

    def __init__(self, pids: dict[str, list[int]], every: float) -> None:
        self.pids = pids
        self.every = every
        self.samples: list[tuple[float, dict[str, float]]] = []
        self._began = time.monotonic()

    async def run(self) -> None:
        while True:
            self.sample()
            await asyncio.sleep(self.every)

    def sample(self) -> None:
        t = time.monotonic() - self._began
        self.samples.append((t, {k: sum(rss_mb(p) for p in v) for k, v in self.pids.items()}))

    def write(self, path: Path) -> None:
        """The samples as a table (seconds, then MiB per group), for ``--logs``."""
        names = list(self.pids)
        lines = ["\t".join(["t_s", *names])]
        lines += ["\t".join([f"{t:.1f}", *(f"{s[n]:.1f}" for n in names)]) for t, s in self.samples]
        path.write_text("\n".join(lines) + "\n")

    def figures(self, key: str, prefix: str = "rss", warm_up: float = WARM_UP_S) -> dict[str, float]:
        pts = [(t, s[key]) for t, s in self.samples]
        if not pts:
            return {}
        warm = [(t, v) for t, v in pts if t >= warm_up] or pts[-1:]
        slope = 0.0
        if len(warm) >= 2:
            mt = sum(t for t, _ in warm) / len(warm)
            mv = sum(v for _, v in warm) / len(warm)
            den = sum((t - mt) ** 2 for t, _ in warm)
            slope = sum((t - mt) * (v - mv) for t, v in warm) / den * 60 if den else 0.0
        return {
            f"{prefix}_start_mb": round(warm[0][1], 1),
            f"{prefix}_end_mb": round(pts[-1][1], 1),
            f"{prefix}_max_mb": round(max(v for _, v in pts), 1),
            f"{prefix}_slope_mb_per_min": round(slope, 3),
        }


def percentile(weighted: list[tuple[float, int]], q: float) -> float:
    """The ``q`` quantile of values given with weights."""
    if not weighted:
        return float("nan")
    ordered = sorted(weighted)
    total = sum(w for _, w in ordered)
    target = q * total
    seen = 0
    for v, w in ordered:
        seen += w
        if seen >= target:
            return v
    return ordered[-1][0]


async def drive(args: argparse.Namespace, send: Any, tally: Tally, sampler: Sampler) -> float:
    """Open-loop load: batch k is due at k × batch / rate; returns the seconds it ran."""
    loop = asyncio.get_running_loop()
    interval = args.batch / args.rate
    total = max(1, round(args.rate * args.seconds / args.batch))
    gate = asyncio.Semaphore(args.in_flight)
    sampling = asyncio.create_task(sampler.run())
    tasks: set[asyncio.Task[None]] = set()
    in_flight = 0
    began_loop = loop.time()
    began_wall = time.time()
    next_id = 0

    async def one(k: int, first: int, when: float) -> None:
        nonlocal in_flight
        async with gate:
            if loop.time() > began_loop + args.seconds + args.grace:
                tally.unsent += args.batch  # the sender fell this far behind: shed, never sent
                return
            in_flight += 1
            tally.max_in_flight = max(tally.max_in_flight, in_flight)
            try:
                await send(k, first, when)
            finally:
                in_flight -= 1

    for k in range(total):
        due = began_loop + k * interval
        delay = due - loop.time()
        if delay > 0:
            await asyncio.sleep(delay)
        task = asyncio.create_task(one(k, next_id, began_wall + k * interval))
        next_id += args.batch
        tasks.add(task)
        task.add_done_callback(tasks.discard)
        if k % max(1, total // 20) == 0 and k:
            print(
                f"  {k * args.batch:,} sent, {tally.acknowledged:,} acknowledged, {tally.failed:,} failed, "
                f"{len(tasks)} batches open",
                flush=True,
            )
    if tasks:
        await asyncio.gather(*tasks)
    seconds = loop.time() - began_loop
    sampler.sample()
    sampling.cancel()
    with contextlib.suppress(asyncio.CancelledError):
        await sampling
    return seconds


def sensor_time(when: float) -> datetime:
    return datetime.fromtimestamp(when, UTC)


def batch_reports(args: argparse.Namespace, scene: Scene | None, k: int, first: int, when: float) -> list[bytes]:
    """Batch ``k`` of ``args.batch`` reports: the shot picks and probes due (``--alerts``), then noise picks."""
    participant = PARTICIPANTS[k % len(PARTICIPANTS)]
    extra = scene.due(participant, when) if scene is not None else []
    stamp = sensor_time(when)
    return extra + [report(first + j, participant, stamp) for j in range(args.batch - len(extra))]


def alerts_beside(
    args: argparse.Namespace, database: str, work: Path, env: dict[str, str]
) -> tuple[Scene | None, list[subprocess.Popen[bytes]]]:
    """With ``--alerts``: the shots and staged claims, and the pipeline's followers on the database."""
    if not args.alerts:
        return None, []
    arrays = {(p, a): array_position(p, a) for p in PARTICIPANTS for a in range(ARRAYS_PER_PARTICIPANT)}
    scene = Scene(arrays, shot_every=args.shot_every, probe_every=args.probe_every, warm_up=args.probe_warm_up)
    return scene, start_follow(database, work, env)


def pipeline_pids(follow: list[subprocess.Popen[bytes]]) -> dict[str, list[int]]:
    """The followers' pids, summed (``pipeline``) and each on its own (``follow-<stages>``)."""
    if not follow:
        return {}
    each = {f"follow-{'+'.join(stages)}": [p.pid] for (stages, *_), p in zip(FOLLOWERS, follow, strict=True)}
    return {"pipeline": [p.pid for p in follow], **each}


def alerts_after(
    args: argparse.Namespace,
    database: str,
    work: Path,
    scene: Scene | None,
    follow: list[subprocess.Popen[bytes]],
    sampler: Sampler,
) -> dict[str, Any]:
    """Once stored: wait (bounded) for the pipeline to catch up, then time every probe's alert."""
    if scene is None or not follow:
        return {}
    for proc in follow:
        if proc.poll() is not None:
            raise RuntimeError(f"a process --follow exited (status {proc.returncode}):\n{follow_tail(work, 30)}")
    began = time.monotonic()
    wait_processed(database, args.drain_max)
    figures: dict[str, Any] = {
        "pipeline_catch_up_s": round(time.monotonic() - began, 1),
        **sampler.figures("pipeline", "pipeline_rss"),
    }
    # Fuse's follower fills its memory with the last KEEP_S of picks by design; the slope once that
    # window is full (a minute's margin) is the one that tells a leak.
    from truceline.fuse._stream import KEEP_S

    late = [t for t, _ in sampler.samples if t >= KEEP_S + 60.0]
    steady = sampler.figures("pipeline", "steady", warm_up=KEEP_S + 60.0) if len(late) >= 2 else {}
    figures["pipeline_rss_steady_from_s"] = KEEP_S + 60.0
    figures["pipeline_rss_steady_slope_mb_per_min"] = steady.get("steady_slope_mb_per_min")
    # Each follower's own: which one grows, if the sum does.
    for name in (k for k in sampler.pids if k.startswith("follow-")):
        one = sampler.figures(name, "steady", warm_up=KEEP_S + 60.0) if len(late) >= 2 else {}
        figures[f"{name}_rss_end_mb"] = round(sampler.samples[-1][1][name], 1) if sampler.samples else None
        figures[f"{name}_rss_steady_slope_mb_per_min"] = one.get("steady_slope_mb_per_min")
    sampler.write(work / "memory.log")
    figures.update(alert_figures(database, scene, work))
    print(f"  pipeline:\n{follow_tail(work, 1)}", flush=True)
    return figures


def stop(procs: list[subprocess.Popen[bytes]]) -> None:
    for proc in procs:
        proc.send_signal(signal.SIGTERM)  # each finishes its round
    for proc in procs:
        try:
            proc.wait(timeout=120)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


def run_api(args: argparse.Namespace, database: str, work: Path) -> tuple[dict[str, Any], Tally]:
    import httpx

    from truceline.server import TokenRegistry

    registry = TokenRegistry(str(work / "tokens.sqlite"))
    tokens = {p: registry.issue(p, ["analyst"], subject=f"load-{p}")[0] for p in PARTICIPANTS}
    registry.close()
    port = _free_port()
    env = {**os.environ, "TRUCELINE_LEDGER_KEY": str(work / "ledger.key")}
    cmd = [*TRUCELINE, "serve", "--db", database, "--port", str(port), "--tokens", str(work / "tokens.sqlite"),
           "--audit", str(work / "audit.sqlite")]  # fmt: skip
    with (work / "serve.log").open("wb") as log:
        server = subprocess.Popen(cmd, stdout=log, stderr=subprocess.STDOUT, env=env, stdin=subprocess.DEVNULL)
    follow: list[subprocess.Popen[bytes]] = []
    try:
        _wait_port(port, server, "truceline serve", work / "serve.log")
        scene, follow = alerts_beside(args, database, work, env)
        tally = Tally()
        sampler = Sampler({"server": [server.pid], **pipeline_pids(follow)}, args.sample)
        url = f"http://127.0.0.1:{port}/v1/observations"

        async def main() -> float:
            limits = httpx.Limits(max_connections=args.in_flight, max_keepalive_connections=args.in_flight)
            async with httpx.AsyncClient(limits=limits, timeout=120.0) as client:

                async def send(k: int, first: int, when: float) -> None:
                    participant = PARTICIPANTS[k % len(PARTICIPANTS)]
                    body = b"\n".join(batch_reports(args, scene, k, first, when))
                    headers = {"authorization": f"Bearer {tokens[participant]}", "content-type": "application/x-ndjson"}
                    tally.sent += args.batch
                    try:
                        r = await client.post(url, content=body, headers=headers)
                    except httpx.HTTPError as exc:
                        tally.fail(type(exc).__name__, args.batch)
                        return
                    if r.status_code != 200:
                        tally.fail(f"HTTP {r.status_code}", args.batch)
                        return
                    tally.acknowledged += args.batch
                    tally.ack_latency.append((time.time() - when, args.batch))

                return await drive(args, send, tally, sampler)

        seconds = asyncio.run(main())
        figures = {"seconds_run": round(seconds, 1), **sampler.figures("server")}
        figures.update(stored_figures(database, tally.acknowledged, args.drain_timeout, args.drain_max))
        figures.update(alerts_after(args, database, work, scene, follow, sampler))
        return figures, tally
    finally:
        stop(follow)
        server.send_signal(signal.SIGTERM)
        try:
            server.wait(timeout=60)
        except subprocess.TimeoutExpired:
            server.kill()
            server.wait()


def run_nats(args: argparse.Namespace, database: str, work: Path) -> tuple[dict[str, Any], Tally]:
    import nats

    from truceline.ingest import ContextChecks, Parsed
    from truceline.ingest.bus import DEFAULT_PREFIX, DEFAULT_STREAM, ensure_stream, message_for, subject_for
    from truceline.ingest.readers import parse_ndjson_line

    port = _free_port()
    conf = work / "nats.conf"
    conf.write_text(f'listen: 127.0.0.1:{port}\njetstream {{ store_dir: "{work / "js"}", sync_interval: always }}\n')
    nats_proc = subprocess.Popen(
        [str(Path(sys.executable).parent / "nats-server"), "-c", str(conf)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    workers: list[subprocess.Popen[bytes]] = []
    follow: list[subprocess.Popen[bytes]] = []
    try:
        _wait_port(port, nats_proc, "nats-server")
        url = f"nats://127.0.0.1:{port}"
        env = {**os.environ, "TRUCELINE_LEDGER_KEY": str(work / "ledger.key")}
        for i in range(args.workers):
            cmd = [*TRUCELINE, "worker", "--database", database, "--nats", url, "--batch", str(args.worker_batch)]
            with (work / f"worker{i}.log").open("wb") as log:
                workers.append(subprocess.Popen(cmd, stdout=log, stderr=subprocess.STDOUT, env=env))
        _wait_ready(database, workers)
        scene, follow = alerts_beside(args, database, work, env)
        tally = Tally()
        sampler = Sampler(
            {"workers": [w.pid for w in workers], "nats": [nats_proc.pid], **pipeline_pids(follow)}, args.sample
        )

        from truceline.agreement import default_agreement

        known = frozenset(default_agreement().participant_ids())

        async def main() -> float:
            nc = await nats.connect(url, connect_timeout=5)
            try:
                js = nc.jetstream()
                await ensure_stream(js, DEFAULT_STREAM, DEFAULT_PREFIX)

                async def send(k: int, first: int, when: float) -> None:
                    # The agreement's participants, as the API and the workers check them (a staged
                    # claim accuses RUS, which sends no report here but is a party).
                    checks = ContextChecks(known, datetime.now(UTC))
                    group: list[tuple[tuple[str, str, str], bytes]] = []
                    for j, raw in enumerate(batch_reports(args, scene, k, first, when)):
                        item = parse_ndjson_line("load", first + j, raw)  # validated at the edge
                        if not isinstance(item, Parsed) or checks.check(item.record, item.observation) is not None:
                            tally.fail("invalid at the edge", 1)
                            continue
                        group.append((item.observation.dedup_key, item.body))
                    tally.sent += args.batch
                    payload, msg_id = message_for(group)
                    subject = subject_for(DEFAULT_PREFIX, SECTORS[k % len(SECTORS)])
                    try:
                        await js.publish(subject, payload, headers={"Nats-Msg-Id": msg_id}, timeout=30)
                    except Exception as exc:  # counted as not acknowledged: never stored
                        tally.fail(type(exc).__name__, len(group))
                        return
                    tally.acknowledged += len(group)
                    tally.ack_latency.append((time.time() - when, len(group)))

                return await drive(args, send, tally, sampler)
            finally:
                await nc.close()

        seconds = asyncio.run(main())
        figures = {
            "seconds_run": round(seconds, 1),
            **sampler.figures("workers"),
            **sampler.figures("nats", "nats_rss"),
        }
        figures.update(
            stored_figures(database, tally.acknowledged, args.drain_timeout, args.drain_max)
        )  # workers still running
        figures.update(alerts_after(args, database, work, scene, follow, sampler))
        return figures, tally
    finally:
        stop(follow)
        for i, w in enumerate(workers):
            if w.poll() is not None:  # a worker that died says why
                log_text = (work / f"worker{i}.log").read_text(errors="replace")[-3000:]
                print(f"worker {i} exited early (status {w.returncode}):\n{log_text}", file=sys.stderr)
            w.send_signal(signal.SIGTERM)
        for w in workers:
            try:
                w.wait(timeout=60)
            except subprocess.TimeoutExpired:
                w.kill()
                w.wait()
        nats_proc.terminate()
        nats_proc.wait(timeout=30)


def _wait_ready(database: str, workers: list[subprocess.Popen[bytes]]) -> None:
    """Bounded wait until the workers have created the schema (their start-up is not load)."""
    import psycopg

    for _ in range(1200):
        if any(w.poll() is not None for w in workers):
            raise RuntimeError("a worker exited at start")
        with contextlib.suppress(psycopg.Error), psycopg.connect(database) as conn:
            conn.execute("SELECT 1 FROM observations LIMIT 1")
            time.sleep(3.0)  # the consumers subscribe right after the schema
            return
        time.sleep(0.1)
    raise RuntimeError("the workers did not create the schema within two minutes")


def stored_figures(database: str, acknowledged: int, drain_timeout: float, drain_max: float) -> dict[str, Any]:
    """Wait (bounded) until the acknowledged reports are stored, then count and time them.

    ``drained`` is 0 if the wait ended first (no progress for ``drain_timeout`` seconds, or
    ``drain_max`` in all): then ``lost`` counts reports still unstored, not necessarily lost."""
    import psycopg

    began = time.monotonic()
    last, last_change = -1, time.monotonic()
    with psycopg.connect(database, autocommit=True) as conn:
        while True:
            row = conn.execute("SELECT count(*) FROM observations").fetchone()
            count = int(row[0]) if row else 0
            if count >= acknowledged:
                break
            if count != last:
                last, last_change = count, time.monotonic()
            if time.monotonic() - last_change > drain_timeout or time.monotonic() - began > drain_max:
                break
            time.sleep(0.5)
        drain = time.monotonic() - began
        row = conn.execute(
            "SELECT count(*), count(DISTINCT (participant, source, key)), "
            "percentile_cont(0.5) WITHIN GROUP (ORDER BY received - time), "
            "percentile_cont(0.99) WITHIN GROUP (ORDER BY received - time), max(received - time) "
            "FROM observations"
        ).fetchone()
    assert row is not None
    rows, distinct = int(row[0]), int(row[1])
    return {
        "drained": int(distinct >= acknowledged),
        "stored": rows,
        "lost": max(0, acknowledged - distinct),
        "duplicated": rows - distinct,
        "drain_s": round(drain, 1),
        "p50_ms": round(float(row[2] or 0) * 1000, 1),
        "p99_ms": round(float(row[3] or 0) * 1000, 1),
        "max_ms": round(float(row[4] or 0) * 1000, 1),
    }


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--mode", choices=("api", "nats"), required=True, help="through the HTTP API, or through NATS")
    ap.add_argument("--rate", type=float, default=5000.0, help="reports per second offered")
    ap.add_argument("--seconds", type=float, default=600.0, help="how long the load lasts")
    ap.add_argument("--batch", type=int, default=250, help="reports per POST (api) or per NATS message (nats)")
    ap.add_argument("--in-flight", type=int, default=32, help="most requests or messages awaiting an answer")
    ap.add_argument("--workers", type=int, default=2, help="truceline worker processes (nats)")
    ap.add_argument("--worker-batch", type=int, default=500, help="the workers' --batch (reports per commit)")
    ap.add_argument("--grace", type=float, default=10.0, help="a batch still unsent this long after the end is shed")
    ap.add_argument("--sample", type=float, default=2.0, help="seconds between memory samples")
    ap.add_argument("--drain-timeout", type=float, default=120.0, help="give up draining after this long idle")
    ap.add_argument("--drain-max", type=float, default=900.0, help="give up draining after this long in all")
    ap.add_argument(
        "--alerts", action="store_true",
        help="also shots, staged claims and 'truceline process --follow': measures sensor → alert",
    )  # fmt: skip
    ap.add_argument("--shot-every", type=float, default=2.0, help="seconds between shots (--alerts)")
    ap.add_argument("--probe-every", type=float, default=5.0, help="seconds between staged claims (--alerts)")
    ap.add_argument("--probe-warm-up", type=float, default=90.0, help="seconds of shots before the first claim")
    ap.add_argument("--json-out", help="write the figures as JSON to this file (for tools/prove_summary.py)")
    ap.add_argument("--logs", help="copy the server's, workers' and followers' logs into this directory")
    args = ap.parse_args()
    with tempfile.TemporaryDirectory(prefix="truceline-load-") as tmp, fresh_database() as database:
        work = Path(tmp)
        print(f"load through {args.mode}: {args.rate:,.0f} reports/s for {args.seconds:,.0f} s …", flush=True)
        runner = run_api if args.mode == "api" else run_nats
        try:
            figures, tally = runner(args, database, work)
        finally:
            if args.logs:
                Path(args.logs).mkdir(parents=True, exist_ok=True)
                for log in work.glob("*.log"):
                    shutil.copy(log, Path(args.logs) / log.name)
    seconds = float(figures["seconds_run"])
    result: dict[str, Any] = {
        "name": f"load_{args.mode}" + ("_alerts" if args.alerts else ""),
        "rate_per_s": args.rate,
        "seconds": args.seconds,
        "batch": args.batch,
        "sent": tally.sent,
        "unsent": tally.unsent,
        "acknowledged": tally.acknowledged,
        "failed": tally.failed,
        "achieved_per_s": round(tally.acknowledged / seconds, 1) if seconds else 0.0,
        "ack_p50_ms": round(percentile(tally.ack_latency, 0.5) * 1000, 1),
        "ack_p99_ms": round(percentile(tally.ack_latency, 0.99) * 1000, 1),
        "max_in_flight": tally.max_in_flight,
        **figures,
        "cpus": os.cpu_count() or 0,
    }
    if args.mode == "nats":
        result["workers"] = args.workers
    print(
        f"load_{args.mode}: {result['achieved_per_s']:,.0f}/s acknowledged of {args.rate:,.0f}/s offered; "
        f"sensor→stored p50 {result['p50_ms']} ms, p99 {result['p99_ms']} ms; lost {result['lost']}, "
        f"duplicated {result['duplicated']}, failed {tally.failed} {tally.errors or ''}"
    )
    if args.alerts:
        print(
            f"sensor→alert: {result.get('alerts', 0)} alerts for {result.get('probes', 0)} staged claims "
            f"(missed {result.get('missed')}), p50 {result.get('alert_p50_ms')} ms, "
            f"p99 {result.get('alert_p99_ms')} ms (stored → alert p50 {result.get('stored_to_alert_p50_ms')} ms, "
            f"p99 {result.get('stored_to_alert_p99_ms')} ms); "
            f"sensor → incident p50 {result.get('incident_p50_ms')} ms, p99 {result.get('incident_p99_ms')} ms; "
            f"pipeline memory slope {result.get('pipeline_rss_slope_mb_per_min')} MB/min "
            f"(from {result.get('pipeline_rss_steady_from_s')} s, fuse's window full: "
            f"{result.get('pipeline_rss_steady_slope_mb_per_min')} MB/min)"
        )
    print(json.dumps(result))
    if args.json_out:
        out = Path(args.json_out)
        out.parent.mkdir(parents=True, exist_ok=True)
        out.write_text(json.dumps(result, indent=2) + "\n")
    ok = result["lost"] == 0 and result["duplicated"] == 0 and tally.failed == 0
    return 0 if ok and result.get("missed", 0) == 0 else 1


if __name__ == "__main__":
    raise SystemExit(main())
