"""The stage end to end on a small simulated run, scored exactly as ``truceline evaluate`` scores it."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

from tests.unit.attribute.conftest import NOW, StagedRun
from truceline.agreement import Agreement
from truceline.attribute import STAGING_CLAUSE, run
from truceline.ingest import ContextChecks, ingest_paths
from truceline.model import Finding, Incident
from truceline.sim import evaluate


def _findings(r: StagedRun) -> dict[str, Finding]:
    return {s.record.id: s.record for s in r.store.records("finding") if isinstance(s.record, Finding)}


def test_attribution_meets_the_brier_target_and_is_calibrated(staged_run: StagedRun) -> None:
    scores = evaluate(staged_run.truth, staged_run.store)["attribution"]
    assert scores["n"] > 500
    assert scores["brier"] <= 0.10
    assert scores["accuracy"] >= 0.95
    # Calibration: in every well-filled bin the forecast is within 0.15 of what happened.
    for row in scores["reliability"]:
        if row["n"] >= 30:
            assert abs(row["mean_p"] - row["observed"]) <= 0.15, row


def test_staged_claims_are_flagged_and_genuine_ones_are_not(staged_run: StagedRun) -> None:
    scores = evaluate(staged_run.truth, staged_run.store)["staging"]
    assert scores["staged"] == 3
    assert scores["recall"] >= 0.9
    assert scores["false_positive_rate"] <= 0.05


def test_every_claim_gets_a_finding_with_its_verdict_and_reasons(staged_run: StagedRun) -> None:
    findings = _findings(staged_run)
    detectable = {e["id"]: len(e.get("observations", [])) for e in staged_run.truth.events}
    assert len(findings) == len(staged_run.truth.claims) == staged_run.counts["claims"]
    for claim in staged_run.truth.claims:
        p, s, k = claim["ref"]
        f = findings[f"staging:{p}:{s}:{k}"]
        assert f.clause_id == STAGING_CLAUSE and f.side == claim["claimant"]
        assert f.evidence[0].kind == "verdict" and f.evidence[0].refs[0].key == k
        assert f.creation_info.note.startswith("verdict: ")
        kinds = {e.kind for e in f.evidence}
        assert {"place", "coverage", "accused_fire"} <= kinds, kinds
        if claim["staged"]:
            assert "media_predates" in kinds  # the simulator's staged photos are two days old
            assert f.creation_info.note == "verdict: contradicted"
        if claim["kind"] == "own_side_fire" and detectable.get(claim["event"], 0) >= 2:
            assert "own_side_fire" in kinds  # the claimant's own shelling was located: it is cited


def test_rerunning_the_window_writes_no_duplicates(staged_run: StagedRun) -> None:
    store = staged_run.store
    incidents = sum(1 for _ in store.records("incident"))
    findings = sum(1 for _ in store.records("finding"))
    sample = next(s.record for s in store.records("incident") if isinstance(s.record, Incident))
    versions = len(store.record_history("incident", sample.id))
    counts = run(store, staged_run.agreement, after_seq=0, upto_seq=staged_run.upto, media_root=staged_run.out)
    assert counts["attributed"] == 0  # every incident already carries the current attribution
    assert sum(1 for _ in store.records("incident")) == incidents
    assert sum(1 for _ in store.records("finding")) == findings
    assert len(store.record_history("incident", sample.id)) == versions


def test_an_unknown_place_is_reported_not_judged(staged_run: StagedRun, agreement: Agreement, tmp_path: Path) -> None:
    store = staged_run.store
    line = (
        '{"kind":"claim","key":"odd-1","participant":"RUS","source":"mod-press-RUS","time":"2026-09-09T12:00:00Z",'
        '"markings":{"tlp":"clear","originator":"RUS"},"claimant":"RUS","accused":"UKR","claim_kind":"shelling",'
        '"claimed_time":"2026-09-09T08:00:00Z","place_name":"Nowhereville-on-Nothing",'
        '"media":[{"uri":"media/does-not-exist.jpg","media_type":"image/jpeg"}]}\n'
    )
    (tmp_path / "odd.ndjson").write_text(line, encoding="utf-8")
    report = ingest_paths(
        [str(tmp_path / "odd.ndjson")], store, ContextChecks(frozenset(agreement.participant_ids()), NOW)
    )
    assert report.rejected == 0
    before = staged_run.upto
    counts = run(store, agreement, after_seq=before, upto_seq=store.max_seq(), media_root=staged_run.out)
    assert counts["claims"] == 1 and counts["claims_unverifiable"] == 1 and counts["claims_flagged"] == 0
    f = _findings(staged_run)["staging:RUS:mod-press-RUS:odd-1"]
    kinds = {e.kind for e in f.evidence}
    assert {"place_unresolved", "media_unavailable"} <= kinds
    assert "not in the gazetteer" in next(e.description for e in f.evidence if e.kind == "place_unresolved")
    assert f.confidence < 0.5 and f.location is None
    assert f.last_seen - f.first_seen == timedelta(0) and f.first_seen.tzinfo is not None
    assert datetime(2026, 9, 9, tzinfo=UTC) < f.first_seen


def test_only_new_incidents_are_read_and_attributed(staged_run: StagedRun) -> None:
    store = staged_run.store
    old = next(s.record for s in store.records("incident") if isinstance(s.record, Incident))
    fresh = old.model_copy(update={"id": old.id + "-again", "attributions": (), "preferred_attribution_id": None})
    store.put_records([fresh])
    counts = run(store, staged_run.agreement, after_seq=staged_run.upto, upto_seq=staged_run.upto)
    assert counts["attributed"] == 1 and counts["claims"] == 0
    latest = store.get_record("incident", fresh.id)
    assert latest is not None and isinstance(latest.record, Incident)
    assert latest.record.preferred_attribution_id is not None
    # A full pass finds every incident already carrying the current attribution.
    full = run(store, staged_run.agreement, after_seq=staged_run.upto, upto_seq=staged_run.upto, full=True)
    assert full["attributed"] == 0


def test_a_fresh_claim_waits_for_its_evidence_window_and_is_judged_once() -> None:
    import json

    from tests.conftest import observation_dict
    from truceline.agreement import default_agreement
    from truceline.attribute.stage import CLAIMS_CURSOR, check_claims
    from truceline.model import observation_adapter
    from truceline.store import MemoryStore, PreparedObservation

    now = datetime(2026, 11, 20, 12, 0, tzinfo=UTC)

    def claim(key: str, minutes_ago: float) -> PreparedObservation:
        doc = observation_dict(
            0, "claim", key=key, time=(now - timedelta(minutes=1)).isoformat().replace("+00:00", "Z"),
            claimed_time=(now - timedelta(minutes=minutes_ago)).isoformat().replace("+00:00", "Z"), media=[],
        )  # fmt: skip
        body = json.dumps(doc).encode()
        return PreparedObservation(observation_adapter.validate_json(body), body)  # type: ignore[arg-type]

    store = MemoryStore()
    ag = default_agreement()
    store.add_observations([claim("fresh", 10), claim("old", 120)])  # the fresh one arrived first
    checks, waiting = check_claims(store, ag, upto_seq=store.max_seq(), now=now)
    assert [c.claim.key for c in checks] == ["old"] and waiting == 1
    assert store.get_cursor(CLAIMS_CURSOR) == 0  # stopped before the claim that waits
    # 25 minutes for the evidence, 5 for late picks: at 20 minutes on it is judged, "old" is not again.
    checks, waiting = check_claims(store, ag, upto_seq=store.max_seq(), now=now + timedelta(minutes=20))
    assert [c.claim.key for c in checks] == ["fresh"] and waiting == 0
    assert store.get_cursor(CLAIMS_CURSOR) == 2
    assert check_claims(store, ag, upto_seq=store.max_seq(), now=now + timedelta(hours=1)) == ([], 0)
    assert sum(1 for _ in store.records("finding")) == 2
