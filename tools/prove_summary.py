"""Gather the proof steps' figures (``build/prove/*.json``) into one Markdown table.

    .venv/bin/python tools/prove_summary.py [build/prove] [--expect policy,crash,...] [--out build/prove/summary.md]

Every step of ``make prove`` writes one JSON object with a ``name`` (``--json-out`` of the tools,
``TRUCELINE_PROVE_OUT`` of the pytest step). This prints one table — crash cycles, acknowledged,
lost and duplicated reports, commit faults, tamper faults injected and detected, fuzz executions,
crashes and hangs per parser, policy cases and leaks, load p99 and memory — to stdout and writes it
to ``summary.md`` beside the figures. A step whose file is missing shows as "not run"; several
files of one step (the crash modes run apart) are merged. A load run passes with nothing lost or
duplicated, the offered rate achieved (99 %) and the sensor-to-stored p99 at most 1 s. Exit
status 1 when a step failed or stopped early, or when a step named in ``--expect`` did not run; a
missing step not expected (the server worker crash and load runs, while their tools are absent)
is shown, not fatal.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Callable, Iterable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

Row = tuple[str, str, str, str]  # proof, figures, result, time
PASS, FAIL, NOT_RUN, NO_VERDICT, INCOMPLETE = "pass", "**FAIL**", "not run", "—", "incomplete"


def _n(value: Any) -> str:
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, int):
        return f"{value:,}"
    if isinstance(value, float):
        return f"{value:,.1f}" if value >= 100 else f"{value:,.3g}"
    return str(value)


def _seconds(data: dict[str, Any]) -> str:
    s = data.get("seconds")
    if not isinstance(s, int | float):
        return ""
    return f"{s / 60:.1f} min" if s >= 120 else f"{s:.0f} s"


def _verdict(data: dict[str, Any]) -> str:
    for key in ("ok", "passed", "pass"):
        if isinstance(data.get(key), bool | int) and data[key] in (0, 1):  # True/False, or 1/0
            return PASS if data[key] else FAIL
    counts = [data[k] for k in ("lost", "duplicated", "leaks", "crashes", "hangs") if isinstance(data.get(k), int)]
    if counts:
        return PASS if not any(counts) else FAIL
    return NO_VERDICT


def _scalars(data: dict[str, Any], skip: Iterable[str] = ()) -> str:
    """Every plain figure of an object, for a step this tool knows nothing particular about."""
    left_out = {"name", "ok", "finished", "machine", "seconds", *skip}
    parts = [f"{k.replace('_', ' ')} {_n(v)}" for k, v in data.items() if k not in left_out and _plain(v)]
    return ", ".join(parts) or "(no figures)"


def _plain(value: Any) -> bool:
    return isinstance(value, bool | int | float | str) and len(str(value)) < 60


def _crash(data: dict[str, Any]) -> list[Row]:
    rows = []
    for m in sorted(data.get("modes", []), key=lambda m: str(m.get("mode", ""))):
        lost, dup = m.get("lost", 0), m.get("duplicated", 0)
        ok = not (lost or dup or m.get("audits_failed") or m.get("incomplete_rounds") or m.get("orphaned_workers"))
        verdict = (PASS if not m.get("partial") else INCOMPLETE) if ok else FAIL
        figures = (
            f"{_n(m['cycles'])} SIGKILL cycles ({_n(m['kills'])} kills, {_n(m['kills_after_acknowledgements'])} "
            f"after acknowledgements) of a {_n(data.get('records', 0))}-report ingest; "
            f"{_n(m['acknowledged'])} acknowledged (summed over checks): **{_n(lost)} lost, {_n(dup)} duplicated**; "
            f"{_n(m['audits'] - m['audits_failed'])}/{_n(m['audits'])} rounds complete with `ledger verify` passing"
        )
        if m.get("partial"):
            figures += " (stopped before the last cycle: figures so far)"
        rows.append((f"crash: embedded ingest, {m['mode']}", figures, verdict, _seconds(m)))
    return rows or [("crash: embedded ingest", _scalars(data), _verdict(data), _seconds(data))]


def _worker_crash(data: dict[str, Any]) -> list[Row]:
    known: list[str] = [k for k in ("cycles", "acknowledged", "lost", "duplicated") if k in data]
    figures = ", ".join(f"{_n(data[k])} {k}" for k in known)
    if "cycles" in data and "acknowledged" in data:
        figures = (
            f"{_n(data['cycles'])} SIGKILL cycles of the worker ({_n(data.get('kills_leaving_unacked', 0))} leaving "
            f"unacknowledged messages); {_n(data['acknowledged'])} acknowledged: **{_n(data.get('lost', 0))} lost, "
            f"{_n(data.get('duplicated', 0))} duplicated**; ledger {'verified' if data.get('ledger_ok') else 'FAILED'}"
        )
        known = [*known, "kills_leaving_unacked", "ledger_ok"]
    rest = _scalars(data, skip=known)
    figures = "; ".join(p for p in (figures, rest if rest != "(no figures)" else "") if p) or rest
    return [("crash: server worker (PostgreSQL + NATS JetStream)", figures, _verdict(data), _seconds(data))]


def _pytest(data: dict[str, Any]) -> list[Row]:
    rows = []
    for store, label in (("sqlite", "SQLite"), ("postgresql", "PostgreSQL")):
        n = data.get(f"{store}_injected", 0)
        if not n:
            continue
        clean, verified = data.get(f"{store}_clean_errors", 0), data.get(f"{store}_verified", 0)
        figures = (
            f"{_n(n)} full-disk / I/O-error / lost-connection faults during commit: {_n(clean)} clean errors, "
            f"{_n(verified)} with `ledger verify` passing after"
        )
        rows.append((f"commit faults: {label} store", figures, PASS if clean == verified == n else FAIL, ""))
    figures = (
        f"{_n(data.get('tests_passed', 0))} passed, {_n(data.get('tests_failed', 0))} failed, "
        f"{_n(data.get('tests_skipped', 0))} skipped"
    )
    rows.append((f"pytest {data.get('paths', 'tests/prove tests/fuzz')}", figures, _verdict(data), _seconds(data)))
    return rows


def _tamper(data: dict[str, Any]) -> list[Row]:
    n, det = data.get("faults", 0), data.get("detected", 0)
    figures = (
        f"{_n(n)} faults injected in {_n(data.get('classes', 0))} classes, **{_n(det)} detected "
        f"({100 * det / max(n, 1):.2f} %)**, {_n(data.get('crashes', 0))} audit crashes, "
        f"{_n(data.get('named_exactly', 0))}/{_n(data.get('nameable', 0))} changed records named exactly"
    )
    if data.get("refused"):
        figures += f"; {_n(data['refused'])} more refused by the database itself (not counted above)"
    title = "tamper: `truceline ledger verify`" + (", PostgreSQL store" if data.get("name") == "tamper_pg" else "")
    return [(title, figures, _verdict(data), _seconds(data))]


def _fuzz(data: dict[str, Any]) -> list[Row]:
    rows = []
    for t in data.get("targets", []):
        engines = ", ".join(
            f"{e} {_n(t[f'{e}_executions'])}" for e in ("hypothesis", "atheris") if f"{e}_executions" in t
        )
        bad = t["crashes"] + t["hangs"] + t["memory"]
        figures = (
            f"{_n(t['executions'])} executions ({engines}): **{_n(t['crashes'])} crashes, {_n(t['hangs'])} hangs**, "
            f"{_n(t['memory'])} over the memory limit"
        )
        if t.get("slow_under_load"):
            figures += f"; {_n(t['slow_under_load'])} timed out under load and finished under the CPU limit on a re-run"
        rows.append((f"fuzz: {t['target']}", figures, FAIL if bad else PASS, _seconds(t)))
    figures = (
        f"{_n(data.get('executions', 0))} executions, {_n(data.get('crashes', 0))} crashes, "
        f"{_n(data.get('hangs', 0))} hangs; peak RSS {_n(data.get('peak_rss_mb', 0))} MB "
        f"(limit {_n(data.get('memory_limit_mb', 0))} MB); {_n(data.get('seconds_per_target_and_engine', 0))} s "
        f"per target and engine ({', '.join(data.get('engines', []))})"
    )
    rows.append(("fuzz: all parsers", figures, _verdict(data), _seconds(data)))
    return rows


def _policy(data: dict[str, Any]) -> list[Row]:
    figures = (
        f"{_n(data.get('cases', 0))} generated cases × every read path ({_n(data.get('checks_total', 0))} checks) "
        f"against the reference: **{_n(data.get('disagreements', 0))} leaks or disagreements**; "
        f"{_n(data.get('planted_leaks_caught', 0))}/{_n(data.get('planted_leaks', 0))} planted leaks caught"
    )
    return [("leaks: policy property test", figures, _verdict(data), _seconds(data))]


LOAD_P99_MS = 1000.0  # issue 12: the p99 at most 1 s


def _load(data: dict[str, Any]) -> list[Row]:
    title = f"load: through {'NATS JetStream' if data.get('name') == 'load_nats' else 'the HTTP API'}"
    needed = ("rate_per_s", "achieved_per_s", "p99_ms", "lost", "duplicated")
    if not all(isinstance(data.get(k), int | float) for k in needed):
        return [(title, _scalars(data), _verdict(data), "")]
    rss = [k for k in data if k.endswith("rss_end_mb") or k.endswith("rss_slope_mb_per_min")]
    figures = (
        f"{_n(data['achieved_per_s'])}/s acknowledged of {_n(data['rate_per_s'])}/s offered for "
        f"{_n(data.get('seconds', 0))} s; sensor→stored p50 {_n(data.get('p50_ms', 0))} ms, "
        f"**p99 {_n(data['p99_ms'])} ms**, max {_n(data.get('max_ms', 0))} ms; acknowledgement p99 "
        f"{_n(data.get('ack_p99_ms', 0))} ms; {_n(data['lost'])} lost, {_n(data['duplicated'])} duplicated; "
        + ", ".join(f"{k.replace('_', ' ')} {_n(data[k])}" for k in rss if _plain(data[k]))
    )
    ok = (
        data["lost"] == 0
        and data["duplicated"] == 0
        and not data.get("failed")
        and data["p99_ms"] <= LOAD_P99_MS
        and data["achieved_per_s"] >= 0.99 * data["rate_per_s"]
    )
    return [(title, figures, PASS if ok else FAIL, "")]


def _alerts(data: dict[str, Any]) -> list[Row]:
    """``benchmarks/load.py --alerts``: sensor → signed alert with the pipeline following the load."""
    way = "NATS JetStream" if str(data.get("name", "")).startswith("load_nats") else "the HTTP API"
    title = f"sensor → alert under load, through {way}"
    if not isinstance(data.get("probes"), int):
        return [(title, _scalars(data), _verdict(data), "")]
    p99 = data.get("alert_p99_ms")
    figures = (
        f"{_n(data.get('achieved_per_s', 0))}/s of {_n(data.get('rate_per_s', 0))}/s "
        f"for {_n(data.get('seconds', 0))} s "
        f"with `process --follow`: {_n(data.get('alerts', 0))} signed alerts for {_n(data['probes'])} staged claims "
        f"({_n(data.get('missed', 0))} missed); sensor→alert p50 {_n(data.get('alert_p50_ms') or 0)} ms, "
        f"**p99 {_n(p99 or 0)} ms**"
        + (
            f" (of which stored → alert p50 {_n(data['stored_to_alert_p50_ms'])} ms, "
            f"p99 {_n(data.get('stored_to_alert_p99_ms') or 0)} ms)"
            if isinstance(data.get("stored_to_alert_p50_ms"), int | float)
            else ""
        )
        + f"; pipeline rss slope {_n(data.get('pipeline_rss_slope_mb_per_min', 0))} MB/min"
        + (
            f" ({_n(data['pipeline_rss_steady_slope_mb_per_min'])} MB/min once fuse's "
            f"{_n(data.get('pipeline_rss_steady_from_s', 0))}-s window is full)"
            if isinstance(data.get("pipeline_rss_steady_slope_mb_per_min"), int | float)
            else ""
        )
    )
    ok = (
        isinstance(p99, int | float)
        and p99 <= LOAD_P99_MS
        and data.get("missed") == 0
        and data.get("lost") == 0
        and data.get("achieved_per_s", 0) >= 0.99 * data.get("rate_per_s", 0)
    )
    return [(title, figures, PASS if ok else FAIL, "")]


STEPS: dict[str, tuple[str, Callable[[dict[str, Any]], list[Row]]]] = {
    "crash": ("crash: embedded ingest", _crash),
    "worker_crash": ("crash: server worker (PostgreSQL + NATS JetStream)", _worker_crash),
    "pytest_prove": ("commit faults and the proof tests (pytest tests/prove tests/fuzz)", _pytest),
    "tamper": ("tamper: `truceline ledger verify`", _tamper),
    "tamper_pg": ("tamper: `truceline ledger verify`, PostgreSQL store", _tamper),
    "fuzz": ("fuzz: every untrusted-input parser", _fuzz),
    "policy": ("leaks: policy property test", _policy),
    "load_api": ("load: through the HTTP API", _load),
    "load_nats": ("load: through NATS JetStream", _load),
    "load_api_alerts": ("sensor → alert under load, through the HTTP API", _alerts),
    "load_nats_alerts": ("sensor → alert under load, through NATS JetStream", _alerts),
}


def _read(directory: Path) -> tuple[dict[str, dict[str, Any]], list[Row]]:
    found: dict[str, dict[str, Any]] = {}
    broken: list[Row] = []
    for path in sorted(directory.glob("*.json")):
        try:
            data = json.loads(path.read_text())
        except (OSError, ValueError) as exc:
            broken.append((f"`{path.name}`", f"unreadable: {exc}", FAIL, ""))
            continue
        if not isinstance(data, dict):
            broken.append((f"`{path.name}`", "not a JSON object", FAIL, ""))
            continue
        name = str(data.get("name") or path.stem)
        if name in found and isinstance(found[name].get("modes"), list) and isinstance(data.get("modes"), list):
            found[name] = _merge(found[name], data)  # one step run in parts (e.g. a crash mode per file)
        else:
            found[name] = data
    return found, broken


def _merge(a: dict[str, Any], b: dict[str, Any]) -> dict[str, Any]:
    merged = {**a, "modes": [*a["modes"], *b["modes"]], "ok": bool(a.get("ok")) and bool(b.get("ok"))}
    for key in ("cycles", "kills", "acknowledged", "lost", "duplicated"):
        if isinstance(a.get(key), int) and isinstance(b.get(key), int):
            merged[key] = a[key] + b[key]
    merged["finished"] = max(str(a.get("finished", "")), str(b.get("finished", "")))
    return merged


def summarise(directory: Path, expect: set[str]) -> tuple[str, bool]:
    """The Markdown summary of ``directory`` and whether every step passed (and every expected one ran)."""
    found, rows = _read(directory)
    for name, (title, render) in STEPS.items():
        if name in found:
            try:
                rows.extend(render(found[name]))
            except (KeyError, TypeError, ValueError) as exc:  # a step's file in an unexpected shape
                rows.append((title, f"{_scalars(found[name])} (unexpected shape: {exc!r})", NO_VERDICT, ""))
        else:
            why = "expected, but no figures were written" if name in expect else f"no {name}.json"
            rows.append((title, why, FAIL if name in expect else NOT_RUN, ""))
    for name, data in found.items():
        if name not in STEPS:
            rows.append((name, _scalars(data), _verdict(data), _seconds(data)))
    machines = sorted({d["machine"] for d in found.values() if isinstance(d.get("machine"), str)})
    finished = sorted(d["finished"] for d in found.values() if isinstance(d.get("finished"), str))
    lines = [
        f"# make prove: figures ({datetime.now(UTC).strftime('%Y-%m-%d %H:%M UTC')})",
        "",
        f"Steps finished {finished[0]} – {finished[-1]}" if finished else "No step wrote figures.",
        *([f"on {'; '.join(machines)}."] if machines else []),
        "",
        "| proof | figures | result | time |",
        "|---|---|---|---|",
        *(f"| {p} | {f.replace('|', '/')} | {r} | {t} |" for p, f, r, t in rows),
        "",
    ]
    ok = all(r[2] not in (FAIL, INCOMPLETE) for r in rows)
    return "\n".join(lines), ok


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=(__doc__ or "").split("\n")[0])
    parser.add_argument("directory", nargs="?", default="build/prove", type=Path)
    parser.add_argument("--expect", default="", help="comma-separated steps that must have written figures")
    parser.add_argument("--out", type=Path, help="where to write the Markdown (default: DIRECTORY/summary.md)")
    args = parser.parse_args(argv)
    expect = {e for e in args.expect.split(",") if e}
    unknown = expect - set(STEPS)
    if unknown:
        parser.error(f"unknown steps in --expect: {', '.join(sorted(unknown))} (known: {', '.join(STEPS)})")
    text, ok = summarise(args.directory, expect)
    out = args.out or args.directory / "summary.md"
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(text)
    sys.stdout.write(text)
    print(f"(written to {out}; {'every step passed' if ok else 'a step FAILED or did not run'})")
    return 0 if ok else 1


if __name__ == "__main__":
    raise SystemExit(main())
