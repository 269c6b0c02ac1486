"""``evaluate``: score what the pipeline stored against a run's truth.

Reads the store's derived records (``incident``, ``finding``, ``assessment``, ``alert``) and
its observations, never anything else of the pipeline's; emits only the sections whose stage
produced records (see :mod:`truceline.sim.metrics` for what each number means). With only
ingest built, the result holds ``meta`` and ``ingest``: what was simulated against what was
stored.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from truceline.model import Alert, Assessment, Finding, Incident
from truceline.sim.metrics import (
    score_association,
    score_attribution,
    score_early_warning,
    score_escalation,
    score_localization,
    score_staging,
    score_verification,
)
from truceline.sim.truth import Truth
from truceline.store import ObservationQuery, Store

__all__ = ["evaluate", "evaluate_records"]


def _records(store: Store, type_name: str, cls: type[Any]) -> list[Any]:
    return [r.record for r in store.records(type_name) if isinstance(r.record, cls)]


def evaluate(truth: Truth, store: Store) -> dict[str, Any]:
    """Every section that can be scored from ``store`` against ``truth``."""
    result = evaluate_records(
        truth,
        incidents=_records(store, "incident", Incident),
        findings=_records(store, "finding", Finding),
        assessments=_records(store, "assessment", Assessment),
        alerts=_records(store, "alert", Alert),
    )
    simulated = truth.doc.get("observations", {})
    by_kind: dict[str, int] = dict(simulated.get("by_kind", {}))
    start, end = truth.start, truth.window_end()
    # Claims are made hours after the event: allow a day past the window's end.
    query = ObservationQuery(start=start, end=None if end is None else end + timedelta(days=1))
    stored_by_kind = {
        kind: store.count_observations(ObservationQuery(start=query.start, end=query.end, kinds=(kind,)))
        for kind in by_kind
    }
    stored = store.count_observations(query)
    total = int(simulated.get("total", sum(by_kind.values())))
    result["ingest"] = {
        "observations_simulated": total,
        "observations_stored": stored,
        "stored_share": None if total == 0 else round(stored / total, 6),
        "by_kind": {k: {"simulated": n, "stored": stored_by_kind[k]} for k, n in sorted(by_kind.items())},
    }
    return {"meta": result.pop("meta"), "ingest": result.pop("ingest"), **result}


def evaluate_records(
    truth: Truth,
    *,
    incidents: list[Incident] | None = None,
    findings: list[Finding] | None = None,
    assessments: list[Assessment] | None = None,
    alerts: list[Alert] | None = None,
) -> dict[str, Any]:
    """The scored sections for records already read (what :func:`evaluate` reads from a store)."""
    incidents, findings, assessments, alerts = incidents or [], findings or [], assessments or [], alerts or []
    scenario = truth.doc.get("scenario", {})
    out: dict[str, Any] = {
        "meta": {
            "scenario": scenario.get("name"),
            "seed": scenario.get("seed"),
            "scale": scenario.get("scale"),
            "days": truth.days,
            "window_start": None if truth.start is None else truth.start.isoformat().replace("+00:00", "Z"),
            "true_events": len(truth.events),
            "records": {
                "incident": len(incidents),
                "finding": len(findings),
                "assessment": len(assessments),
                "alert": len(alerts),
            },
        }
    }
    association, matches = score_association(truth, incidents)
    sections = {
        "association": association,
        "localization": score_localization(truth, matches) if association else None,
        "attribution": score_attribution(truth, matches) if association else None,
        "staging": score_staging(truth, findings, incidents),
        "verification": score_verification(truth, findings),
        "escalation": score_escalation(truth, assessments),
        "early_warning": score_early_warning(truth, assessments),
    }
    out.update({name: value for name, value in sections.items() if value is not None})
    return out
