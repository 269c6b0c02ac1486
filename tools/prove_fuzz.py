"""The long fuzzing run of every untrusted-input parser, with Hypothesis and (when installed) atheris.

    .venv/bin/python tools/prove_fuzz.py [--engine both|hypothesis|atheris] [--seconds 60] [--targets ndjson,csv]
                                         [--json-out build/prove/fuzz.json]

Targets and their allowed clean errors are in tests/fuzz/targets.py; the Hypothesis strategies
in tests/fuzz/strategies.py. Every execution runs under a time limit (a hang is a finding) and
the whole run under an address-space limit (so runaway memory is a finding, not a dead machine);
the peak resident size is reported. Prints a table and a final figure line; exits 1 on any
finding (an exception other than the target's documented clean errors, a hang, or runaway memory).

The time limit is CPU time (10 s), so a machine busy with other work does not turn a slow input
into a "hang". libFuzzer's own limit is wall-clock: it is scaled by the load average when the run
starts, and any input it reports as a timeout is run again here under the 10 s CPU limit; one
that finishes is counted as slow under load (``slow_under_load``, with its CPU seconds), not a hang.
``--json-out`` also writes the figures (executions, crashes, hangs and memory findings per target)
for ``tools/prove_summary.py``.

atheris (libFuzzer for Python; ``pip install atheris`` — 2.3.0 has a wheel for CPython 3.11 on
x86-64 Linux) runs each target in a child process seeded with a copy of tests/fuzz/corpus/.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import resource
import shutil
import signal
import subprocess
import sys
import tempfile
import time
import traceback
from collections import Counter
from collections.abc import Callable
from pathlib import Path
from types import FrameType
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

PER_EXECUTION_TIMEOUT_S = 10
MEMORY_LIMIT_BYTES = 3 * 1024**3
ALL_TARGETS = (
    "ndjson", "csv", "tsv", "geojson", "sniff", "agreement", "agreement-default", "playbook", "playbook-default",
)  # fmt: skip


class Hang(Exception):
    pass


class _Stop(BaseException):
    """Ends a Hypothesis run when its time is up (a BaseException, so it is not taken for a failure)."""


def _alarm(signum: int, frame: FrameType | None) -> None:
    raise Hang(f"no answer within {PER_EXECUTION_TIMEOUT_S} s of CPU time")


def _cpu_limit(seconds: float) -> None:
    """Arm (or with 0, disarm) the per-execution limit on this process's CPU time (SIGPROF)."""
    signal.setitimer(signal.ITIMER_PROF, seconds)


def _wall_timeout() -> int:
    """libFuzzer's per-input limit in wall-clock seconds: 10 s times how oversubscribed the CPUs are."""
    load = os.getloadavg()[0] / (os.cpu_count() or 1)
    return int(PER_EXECUTION_TIMEOUT_S * min(12.0, max(1.0, load)))


def _recheck_timeout(target: str, data: bytes) -> float | None:
    """CPU seconds the target takes on an input libFuzzer timed out, or None if it still hangs."""
    from tests.fuzz.targets import TARGETS

    start = time.process_time()
    _cpu_limit(PER_EXECUTION_TIMEOUT_S)
    try:
        TARGETS[target](data)
    except Hang:
        return None
    except Exception:  # an error is not a hang; the fuzzer would have reported it as a crash
        pass
    finally:
        _cpu_limit(0)
    return round(time.process_time() - start, 2)


def _strategies() -> dict[str, tuple[str, Any]]:
    from hypothesis import strategies as st

    from tests.fuzz import strategies as fz

    return {
        "ndjson": ("ndjson", fz.ndjson_files()),
        "csv": ("csv", fz.csv_files()),
        "tsv": ("tsv", fz.csv_files(delimiter="\t")),
        "geojson": ("geojson", fz.geojson_files()),
        "sniff": ("sniff", st.one_of(fz.ndjson_files(), fz.csv_files(), fz.geojson_files(), st.binary(max_size=2048))),
        "agreement": ("agreement", fz.small_agreements()),
        "agreement-default": ("agreement", fz.mutated_default_agreement()),
        "playbook": ("playbook", fz.small_playbooks()),
        "playbook-default": ("playbook", fz.mutated_default_playbook()),
    }


def run_hypothesis(name: str, seconds: float) -> dict[str, Any]:
    from hypothesis import HealthCheck, given, settings

    from tests.fuzz.targets import TARGETS

    target_name, strategy = _strategies()[name]
    target: Callable[[bytes], dict[str, int]] = TARGETS[target_name]
    stats: Counter[str] = Counter()
    findings: Counter[str] = Counter()
    examples: dict[str, bytes] = {}
    deadline = time.monotonic() + seconds

    @settings(
        max_examples=10_000_000,
        deadline=None,
        database=None,
        suppress_health_check=list(HealthCheck),
    )
    @given(strategy)
    def one(data: bytes) -> None:
        if time.monotonic() > deadline:
            raise _Stop
        stats["executions"] += 1
        _cpu_limit(PER_EXECUTION_TIMEOUT_S)
        try:
            for k, v in target(data).items():
                stats[k] += v
        except (Hang, MemoryError, Exception) as exc:
            frame = traceback.extract_tb(exc.__traceback__)[-1]
            key = f"{type(exc).__name__} at {Path(frame.filename).name}:{frame.lineno}: {str(exc)[:80]}"
            findings[key] += 1
            examples.setdefault(key, data)
        finally:
            _cpu_limit(0)

    try:
        one()
    except _Stop:
        pass
    except Exception as exc:
        findings[f"hypothesis stopped: {type(exc).__name__}: {str(exc)[:80]}"] += 1
    return {"engine": "hypothesis", "target": name, **stats, "findings": dict(findings), "examples": examples}


_ATHERIS_CHILD = """
import sys
sys.path.insert(0, {root!r})
import atheris
# PyYAML is left uninstrumented: atheris 2.3.0's bytecode rewriting breaks its scanner on CPython
# 3.11 ("'str' object has no attribute 'prefix'"), a false crash that plain runs never show.
with atheris.instrument_imports(include=["truceline", "tests"]):
    from tests.fuzz.targets import TARGETS
target = TARGETS[{target!r}]
def one(data):
    target(data)
atheris.Setup([sys.argv[0], *sys.argv[1:]], one)
atheris.Fuzz()
"""


def run_atheris(name: str, seconds: float, work: Path) -> dict[str, Any]:
    target = name.removesuffix("-default")
    seeds = work / f"corpus-{name}"
    seeds.mkdir()
    from tests.fuzz.targets import corpus

    for path in corpus(target):
        shutil.copy(path, seeds / path.name)
    if name == "agreement-default":
        from truceline.agreement.loader import DEFAULT_AGREEMENT_PATH

        shutil.copy(DEFAULT_AGREEMENT_PATH, seeds / "default.yaml")
    elif name == "playbook-default":
        from truceline.act import DEFAULT_PLAYBOOK

        shutil.copy(DEFAULT_PLAYBOOK, seeds / "default.yaml")
    artifacts = work / f"artifacts-{name}"
    artifacts.mkdir()
    wall_timeout = _wall_timeout()
    cmd = [
        sys.executable,
        "-c",
        _ATHERIS_CHILD.format(root=str(ROOT), target=target),
        f"-max_total_time={int(seconds)}",
        f"-timeout={wall_timeout}",
        f"-rss_limit_mb={MEMORY_LIMIT_BYTES // 1024**2}",
        "-max_len=65536",
        f"-artifact_prefix={artifacts}/",
        "-print_final_stats=1",
        str(seeds),
    ]
    done = subprocess.run(cmd, capture_output=True, text=True, timeout=seconds + 300)
    log = done.stderr
    runs = re.findall(r"Done (\d+) runs", log)
    execs = int(runs[-1]) if runs else max((int(n) for n in re.findall(r"^#(\d+)", log, re.M)), default=0)
    findings: Counter[str] = Counter()
    if done.returncode != 0:
        cause = re.search(r"(Uncaught Python exception: .*|ERROR: libFuzzer: .*|==\d+== ERROR: .*)", log)
        last = [ln for ln in log.splitlines() if ln.strip()][-12:]
        findings[(cause.group(1) if cause else f"exit {done.returncode}")[:120]] += 1
        (work / f"atheris-{name}.log").write_text(log)
        print(f"  atheris {name}: finding; the log's end:\n    " + "\n    ".join(last))
    crashes = [p.name for p in artifacts.iterdir()]
    slow: list[dict[str, Any]] = []
    timeouts = [p for p in artifacts.iterdir() if p.name.startswith("timeout-")]
    if timeouts and all(k.startswith("==") and "libFuzzer: timeout" in k for k in findings):
        for path in timeouts:
            cpu = _recheck_timeout(target, path.read_bytes())
            if cpu is not None:
                slow.append({"input": path.name, "cpu_seconds": cpu, "wall_limit_seconds": wall_timeout})
        if len(slow) == len(timeouts):
            print(
                f"  atheris {name}: the timed-out input finishes in {slow[0]['cpu_seconds']} s of CPU: slow, not a hang"
            )
            findings.clear()
    return {
        "engine": "atheris",
        "target": name,
        "executions": execs,
        "findings": dict(findings),
        "artifacts": crashes,
        "wall_timeout_seconds": wall_timeout,
        "slow_under_load": slow,
    }


def _kind(finding: str) -> str:
    """Whether a finding is a hang, runaway memory or a crash (any other uncaught exception)."""
    if finding.startswith("Hang") or "libFuzzer: timeout" in finding:
        return "hangs"
    if finding.startswith("MemoryError") or "out-of-memory" in finding or "rss limit" in finding:
        return "memory"
    return "crashes"


def _per_target(results: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """One row per target: executions by engine, and its findings split into crashes, hangs, memory."""
    rows: dict[str, dict[str, Any]] = {}
    for r in results:
        row = rows.setdefault(
            r["target"], {"target": r["target"], "executions": 0, "crashes": 0, "hangs": 0, "memory": 0, "seconds": 0.0}
        )
        row["executions"] += r["executions"]
        row[f"{r['engine']}_executions"] = r["executions"]
        row["seconds"] = round(row["seconds"] + r["seconds"], 1)
        row["slow_under_load"] = row.get("slow_under_load", 0) + len(r.get("slow_under_load", []))
        for finding, n in r["findings"].items():
            row[_kind(finding)] += n
    return list(rows.values())


def main() -> int:
    parser = argparse.ArgumentParser(description=(__doc__ or "").split("\n")[0])
    parser.add_argument("--engine", choices=["both", "hypothesis", "atheris"], default="both")
    parser.add_argument("--seconds", type=float, default=60.0, help="per target and engine")
    parser.add_argument("--targets", default=",".join(ALL_TARGETS))
    parser.add_argument("--json-out", help="write the figures as JSON to this file (for tools/prove_summary.py)")
    args = parser.parse_args()
    resource.setrlimit(resource.RLIMIT_AS, (MEMORY_LIMIT_BYTES, MEMORY_LIMIT_BYTES))
    signal.signal(signal.SIGPROF, _alarm)
    try:
        import atheris  # noqa: F401

        have_atheris = True
    except ImportError:
        have_atheris = False
    engines = ["hypothesis", "atheris"] if args.engine == "both" else [args.engine]
    if "atheris" in engines and not have_atheris:
        print("atheris is not installed (pip install atheris): running Hypothesis only")
        engines = ["hypothesis"]
    results: list[dict[str, Any]] = []
    started = time.perf_counter()
    with tempfile.TemporaryDirectory(prefix="prove-fuzz-") as tmp:
        work = Path(tmp)
        for name in args.targets.split(","):
            for engine in engines:
                t0 = time.perf_counter()
                if engine == "hypothesis":
                    result = run_hypothesis(name, args.seconds)
                else:
                    result = run_atheris(name, args.seconds, work)
                result["seconds"] = round(time.perf_counter() - t0, 1)
                results.append(result)
                found = sum(result["findings"].values())
                print(
                    f"{engine:<10} {name:<18} {result['executions']:>9,} executions "
                    f"{result.get('clean_error', 0):>8,} clean errors {result.get('rejected', 0):>8,} rejected "
                    f"{found:>3} findings  {result['seconds']:>6} s"
                )
                for key, n in result["findings"].items():
                    print(f"    FINDING ×{n}: {key}")
                    example = result.get("examples", {}).get(key)
                    if example is not None:
                        print(f"      input: {example[:300]!r}")
    # The largest of this process (Hypothesis) and of any atheris child.
    peak_mb = max(resource.getrusage(who).ru_maxrss for who in (resource.RUSAGE_SELF, resource.RUSAGE_CHILDREN)) / 1024
    executions = sum(r["executions"] for r in results)
    new = sum(sum(r["findings"].values()) for r in results)
    elapsed = time.perf_counter() - started
    print(
        f"\nfuzz: {executions:,} executions over {len(results)} target×engine runs, {new} findings "
        f"(crashes or hangs), peak RSS {peak_mb:.0f} MB "
        f"(limit {MEMORY_LIMIT_BYTES // 1024**2} MB), {elapsed:.0f} s"
    )
    figures = {
        "executions": executions,
        "runs": [{k: v for k, v in r.items() if k != "examples"} for r in results],
        "findings": new,
        "peak_rss_mb": round(peak_mb),
        "atheris": have_atheris,
        "seconds": round(elapsed, 1),
    }
    print(json.dumps(figures))
    from tests.prove.figures import write_figures

    targets = _per_target(results)
    write_figures(
        args.json_out,
        "fuzz",
        {
            "ok": new == 0,
            "engines": engines,
            "seconds_per_target_and_engine": args.seconds,
            "executions": executions,
            "crashes": sum(t["crashes"] for t in targets),
            "hangs": sum(t["hangs"] for t in targets),
            "memory": sum(t["memory"] for t in targets),
            "peak_rss_mb": round(peak_mb),
            "memory_limit_mb": MEMORY_LIMIT_BYTES // 1024**2,
            "seconds": round(elapsed, 1),
            "targets": targets,
        },
    )
    return 1 if new else 0


if __name__ == "__main__":
    os.environ.setdefault("PYTHONHASHSEED", "0")
    raise SystemExit(main())
