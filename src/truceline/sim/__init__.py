"""Simulation with ground truth, and evaluation against it.

``simulate(scenario("default", days=7), "run/")`` writes ``run/observations.ndjson`` (the ingest
format) and ``run/truth.json``; ``evaluate(load_truth("run/truth.json"), store)`` scores what
the pipeline stored. The pipeline never reads the truth. ``example_reports`` is the small
built-in example the demo used before the simulator existed.

The public surface is listed in ``__all__`` (pinned by a test); the modules are private.
"""

from truceline.sim.acoustic import detection_probability
from truceline.sim.config import DEFAULT_START, SCENARIOS, ScenarioConfig, scenario
from truceline.sim.evaluate import evaluate, evaluate_records
from truceline.sim.example import ExampleConfig, bad_reports, example_reports
from truceline.sim.hawkes import (
    HawkesEvents,
    HawkesFit,
    HawkesParams,
    fit_hawkes,
    loglik,
    loglik_reference,
    simulate_hawkes,
)
from truceline.sim.metrics import (
    score_association,
    score_attribution,
    score_early_warning,
    score_escalation,
    score_localization,
    score_staging,
    score_verification,
)
from truceline.sim.plot import plot_reliability, plot_run
from truceline.sim.run import OBSERVATIONS_FILE, SimulationSummary, simulate
from truceline.sim.truth import Truth, load_truth
from truceline.sim.truthdoc import TRUTH_FILE

__all__ = [
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
