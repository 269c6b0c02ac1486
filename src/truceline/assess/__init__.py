"""Assess: escalation spirals and calibrated early warning, per sector and day.

``run(store, agreement, after_seq=..., upto_seq=...)`` is the stage's entry point. The escalation
model is the bivariate Hawkes fit of :mod:`truceline.stats`; the warning model is a pair of
logistic regressions over daily indicators, trained on simulated runs
(``tools/train_warning.py``) and shipped in ``data/warning_model.json``.

The public surface is listed in ``__all__`` (pinned by a test); the modules are private.
"""

from truceline.assess.escalation import EscalationEstimate, rolling_escalation
from truceline.assess.indicators import INDICATORS, DailyTable, FireEvents, daily_table
from truceline.assess.stage import assess_days, fire_events, run
from truceline.assess.warning import FEATURES, WarningModel, feature_tensor, levels, load_model

__all__ = [
    "FEATURES",
    "INDICATORS",
    "DailyTable",
    "EscalationEstimate",
    "FireEvents",
    "WarningModel",
    "assess_days",
    "daily_table",
    "feature_tensor",
    "fire_events",
    "levels",
    "load_model",
    "rolling_escalation",
    "run",
]
