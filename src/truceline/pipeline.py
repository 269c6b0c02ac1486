"""Wires the stages together; the only module that imports all of them.

``process`` walks the observations that arrived since it last ran (a cursor in the store) and
hands that window to every stage that exists, in flow order (fuse, attribute, verify, assess,
act). Each stage is a package exposing ``run(store, agreement, *, after_seq, upto_seq)``; it
reads what it needs from the store (observations and the records of earlier stages) and writes
its own records back, so stages exchange ``truceline.model`` records and never import each other.
"""

from __future__ import annotations

import functools
import time
from collections import Counter
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from truceline.agreement import Agreement, default_agreement
from truceline.store import Store

PROCESS_CURSOR = "process"
SKIP_RECORD_S = 5.0
"""How often a follower writes its cursor after windows it passed over (see :func:`follow`)."""

StageRun = Callable[..., dict[str, int]]
"""``run(store, agreement, *, after_seq, upto_seq) -> counts`` of one stage."""


@dataclass
class StageReport:
    """What one stage did in one ``process`` run."""

    name: str
    counts: dict[str, int]
    seconds: float


@dataclass
class ProcessReport:
    """What one ``process`` run saw and did."""

    first_seq: int
    last_seq: int
    by_kind: Counter[str] = field(default_factory=Counter)
    stages: list[StageReport] = field(default_factory=list)

    @property
    def new_observations(self) -> int:
        return sum(self.by_kind.values())

    @property
    def stages_run(self) -> tuple[str, ...]:
        return tuple(s.name for s in self.stages)


def _stages(media_root: Path | None = None) -> list[tuple[str, StageRun]]:
    """The stages in flow order (imported here so that importing the pipeline stays cheap).

    ``media_root`` is where claims' relative media paths point (attribute reads the files); by
    default the directory of the store's database file.
    """
    from truceline import act, assess, attribute, fuse, verify

    return [
        ("fuse", fuse.run),
        ("attribute", functools.partial(attribute.run, media_root=media_root)),
        ("verify", verify.run),
        ("assess", assess.run),
        ("act", act.run),
    ]


STAGES: tuple[str, ...] = ("fuse", "attribute", "verify", "assess", "act")
"""Names of the stages that exist after ingest, in flow order."""


def selected_stages(stages: Sequence[str] | None) -> tuple[str, ...]:
    """``stages`` checked against :data:`STAGES` and put in flow order (``None``: all of them).

    >>> selected_stages(["act", "attribute"])
    ('attribute', 'act')
    >>> selected_stages(["fuse", "fusion"])
    Traceback (most recent call last):
    ...
    ValueError: unknown stage 'fusion': the stages are fuse, attribute, verify, assess, act
    """
    if stages is None:
        return STAGES
    for name in stages:
        if name not in STAGES:
            raise ValueError(f"unknown stage {name!r}: the stages are {', '.join(STAGES)}")
    chosen = tuple(name for name in STAGES if name in stages)
    if not chosen:
        raise ValueError(f"no stage chosen: the stages are {', '.join(STAGES)}")
    return chosen


def cursor_name(stages: Sequence[str] | None = None) -> str:
    """The cursor of a ``process`` that runs ``stages``: all of them share ``process``; a follower
    running some (``process --follow --stages fuse``) keeps its own, so followers of different
    stages each take every window once.

    >>> cursor_name(), cursor_name(["act", "attribute"])
    ('process', 'process:attribute+act')
    """
    chosen = selected_stages(stages)
    return PROCESS_CURSOR if chosen == STAGES else PROCESS_CURSOR + ":" + "+".join(chosen)


def process(
    store: Store,
    agreement: Agreement | None = None,
    *,
    on_stage: Callable[[StageReport], None] | None = None,
    media_root: Path | None = None,
    stages: Sequence[str] | None = None,
    runs: Mapping[str, StageRun] | None = None,
    needed: Callable[[Counter[str]], bool] | None = None,
    after_seq: int | None = None,
    record_skips: bool = True,
) -> ProcessReport:
    """Run the stages over observations not yet processed; safe to run again.

    The cursor moves only after every stage has finished, so a crash part-way leaves the window
    to be processed again; stages derive record ids from their inputs, so a rerun writes new
    versions of the same records instead of duplicates. ``stages`` runs only those (in flow
    order, with their own cursor: :func:`cursor_name`); ``runs`` replaces a stage's entry point
    (``follow`` gives fuse its :class:`~truceline.fuse.FuseStream`). ``needed``, asked with
    the window's counts by kind, may answer that the stages have nothing to do in it: the cursor
    then moves past the window without running them (``follow`` asks :class:`RoundGate`).
    ``after_seq`` starts the window there instead of at the stored cursor (a follower that
    remembers where it is), and with ``record_skips`` false a skipped window's end is not
    written to the store (the follower writes it now and then, not at every look).
    """
    chosen = selected_stages(stages)
    cursor = cursor_name(chosen)
    start = store.get_cursor(cursor) if after_seq is None else after_seq
    report = ProcessReport(first_seq=start + 1, last_seq=start)
    report.last_seq = _count_kinds_after(store, start, report.by_kind)
    if report.last_seq <= start:
        return report
    if needed is not None and not needed(report.by_kind):
        if record_skips:
            store.set_cursor(cursor, report.last_seq)
        return report
    ag = agreement or default_agreement()
    for name, run in _stages(media_root):
        if name not in chosen:
            continue
        run = (runs or {}).get(name, run)
        began = time.perf_counter()
        counts = run(store, ag, after_seq=start, upto_seq=report.last_seq)
        stage = StageReport(name, dict(counts), time.perf_counter() - began)
        report.stages.append(stage)
        if on_stage is not None:
            on_stage(stage)
    store.set_cursor(cursor, report.last_seq)
    return report


def _count_kinds_after(store: Store, start: int, counts: Counter[str]) -> int:
    """Count the observations of each kind after ``start``; return the last seq counted.

    The window ends at what was stored when it was looked at (``max_seq``), not later, so
    reports that arrive while the stages run wait for the next round instead of being skipped.
    Counted by the store (SQL ``GROUP BY``), not by reading every report: a follower beside a
    5,000-a-second feed would otherwise parse each one once more per process.
    """
    last = store.max_seq()
    if last > start:
        counts.update(store.kind_counts(start, last))
    return max(last, start)


def input_kinds(stage: str) -> tuple[str, ...] | None:
    """The observation kinds whose arrival gives ``stage`` something to do (``None``: any kind).

    Every stage but fuse also reads what other stages wrote (incidents, findings, assessments),
    which :class:`RoundGate` watches separately.
    """
    if stage == "fuse":
        return ("acoustic_arrival", "radar_track", "patrol_report")  # a late log rebuilds the incidents it joins
    if stage == "attribute":
        return ("claim", "patrol_report")  # patrol reports: the context a claim is judged in
    if stage == "verify":
        from truceline.verify.run import KINDS

        return KINDS
    if stage == "assess":
        from truceline.assess.indicators import RELEVANT_KINDS

        return (*RELEVANT_KINDS, "met_observation")  # met reports mark the days assess covers
    if stage == "act":
        return ()  # act reads derived records only
    return None


@dataclass
class RoundGate:
    """Whether a follower's round has anything to do: the window holds a kind its stages read,
    the records log grew since its last round (another stage wrote something they read), or
    :attr:`heartbeat` seconds have passed (time-driven work: a claim's evidence window closing,
    a consultation falling overdue).

    Beside a feed of acoustic picks the claim → alert follower otherwise ran attribute, verify
    and act every quarter second on windows holding nothing for them, and its queries crowded
    out the ingest they share two cores with.
    """

    store: Store
    stages: tuple[str, ...]
    heartbeat: float = 10.0
    clock: Callable[[], float] = time.monotonic
    records_size: int = -1
    last_run: float = float("-inf")
    skipped: int = 0

    def __post_init__(self) -> None:
        kinds = [input_kinds(stage) for stage in self.stages]
        self.kinds: frozenset[str] | None = None if any(k is None for k in kinds) else frozenset(
            kind for group in kinds for kind in (group or ())
        )  # fmt: skip
        self.reads_records = any(stage != "fuse" for stage in self.stages)

    def __call__(self, by_kind: Counter[str]) -> bool:
        now = self.clock()
        size = self._records_size() if self.reads_records else self.records_size
        due = (
            self.kinds is None
            or any(kind in self.kinds for kind in by_kind)
            or size != self.records_size
            or now - self.last_run >= self.heartbeat
        )
        if due:
            self.records_size, self.last_run = size, now
        else:
            self.skipped += 1
        return due

    def _records_size(self) -> int:
        head = self.store.tree_head("records")
        return head.tree_size if head is not None else 0


@dataclass
class FollowReport:
    """What a ``follow`` run did: rounds that found new observations, and how long they took."""

    rounds: int = 0
    observations: int = 0
    busiest_round_s: float = 0.0
    seconds: float = 0.0
    passed_over: int = 0  # windows with news for other stages only: the cursor moved, nothing ran


def follow(
    store: Store,
    agreement: Agreement | None = None,
    *,
    interval: float = 0.25,
    idle_exit: float | None = None,
    pace: float = 0.0,
    stages: Sequence[str] | None = None,
    should_stop: Callable[[], bool] = lambda: False,
    on_round: Callable[[ProcessReport, float], None] | None = None,
    media_root: Path | None = None,
    clock: Callable[[], float] = time.monotonic,
    sleep: Callable[[float], None] = time.sleep,
) -> FollowReport:
    """Process new observations as they arrive, round after round, until told to stop.

    A round is one ``process``: whatever arrived while the previous round ran is the next
    round's window, so under load the rounds grow instead of falling behind one small window at
    a time. When a round finds nothing new it waits ``interval`` seconds before looking again.
    ``should_stop`` is asked between rounds (a signal handler sets it), so a round is never cut
    short; a process killed mid-round leaves its window to the next run (the cursor moves only
    after every stage). ``idle_exit``: also stop once nothing new has arrived for that long.

    ``pace``: start rounds at most this often, even when news keeps arriving — a follower whose
    round costs the same whatever it finds (fuse re-associates the last minutes of picks) would
    otherwise take a whole core beside a busy feed; its news then waits up to ``pace`` longer.

    ``stages``: follow only those (see :func:`process`); a deployment runs fuse in one follower
    and the rest in another, so a round of association never holds up a claim's alert. Fuse
    keeps the last minutes of arrivals in memory between rounds
    (:class:`~truceline.fuse.FuseStream`) instead of reading them from the store again, and act
    its inputs (:class:`~truceline.act.run.ActFollower`).
    """
    from truceline.fuse import FuseStream

    ag = agreement or default_agreement()
    chosen = selected_stages(stages)
    runs: dict[str, StageRun] = {}
    if "fuse" in chosen:
        runs["fuse"] = FuseStream().run
    if "attribute" in chosen:
        from truceline.attribute.stage import AttributeFollower

        runs["attribute"] = AttributeFollower(media_root).run
    if "act" in chosen:
        from truceline.act.run import ActFollower

        runs["act"] = ActFollower().run
    gate = RoundGate(store, chosen, clock=clock)
    report = FollowReport()
    began = clock()
    idle_since = began
    # Where the follower is: windows passed over move it in memory; the store's cursor is
    # written when stages ran, and for passed-over windows at most every SKIP_RECORD_S (a write
    # per look, twenty a second, would cost more than the looks).
    position: int | None = None
    written: int | None = None  # the position last written to the store's cursor
    recorded_at = began
    while not should_stop():
        round_began = clock()
        record = clock() - recorded_at >= SKIP_RECORD_S
        done = process(
            store, ag, media_root=media_root, stages=chosen, runs=runs, needed=gate, after_seq=position,
            record_skips=record,
        )  # fmt: skip
        position = done.last_seq
        if done.stages or (record and done.new_observations):
            recorded_at, written = clock(), position
        took = clock() - round_began
        if done.new_observations and not done.stages:  # news, none of it for these stages
            report.observations += done.new_observations
            report.passed_over += 1
            idle_since = clock()
            sleep(interval)
            continue
        if done.new_observations:
            report.rounds += 1
            report.observations += done.new_observations
            report.busiest_round_s = max(report.busiest_round_s, took)
            idle_since = clock()
            if on_round is not None:
                on_round(done, took)
            if pace > took:
                sleep(pace - took)
            continue
        if position is not None and written != position:
            # The feed paused after windows passed over: write where the follower is now, not
            # on a later window that may be long in coming (whoever watches the cursor — an
            # operator, a load benchmark waiting for the pipeline to catch up — sees it done).
            store.set_cursor(cursor_name(chosen), position)
            recorded_at, written = clock(), position
        if idle_exit is not None and clock() - idle_since >= idle_exit:
            break
        sleep(interval)
    if position is not None and store.get_cursor(cursor_name(chosen)) < position:
        store.set_cursor(cursor_name(chosen), position)  # the windows passed over since the last write
    report.seconds = clock() - began
    return report
