"""Early warning: the probability of a major offensive within 7 and 14 days, and a level 1–5.

Features are computed per sector and day from the indicator table (trailing 7-day counts, their
trend against the week before, the sector against its peers of the same kind, fire against its
own baseline, and a surge feature that says an offensive is already under way). Two logistic
regressions — one per horizon — were trained on simulated runs with some seeds and checked on
others (``tools/train_warning.py``); their standardisation, coefficients and level thresholds
ship in ``data/warning_model.json``. The level uses the highest 14-day probability of the last
three days, so that a warning does not flicker off and on; a Hawkes spiral alone raises a sector
to level 3 (tit-for-tat feeding on itself is a reason to act, not a forecast of an offensive).

>>> model = load_model()
>>> model.features == FEATURES
True
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from importlib import resources
from typing import Any

import numpy as np
from numpy.typing import NDArray

from truceline.assess.indicators import INDICATORS, DailyTable

__all__ = ["FEATURES", "WarningModel", "feature_tensor", "levels", "load_model"]

FloatArray = NDArray[np.float64]

FEATURES: tuple[str, ...] = (
    "gnss",
    "denials",
    "denials_trend",
    "logistics",
    "logistics_vs_peers",
    "air_defence",
    "armour",
    "armour_vs_peers",
    "heavy_in_zone",
    "claims",
    "explosion_share",
    "fire_trend",
    "fire_surge",
    "approach_axis",
)
_COL = {name: k for k, name in enumerate(INDICATORS)}


def _trailing(x: FloatArray, width: int, lag: int = 0) -> FloatArray:
    """Sum over days [d - lag - width + 1, d - lag] along axis 1 (zeros before the table's start)."""
    c = np.concatenate([np.zeros((x.shape[0], 1)), np.cumsum(x, axis=1)], axis=1)
    d = np.arange(x.shape[1])
    hi = np.clip(d - lag + 1, 0, x.shape[1])
    lo = np.clip(d - lag - width + 1, 0, x.shape[1])
    return np.asarray(c[:, hi] - c[:, lo])


def _vs_peers(f: FloatArray, axis_mask: NDArray[np.bool_]) -> FloatArray:
    """A feature minus the median of the sectors of the same kind on the same day."""
    out = np.zeros_like(f)
    for mask in (axis_mask, ~axis_mask):
        if mask.any():
            out[mask] = f[mask] - np.median(f[mask], axis=0, keepdims=True)
    return out


def feature_tensor(table: DailyTable, approach_axis: NDArray[np.bool_]) -> FloatArray:
    """(sectors, days, len(FEATURES)) from the indicator table."""
    x = table.counts

    def col(name: str) -> FloatArray:
        return np.asarray(x[:, :, _COL[name]])

    w7 = {name: _trailing(col(name), 7) for name in INDICATORS}
    prev7 = {name: _trailing(col(name), 7, lag=7) for name in ("denials", "fire")}
    fire = col("fire")
    days_before = np.clip(np.arange(x.shape[1]) - 6, 0, 21)  # days of baseline available, up to three weeks
    base_sum = _trailing(fire, 21, lag=7)
    weekly_base = np.where(days_before > 0, base_sum / np.maximum(days_before, 1) * 7.0, w7["fire"])
    recent2 = _trailing(fire, 2)
    prior_daily = _trailing(fire, 7, lag=2) / 7.0
    log = np.log1p
    feats = {
        "gnss": log(w7["gnss"]),
        "denials": log(w7["denials"]),
        "denials_trend": log(w7["denials"]) - log(prev7["denials"]),
        "logistics": log(w7["logistics"]),
        "logistics_vs_peers": _vs_peers(log(w7["logistics"]), approach_axis),
        "air_defence": log(w7["air_defence"]),
        "armour": log(w7["armour"]),
        "armour_vs_peers": _vs_peers(log(w7["armour"]), approach_axis),
        "heavy_in_zone": log(w7["heavy_in_zone"]),
        "claims": log(w7["claims"]),
        "explosion_share": w7["explosions"] / (w7["explosions"] + w7["small_arms"] + 1.0),
        "fire_trend": np.log((w7["fire"] + 7.0) / (weekly_base + 7.0)),
        "fire_surge": np.log((recent2 + 4.0) / (2.0 * prior_daily + 4.0)),
        "approach_axis": np.broadcast_to(approach_axis[:, None].astype(np.float64), fire.shape),
    }
    return np.stack([feats[name] for name in FEATURES], axis=-1)


@dataclass(frozen=True)
class WarningModel:
    """Standardisation, one logistic regression per horizon, and the level thresholds."""

    features: tuple[str, ...]
    mean: FloatArray
    scale: FloatArray
    coef7: FloatArray  # intercept first
    coef14: FloatArray
    thresholds: dict[int, float]  # level -> the 14-day probability it needs (level 5: the 7-day one)
    meta: dict[str, Any]

    def standardise(self, f: FloatArray) -> FloatArray:
        return np.asarray((f - self.mean) / self.scale)

    def probabilities(self, f: FloatArray) -> tuple[FloatArray, FloatArray]:
        z = self.standardise(f)
        return _sigmoid(self.coef7[0] + z @ self.coef7[1:]), _sigmoid(self.coef14[0] + z @ self.coef14[1:])

    def contributions(self, f: FloatArray) -> FloatArray:
        """Each feature's share of the 14-day log-odds against an average sector-day."""
        return np.asarray(self.standardise(f) * self.coef14[1:])

    def to_json(self) -> dict[str, Any]:
        return {
            "format": "truceline-warning-model/1",
            "features": list(self.features),
            "mean": self.mean.tolist(),
            "scale": self.scale.tolist(),
            "coef7": self.coef7.tolist(),
            "coef14": self.coef14.tolist(),
            "thresholds": {str(k): v for k, v in self.thresholds.items()},
            "meta": self.meta,
        }

    @classmethod
    def from_json(cls, doc: dict[str, Any]) -> WarningModel:
        if doc.get("format") != "truceline-warning-model/1":
            raise ValueError("not a truceline warning model (format truceline-warning-model/1)")
        model = cls(
            features=tuple(doc["features"]),
            mean=np.array(doc["mean"], dtype=np.float64),
            scale=np.array(doc["scale"], dtype=np.float64),
            coef7=np.array(doc["coef7"], dtype=np.float64),
            coef14=np.array(doc["coef14"], dtype=np.float64),
            thresholds={int(k): float(v) for k, v in doc["thresholds"].items()},
            meta=dict(doc.get("meta", {})),
        )
        if model.features != FEATURES:
            raise ValueError(f"the model's features {model.features} are not this code's {FEATURES}: retrain it")
        return model


def _sigmoid(x: FloatArray) -> FloatArray:
    return np.asarray(0.5 * (1.0 + np.tanh(0.5 * x)))  # tanh form: no overflow for large |x|


def load_model() -> WarningModel:
    """The shipped model (``truceline/assess/data/warning_model.json``)."""
    text = resources.files("truceline.assess").joinpath("data/warning_model.json").read_text(encoding="utf-8")
    return WarningModel.from_json(json.loads(text))


def levels(
    p7: FloatArray, p14: FloatArray, spiral: NDArray[np.bool_], thresholds: dict[int, float]
) -> NDArray[np.intp]:
    """Warning levels (sectors, days): the 14-day probability, held for three days, against the thresholds."""
    held = p14.copy()
    for lag in (1, 2):
        held[:, lag:] = np.maximum(held[:, lag:], p14[:, :-lag])
    level = np.ones(p14.shape, dtype=np.intp)
    for lv in (2, 3, 4):
        level = np.where(held >= thresholds[lv], lv, level)
    level = np.where(spiral, np.maximum(level, 3), level)
    return np.where((level >= 4) & (p7 >= thresholds[5]), 5, level)
