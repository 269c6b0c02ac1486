"""Warning features, levels and the shipped model."""

from __future__ import annotations

from datetime import date

import numpy as np
import pytest

from truceline.assess import FEATURES, DailyTable, WarningModel, feature_tensor, levels, load_model
from truceline.assess.indicators import INDICATORS
from truceline.assess.warning import _trailing

THRESHOLDS = {2: 0.02, 3: 0.08, 4: 0.2, 5: 0.5}


def test_trailing_sums_match_a_plain_loop() -> None:
    x = np.random.default_rng(1).poisson(3.0, (4, 30)).astype(float)
    for width, lag in ((7, 0), (7, 7), (21, 7), (2, 0)):
        got = _trailing(x, width, lag)
        want = np.array(
            [[x[s, max(d - lag - width + 1, 0) : max(d - lag + 1, 0)].sum() for d in range(30)] for s in range(4)]
        )
        np.testing.assert_allclose(got, want)


def test_a_sector_standing_out_from_its_peers_scores_above_them() -> None:
    counts = np.zeros((3, 20, len(INDICATORS)))
    counts[:, :, INDICATORS.index("fire")] = 10.0
    counts[0, 10:, INDICATORS.index("gnss")] = 3.0
    counts[0, 10:, INDICATORS.index("logistics")] = 4.0
    table = DailyTable(("A", "B", "C"), date(2026, 9, 1), counts)
    f = feature_tensor(table, np.array([False, False, False]))
    assert f.shape == (3, 20, len(FEATURES)) and np.all(np.isfinite(f))
    assert f[0, 19, FEATURES.index("logistics_vs_peers")] > 0 and f[1, 19, FEATURES.index("logistics_vs_peers")] == 0
    p7, p14 = load_model().probabilities(f)
    assert p14[0, 19] > p14[1, 19] and p7[0, 19] > p7[1, 19]


def test_a_fire_surge_reads_as_an_offensive_under_way_not_one_to_come() -> None:
    counts = np.zeros((1, 20, len(INDICATORS)))
    counts[0, :, INDICATORS.index("fire")] = 10.0
    counts[0, 19, INDICATORS.index("fire")] = 400.0
    f = feature_tensor(DailyTable(("A",), date(2026, 9, 1), counts), np.array([False]))
    assert f[0, 19, FEATURES.index("fire_surge")] > 2.0 and abs(f[0, 10, FEATURES.index("fire_surge")]) < 1e-9


def test_levels_hold_a_warning_for_three_days_and_a_spiral_alone_is_level_three() -> None:
    p14 = np.array([[0.0, 0.3, 0.0, 0.0, 0.0, 0.0]])
    p7 = np.array([[0.0, 0.6, 0.0, 0.0, 0.0, 0.0]])
    spiral = np.array([[False, False, False, False, False, True]])
    assert levels(p7, p14, spiral, THRESHOLDS).tolist() == [[1, 5, 4, 4, 1, 3]]


def test_the_shipped_model_loads_and_round_trips() -> None:
    model = load_model()
    assert model.features == FEATURES and set(model.thresholds) == {2, 3, 4, 5}
    again = WarningModel.from_json(model.to_json())
    np.testing.assert_array_equal(again.coef14, model.coef14)
    assert again.thresholds == model.thresholds


def test_a_model_for_other_features_is_refused() -> None:
    doc = load_model().to_json()
    doc["features"] = ["something_else"]
    with pytest.raises(ValueError, match="retrain"):
        WarningModel.from_json(doc)
