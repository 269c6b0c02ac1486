"""The simulator's public surface is deliberate: this list changes only on purpose."""

from __future__ import annotations

import truceline.sim


def test_public_surface_is_pinned() -> None:
    assert sorted(truceline.sim.__all__) == sorted(
        [
            "DEFAULT_START",
            "OBSERVATIONS_FILE",
            "SCENARIOS",
            "TRUTH_FILE",
            "ExampleConfig",
            "HawkesEvents",
            "HawkesFit",
            "HawkesParams",
            "ScenarioConfig",
            "SimulationSummary",
            "Truth",
            "bad_reports",
            "detection_probability",
            "evaluate",
            "evaluate_records",
            "example_reports",
            "fit_hawkes",
            "load_truth",
            "loglik",
            "loglik_reference",
            "plot_reliability",
    "plot_run",
            "scenario",
            "score_association",
            "score_attribution",
            "score_early_warning",
            "score_escalation",
            "score_localization",
            "score_staging",
            "score_verification",
            "simulate",
            "simulate_hawkes",
        ]
    )
    for name in truceline.sim.__all__:
        assert getattr(truceline.sim, name) is not None
