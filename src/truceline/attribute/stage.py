"""The attribute stage's entry point: attribute fire incidents, check the window's claims.

``run`` is what ``truceline process`` calls after fuse. It is idempotent: an attribution's id
digests what it rests on (:func:`~truceline.attribute.attribution.attribution_id`), so an incident
already carrying the current attribution is left alone, and a claim's finding has the claim's
identity as its id, so a rerun writes a new version of the same finding, never a second one.
"""

from __future__ import annotations

import functools
from collections.abc import Iterable, Sequence
from datetime import UTC, datetime, timedelta
from functools import lru_cache
from pathlib import Path

import numpy as np

from truceline.agreement import Agreement
from truceline.attribute._records import AGENT
from truceline.attribute.attribution import (
    AttributionModel,
    IncidentEvidence,
    attribute_incidents,
    attribution_id,
    with_attribution,
)
from truceline.attribute.claims import (
    ClaimCheck,
    ClaimChecker,
    IncidentIndex,
    IndexRow,
    claim_label,
    index_row,
    staging_finding_id,
)
from truceline.attribute.coverage import SensorActivity
from truceline.attribute.media import MediaCorpus, check_media, read_media
from truceline.attribute.sides import SideAreas
from truceline.geo import to_lonlat
from truceline.model import Claim, Incident, PatrolReport, Record
from truceline.store import ObservationQuery, Store

__all__ = ["AttributeFollower", "IncidentRows", "attribute_store", "check_claims", "run"]


@lru_cache(maxsize=4)
def side_areas(agreement: Agreement) -> SideAreas:
    """The prepared areas of an agreement, built once per agreement object (the line index is costly)."""
    return SideAreas.from_agreement(agreement)


def _put(store: Store, records: Sequence[Record]) -> None:
    if records:
        store.put_records(list(records))


def _incidents(store: Store) -> list[Incident]:
    return [s.record for s in store.records("incident") if isinstance(s.record, Incident)]


class IncidentRows:
    """The claim index's rows of every attributed fire incident, kept by a following process:
    each index build reads only the incident records written since the last (by the records
    log's size) instead of parsing every incident ever stored — a claim's check otherwise cost a
    full read of the incidents, growing with the store. The rows are a few numbers per incident;
    the incidents a check names are read back from the store by id."""

    def __init__(self) -> None:
        self.size = -1
        self.rows: dict[str, IndexRow] = {}
        self.parties: tuple[str, ...] = ()

    def index(self, store: Store, parties: Sequence[str]) -> IncidentIndex:
        parties = tuple(parties)
        head = store.tree_head("records")
        size = head.tree_size if head is not None else -1
        if size < 0 or self.size < 0 or parties != self.parties:  # first, no log, or other parties: all
            self.rows = {}
            changed = store.records("incident")
        else:
            changed = store.records("incident", after_seq=self.size) if size != self.size else iter(())
        for stored in changed:
            if isinstance(stored.record, Incident):
                row = index_row(stored.record, parties)
                if row is None:
                    self.rows.pop(stored.id, None)
                else:
                    # A new version keeps its id's place (first appearance, as a full read gives):
                    # the index sorts by time and breaks ties by this order. (One dropped and
                    # re-added — attribution lost, then back — goes last; only a tie could tell.)
                    self.rows[stored.id] = row
        self.size, self.parties = size, parties
        entries = list(self.rows.items())

        def fetch(k: int) -> Incident:
            found = store.get_record("incident", entries[k][0])
            assert found is not None and isinstance(found.record, Incident), entries[k][0]
            return found.record

        return IncidentIndex.from_rows(parties, entries, fetch)


def _patrol_reports(store: Store, incidents: Sequence[Incident]) -> dict[tuple[str, str, str], PatrolReport]:
    """The patrol reports over the incidents' time span, by identity (few: one read, not one per ref)."""
    if not incidents:
        return {}
    # A patrol log entry covers an hour or so before the fire it counts: widen the span by a day.
    start = min(i.start for i in incidents) - timedelta(days=1)
    end = max(i.end for i in incidents) + timedelta(days=1)
    out: dict[tuple[str, str, str], PatrolReport] = {}
    for stored in store.observations(ObservationQuery(kinds=("patrol_report",), start=start, end=end)):
        o = stored.observation
        if isinstance(o, PatrolReport):
            out[o.dedup_key] = o
    return out


INCIDENT_CURSOR = "attribute.incidents"
"""The store cursor holding the last incident-record seq this stage has read."""


def attribute_store(
    store: Store, agreement: Agreement, *, model: AttributionModel | None = None, full: bool = False
) -> list[Incident]:
    """Attribute every fire incident not yet carrying the current attribution; return the new versions.

    Reads only incident records written since it last ran (a cursor in the store), or all of them
    with ``full`` (after a change of model). The cursor stops at what was *read*, not at what this
    call wrote: its own new versions are read again next time and skipped, and nothing another
    writer stored meanwhile can fall behind the cursor.
    """
    model = model or AttributionModel()
    areas = side_areas(agreement)
    start = 0 if full else store.get_cursor(INCIDENT_CURSOR)
    read = list(store.records("incident", after_seq=start))
    todo = [
        s.record
        for s in read
        if isinstance(s.record, Incident)
        and s.record.kind == "fire"
        and s.record.preferred_attribution_id != attribution_id(s.record, model)
    ]
    patrols = _patrol_reports(store, todo)
    gathered = [
        IncidentEvidence(inc, [p for r in inc.observations if (p := patrols.get((r.participant, r.source, r.key)))])
        for inc in todo
    ]
    attributions = attribute_incidents(gathered, areas, model=model, agent=AGENT)
    updated = [with_attribution(inc, att) for inc, att in zip(todo, attributions, strict=True) if att is not None]
    _put(store, updated)
    if read:
        store.set_cursor(INCIDENT_CURSOR, max(start, *(s.seq for s in read)))
    return updated


def _claims(store: Store, after_seq: int, upto_seq: int) -> Iterable[tuple[int, Claim]]:
    for stored in store.observations(ObservationQuery(after_seq=after_seq, kinds=("claim",))):
        if stored.seq > upto_seq:
            break
        if isinstance(stored.observation, Claim):
            yield stored.seq, stored.observation


def _learn_media(claim: Claim, corpus: MediaCorpus, media_root: Path | None) -> None:
    """Enter a claim's media in the corpus that later claims' reuse is checked against."""
    for m in claim.media:
        check_media(
            m.uri,
            read_media(m.uri, media_root),
            claimed_time=claim.claimed_time,
            place=None,
            claim_key=claim_label(claim),
            corpus=corpus,
            media_type=m.media_type,
        )


def default_media_root(store: Store) -> Path | None:
    """Where relative media URIs are read from when not told: beside the store's database file, if it has one."""
    path = getattr(store, "path", None)
    return path.parent if isinstance(path, Path) else None


CLAIMS_CURSOR = "attribute.claims"
"""The store cursor: every claim up to this seq has been judged (later ones may wait, see below)."""

REPORT_GRACE = timedelta(minutes=5)
"""How long after the fact a blast's picks may still reach the store (gateways batch and retry)."""


def ripe(claim: Claim, checker: ClaimChecker, now: datetime) -> bool:
    """Whether the sensors have had their chance: the claim's evidence window (up to
    ``checker.after`` past the claimed time) has closed, with :data:`REPORT_GRACE` for late picks.

    A claim judged earlier would be judged on what fuse had located so far: a real shelling
    whose picks were still arriving would look "not corroborated despite coverage", and a
    genuine claimant would be told it staged the attack. So a fresh claim waits; one about
    something half an hour old or more is judged at once."""
    return claim.claimed_time + checker.after + REPORT_GRACE <= now


def check_claims(
    store: Store,
    agreement: Agreement,
    *,
    upto_seq: int,
    media_root: Path | None = None,
    checker: ClaimChecker | None = None,
    now: datetime | None = None,
    incidents: IncidentRows | None = None,
) -> tuple[list[ClaimCheck], int]:
    """Judge the claims up to ``upto_seq`` not yet judged whose evidence window has closed by
    ``now`` (the clock by default); store one ``no_staging`` finding each. Returns the checks
    and how many claims are still waiting for their window to close.

    Claims are taken in order of arrival from the store cursor :data:`CLAIMS_CURSOR`, which
    stops before the first one still waiting, so a waiting claim is judged by a later run; a
    claim judged after a waiting one is recognised by its finding and not judged twice.
    """
    checker = checker or ClaimChecker(agreement)
    clock = now or datetime.now(UTC)
    cursor = store.get_cursor(CLAIMS_CURSOR)
    claims = list(_claims(store, cursor, upto_seq))
    # What each claim after the cursor is: judged by an earlier run (after a claim that waited),
    # ripe to judge now, or waiting for its evidence window to close.
    judged = [store.get_record("finding", staging_finding_id(c)) is not None for _, c in claims]
    ripe_now = [not j and ripe(c, checker, clock) for j, (_, c) in zip(judged, claims, strict=True)]
    waiting = sum(not j and not r for j, r in zip(judged, ripe_now, strict=True))
    judged_to = cursor
    for (seq, _), j, r in zip(claims, judged, ripe_now, strict=True):
        if not (j or r):
            break
        judged_to = seq
    checks: list[ClaimCheck] = []
    if any(ripe_now):  # the corpus and the incident index only when a claim is to be judged
        corpus = MediaCorpus()
        # Media of the claims before the cursor make the corpus that reuse is checked against.
        for _, old in _claims(store, 0, cursor):
            _learn_media(old, corpus, media_root)
        parties = tuple(p.id for p in agreement.parties)
        if incidents is not None:
            index = incidents.index(store, parties)
        else:
            index = IncidentIndex.build(parties, _incidents(store))
        # Which arrays were working around the claimed time, near the claimed place, gives the
        # claim's coverage: the store aggregates the picks per array where they lie (one row per
        # array, not one per pick), so a claim costs about the same on a quiet night as under
        # thousands of picks a second. Claims are checked in order of arrival, so a reused photo
        # is charged to the later claim, not to its original; a claim judged earlier or waiting
        # still enters its media for the claims after it.
        for (_, c), r in zip(claims, ripe_now, strict=True):
            if r:
                near = functools.partial(_arrays_near, store, c.claimed_time, checker.coverage.active_window)
                checks.append(checker.check(near, c, index, corpus=corpus, media_root=media_root))
            else:
                _learn_media(c, corpus, media_root)
    _put(store, [checker.finding(ch, now or ch.claim.time) for ch in checks])
    if judged_to > cursor:
        store.set_cursor(CLAIMS_CURSOR, judged_to)
    return checks, waiting


def _arrays_near(store: Store, when: datetime, window: timedelta, x: float, y: float, radius: float) -> SensorActivity:
    """The arrays working around ``when`` within about ``radius`` metres of (x, y) (theatre metres)."""
    r = radius * 1.05  # the lon/lat box of the square's corners; a little more for the projection
    lon, lat = to_lonlat(np.array([x - r, x + r, x - r, x + r]), np.array([y - r, y - r, y + r, y + r]))
    box = (float(np.min(lon)), float(np.min(lat)), float(np.max(lon)), float(np.max(lat)))
    return SensorActivity.around(store, when, window, bbox=box)


def run(
    store: Store,
    agreement: Agreement,
    *,
    after_seq: int,
    upto_seq: int,
    media_root: Path | None = None,
    model: AttributionModel | None = None,
    full: bool = False,
    incidents: IncidentRows | None = None,
) -> dict[str, int]:
    """The stage: attribute incidents, then check the claims that arrived in (after_seq, upto_seq].

    ``media_root`` is where claims' relative media URIs point (a run directory); by default the
    directory of the store's database file. ``full`` re-reads every incident (after a change of
    model), not only those written since the last run. Returns counts for the processing report.
    """
    updated = attribute_store(store, agreement, model=model, full=full)
    root = media_root if media_root is not None else default_media_root(store)
    checks, waiting = check_claims(store, agreement, upto_seq=upto_seq, media_root=root, incidents=incidents)
    return {
        "attributed": len(updated),
        "claims": len(checks),
        "claims_flagged": sum(c.suspicion >= 0.5 for c in checks),
        "claims_corroborated": sum(c.verdict == "corroborated" for c in checks),
        "claims_contradicted": sum(c.verdict == "contradicted" for c in checks),
        "claims_unverifiable": sum(c.verdict == "unverifiable" for c in checks),
        "claims_waiting": waiting,
    }


class AttributeFollower:
    """:func:`run` for a following process (``process --follow``): the claim index's rows kept
    between rounds (:class:`IncidentRows`)."""

    def __init__(self, media_root: Path | None = None) -> None:
        self.media_root = media_root
        self.incidents = IncidentRows()

    def run(self, store: Store, agreement: Agreement, *, after_seq: int, upto_seq: int) -> dict[str, int]:
        return run(store, agreement, after_seq=after_seq, upto_seq=upto_seq, media_root=self.media_root,
                   incidents=self.incidents)  # fmt: skip
