"""Generate policy cases in bulk and compare ``truceline.policy`` with the reference on each.

A case is one requester (participant, roles, claimed groups) facing one record (markings, field
markings, a document whose every leaf is a unique canary string) through every read path: single
read, list, aggregate count, export (one record and in bulk), the not-found error, the group
listing, and record creation. Cases are drawn with numpy from a fixed seed, in chunks, so the
count can go from 100,000 (``make test``) to 1,000,000 (``make prove``) in bounded memory::

    TRUCELINE_POLICY_CASES=1000000 .venv/bin/pytest tests/unit/policy/test_equivalence.py
    .venv/bin/python -m tests.unit.policy.equivalence --cases 1000000
"""

from __future__ import annotations

import argparse
import json
import multiprocessing
import os
import re
import threading
import time
from collections import defaultdict
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

import numpy as np

from tests.unit.policy import reference as ref
from truceline.model import FixedClock, Markings
from truceline.policy import (
    AccessDenied,
    ExportRefused,
    InMemoryAuditLog,
    MarkedDocument,
    MarkingsTable,
    NotFoundOrHidden,
    Policy,
    PolicyContext,
    Principal,
    PrincipalRole,
    SharingGroup,
)

PARTICIPANTS = ("UKR", "RUS", "USA", "GBR", "FRA", "DEU", "POL", "TUR", "OSCE", "EUMM")
OUTSIDERS = ("XAA", "XBB")  # authenticated, but not (or no longer) participants of the mechanism
EVERYONE = PARTICIPANTS + OUTSIDERS
GROUPS = ("G-NORTH", "G-SOUTH", "G-AIR", "G-SIGINT")
GHOST_GROUP = "G-GHOST"  # claimed by tokens and named in markings, but defined nowhere
ALL_GROUPS = (*GROUPS, GHOST_GROUP)
ROLES: tuple[PrincipalRole, ...] = ("analyst", "reviewer", "administrator", "observer")
TLPS = ("clear", "green", "amber", "amber+strict", "red")
# Paths that may carry stricter markings; nested, through a list, overlapping, and one absent.
FIELD_PATHS = (
    "source",
    "location",
    "location.lat",
    "media",
    "media.uri",
    "nested.deep",
    "nested.deep.secret",
    "description",
    "absent.field",
)
CHUNK = 25_000
POOL = 64  # principals per chunk: the vectorised paths compute one mask per principal


@dataclass
class Report:
    """Checks made per read path, and every disagreement found (empty when the policy is right)."""

    cases: int = 0
    checks: dict[str, int] = field(default_factory=lambda: defaultdict(int))
    failures: list[str] = field(default_factory=list)
    seconds: float = 0.0

    def fail(self, message: str) -> None:
        if len(self.failures) < 50:
            self.failures.append(message)


def _world(rng: np.random.Generator) -> tuple[ref.World, PolicyContext]:
    members = {g: tuple(p for p in PARTICIPANTS if rng.random() < 0.4) for g in GROUPS}
    world = ref.World(frozenset(PARTICIPANTS), {g: frozenset(m) for g, m in members.items()})
    context = PolicyContext(
        participants=PARTICIPANTS,
        sharing_groups=tuple(SharingGroup(id=g, members=m) for g, m in members.items()),
    )
    return world, context


def _pool(rng: np.random.Generator, world: ref.World) -> list[tuple[ref.Asker, Principal]]:
    pool = []
    for k in range(POOL):
        who = EVERYONE[rng.integers(len(EVERYONE))]
        roles = tuple(r for r in ROLES if rng.random() < 0.4)
        actual = {g for g, m in world.groups.items() if who in m}
        # Claims: mostly the real memberships (sometimes only some), plus false ones now and then.
        claims = tuple(g for g in ALL_GROUPS if (g in actual and rng.random() < 0.8) or rng.random() < 0.2)
        asker = ref.Asker(who, frozenset(roles), frozenset(claims))
        pool.append((asker, Principal(participant=who, roles=roles, sharing_groups=claims, subject=f"token-{k}")))
    return pool


def _draw_markings(
    rng: np.random.Generator, askers: list[ref.Asker], who_of: np.ndarray[Any, Any], used: np.ndarray[Any, Any]
) -> list[list[dict[str, Any]]]:
    """Markings for the ``used`` slots of each case, drawn in bulk, as plain dicts (the reference's input)."""
    n, slots = used.shape
    shape = (n, slots)
    everyone = np.array(EVERYONE)
    asker_code = np.array([EVERYONE.index(a.participant) for a in askers])[who_of][:, None]
    tlp = rng.integers(len(TLPS), size=shape)
    # Biased towards the requester so that originator, listed and member cases are all common.
    originator = np.where(rng.random(shape) < 0.25, asker_code, rng.integers(len(EVERYONE), size=shape))
    listed = rng.random((*shape, len(EVERYONE))) < 0.15
    listed[np.arange(n)[:, None], np.arange(slots)[None, :], asker_code] |= rng.random(shape) < 0.25
    # The model refuses RED without recipients: give such a record one random recipient.
    lonely = (tlp == TLPS.index("red")) & ~listed.any(axis=2)
    listed[lonely, rng.integers(len(EVERYONE), size=int(lonely.sum()))] = True
    order = rng.random((*shape, len(EVERYONE))).argsort(axis=2)  # releasable_to in random order
    claimed = [sorted(a.claimed_groups) for a in askers]
    group_kind = rng.random(shape)  # < 0.5 none; < 0.75 one the requester claims; else any
    any_group = rng.integers(len(ALL_GROUPS), size=shape)
    pick = rng.integers(1 << 30, size=shape)

    def marking(j: int, s: int) -> dict[str, Any]:
        if group_kind[j, s] < 0.5:
            group = None
        elif group_kind[j, s] < 0.75 and claimed[int(who_of[j])]:
            mine = claimed[int(who_of[j])]
            group = mine[int(pick[j, s]) % len(mine)]
        else:
            group = ALL_GROUPS[int(any_group[j, s])]
        members = order[j, s][listed[j, s][order[j, s]]]
        return {
            "tlp": TLPS[int(tlp[j, s])],
            "originator": EVERYONE[int(originator[j, s])],
            "releasable_to": tuple(everyone[members].tolist()),
            "sharing_group": group,
        }

    # Only the slots in use become dicts: building them is the slow part.
    return [[marking(j, s) if used[j, s] else {} for s in range(slots)] for j in range(n)]


def _markings(plain: dict[str, Any]) -> Markings:
    return Markings(**plain)


def _document(i: int, marking: dict[str, Any]) -> dict[str, Any]:
    # Every leaf is a canary naming its case and path, so a leak is visible in the bytes.
    def c(path: str) -> str:
        return f"~{i}:{path}~"

    return {
        "id": f"R{i}",
        "source": c("source"),
        "location": {"lat": c("location.lat"), "lon": c("location.lon")},
        "media": [{"uri": c("media.0.uri"), "hash": c("media.0.hash")}, {"uri": c("media.1.uri")}],
        "description": c("description"),
        "nested": {"deep": {"secret": c("nested.deep.secret"), "other": c("nested.deep.other")}, "side": c("side")},
        "markings": {k: list(v) if isinstance(v, tuple) else v for k, v in marking.items()},
    }


_CANARY = re.compile(r"~\d+:[a-z0-9.]+~")


def _canaries(text: str) -> set[str]:
    return set(_CANARY.findall(text))


def _check_document(report: Report, what: str, got: dict[str, Any], expected: dict[str, Any]) -> None:
    # Exact equality of JSON-shaped documents whose leaves are distinct canary strings: one byte
    # too many (a withheld value, or even a withheld key) is a difference.
    report.checks[what] += 1
    if got != expected:
        report.fail(f"{what}: got {got} expected {expected}")


def _run_chunk(report: Report, rng: np.random.Generator, first: int, n: int) -> None:
    world, context = _world(rng)
    pool = _pool(rng, world)
    log = InMemoryAuditLog()
    policy = Policy(context, audit=log, clock=FixedClock(datetime(2026, 3, 1, tzinfo=UTC)))
    who_of = rng.integers(POOL, size=n)
    own = rng.random(n) < 0.3
    anywhere = rng.integers(len(EVERYONE), size=n)
    destinations = [pool[int(who_of[j])][0].participant if own[j] else EVERYONE[int(anywhere[j])] for j in range(n)]
    field_chosen = rng.random((n, len(FIELD_PATHS))) < 0.25
    used = np.concatenate([np.ones((n, 1), dtype=bool), field_chosen], axis=1)
    drawn = _draw_markings(rng, [a for a, _ in pool], who_of, used)
    plain = [row[0] for row in drawn]
    markings = [_markings(p) for p in plain]
    expected_read = np.zeros(n, dtype=bool)
    expected_send = np.zeros(n, dtype=bool)

    for j in range(n):
        i = first + j
        asker, principal = pool[int(who_of[j])]
        marking, destination = plain[j], destinations[j]
        fields_plain = {
            path: drawn[j][1 + f] for f, (path, on) in enumerate(zip(FIELD_PATHS, field_chosen[j], strict=True)) if on
        }
        fields = {path: _markings(p) for path, p in fields_plain.items()}
        body = _document(i, marking)
        document = MarkedDocument(markings[j], body, fields)
        request = f"incident/R{i}"

        # single record: the predicate and the read gate, hidden and missing alike
        reads = ref.may_read(world, asker, marking)
        expected_read[j] = reads
        report.checks["single"] += 1
        if policy.visible(principal, markings[j]) != reads:
            report.fail(f"single #{i}: {asker} {marking} expected {reads}")
        refused = {tuple(p.split(".")) for p, m in fields_plain.items() if not ref.may_read(world, asker, m)}
        missing_message = _refusal(policy, principal, request, None)
        report.checks["error message"] += 1
        if missing_message != ref.not_found_message(request):
            report.fail(f"error #{i}: missing record says {missing_message!r}")
        if reads:
            _check_document(
                report, "redacted read", policy.read(principal, request, document), ref.kept_document(body, refused)
            )
        else:
            hidden_message = _refusal(policy, principal, request, document)
            report.checks["error message"] += 1
            if hidden_message != missing_message:
                report.fail(f"error #{i}: hidden says {hidden_message!r}, missing says {missing_message!r}")
            if log.events[-1] != log.events[-2]:
                report.fail(f"audit #{i}: hidden and missing reads leave different events")

        # export of one record
        sends = ref.may_send(world, asker, marking, destination)
        expected_send[j] = sends
        report.checks["export"] += 1
        if policy.may_export(principal, markings[j], destination) != sends:
            report.fail(f"export #{i}: {asker} {marking} -> {destination} expected {sends}")
        try:
            sent = policy.export(principal, request, document, destination)
        except NotFoundOrHidden as error:
            if reads or str(error) != missing_message:
                report.fail(f"export #{i}: NotFoundOrHidden {error} though reads={reads}")
        except ExportRefused as error:
            if sends or not reads or _canaries(str(error)):
                report.fail(f"export #{i}: ExportRefused {error} though sends={sends} reads={reads}")
        else:
            field_refused = {
                tuple(p.split(".")) for p, m in fields_plain.items() if not ref.may_send(world, asker, m, destination)
            }
            if not sends:
                report.fail(f"export #{i}: sent a record the reference refuses")
            else:
                _check_document(report, "redacted export", sent, ref.kept_document(body, field_refused))

        # creation with these markings
        report.checks["create"] += 1
        try:
            policy.check_create(principal, request, markings[j])
            created = True
        except AccessDenied:
            created = False
        if created != ref.may_create(world, asker, marking):
            report.fail(f"create #{i}: {asker} {marking} allowed={created}")
        if len(log) > 10_000:
            log.clear()

    _check_vectorised(report, policy, pool, markings, who_of, destinations, expected_read, expected_send)
    for asker, principal in pool:
        report.checks["groups"] += 1
        if sorted(g.id for g in policy.groups_visible_to(principal)) != ref.groups_seen(world, asker):
            report.fail(f"groups: {asker}")


def _refusal(policy: Policy, principal: Principal, request: str, document: MarkedDocument | None) -> str:
    try:
        policy.read(principal, request, document)
    except NotFoundOrHidden as error:
        return str(error)
    return "<no error>"


def _check_vectorised(
    report: Report,
    policy: Policy,
    pool: list[tuple[ref.Asker, Principal]],
    markings: list[Markings],
    who_of: np.ndarray[Any, Any],
    destinations: list[str],
    expected_read: np.ndarray[Any, Any],
    expected_send: np.ndarray[Any, Any],
) -> None:
    table = MarkingsTable.from_markings(markings)
    by_destination: dict[tuple[int, str], list[int]] = defaultdict(list)
    for j, (k, d) in enumerate(zip(who_of.tolist(), destinations, strict=True)):
        by_destination[(k, d)].append(j)
    for k, (_, principal) in enumerate(pool):
        rows = np.flatnonzero(who_of == k)
        whole = policy.visible_mask(principal, table)
        listed = policy.visible_mask(principal, table.take(rows))
        report.checks["list"] += rows.size
        if not (np.array_equal(whole[rows], expected_read[rows]) and np.array_equal(listed, expected_read[rows])):
            report.fail(
                f"list: principal {principal} disagrees on {int(np.sum(whole[rows] != expected_read[rows]))} rows"
            )
        where = np.zeros(len(table), dtype=bool)
        where[rows] = True
        report.checks["count"] += 1
        if policy.count(principal, "incident", table, where) != int(expected_read[rows].sum()):
            report.fail(f"count: principal {principal}")
    for (k, destination), rows_list in by_destination.items():
        rows = np.array(rows_list)
        got = policy.export_mask(pool[k][1], table.take(rows), destination)
        report.checks["bulk export"] += rows.size
        if not np.array_equal(got, expected_send[rows]):
            report.fail(f"bulk export: principal {pool[k][1]} -> {destination}")


def _chunk_report(seed: np.random.SeedSequence, first: int, n: int) -> Report:
    report = Report(cases=n)
    _run_chunk(report, np.random.default_rng(seed), first, n)
    report.checks = dict(report.checks)  # a plain dict pickles back from a worker process
    return report


def run(cases: int, seed: int = 20260301, workers: int | None = None) -> Report:
    """Compare implementation and reference on ``cases`` generated cases.

    Each chunk draws from its own child of ``seed``, so the cases (and any failure) are the same
    whatever the number of ``workers`` (default: up to 2 processes, as the CI machines have).
    """
    firsts = list(range(0, cases, CHUNK))
    seeds = np.random.SeedSequence(seed).spawn(len(firsts))
    jobs = [(s, first, min(CHUNK, cases - first)) for s, first in zip(seeds, firsts, strict=True)]
    workers = min(workers or min(2, os.cpu_count() or 1), len(jobs)) or 1
    if threading.active_count() > 1:
        workers = 1  # forking a process that runs other threads can deadlock the child
    start = time.perf_counter()
    if workers == 1:
        parts = [_chunk_report(*job) for job in jobs]
    else:
        # fork: the workers inherit the imported modules, so they start in milliseconds.
        with ProcessPoolExecutor(workers, mp_context=multiprocessing.get_context("fork")) as pool:
            parts = list(pool.map(_chunk_report, *zip(*jobs, strict=True)))
    report = Report()
    for part in parts:
        report.cases += part.cases
        for name, count in part.checks.items():
            report.checks[name] += count
        for failure in part.failures:
            report.fail(failure)
    report.seconds = time.perf_counter() - start
    return report


if __name__ == "__main__":  # pragma: no cover
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--cases", type=int, default=100_000)
    parser.add_argument("--seed", type=int, default=20260301)
    parser.add_argument("--workers", type=int, default=None)
    args = parser.parse_args()
    result = run(args.cases, args.seed, args.workers)
    print(
        json.dumps(
            {
                "cases": result.cases,
                "seconds": round(result.seconds, 2),
                "checks": dict(result.checks),
                "failures": len(result.failures),
            },
            indent=2,
        )
    )
    for line in result.failures:
        print(line)
    raise SystemExit(1 if result.failures else 0)
