"""Radar folding: information-form fusion, and a relayed track counted once."""

from __future__ import annotations

import numpy as np

from truceline.fuse import Solutions
from truceline.fuse._radar import RadarTracks, fold_radar


def _solutions() -> Solutions:
    cov = np.zeros((1, 3, 3))
    cov[0, :2, :2] = np.diag([100.0, 400.0])  # acoustic: 10 m east, 20 m north (1 σ)
    cov[0, 2, 2] = 1e-4
    return Solutions(
        np.array([37.5]),
        np.array([48.3]),
        np.array([1000.0]),
        cov,
        np.array([8]),
        np.array([0.01]),
        np.array([5.0]),
        np.array([0]),
        np.ones(8, dtype=bool),
    )


def _tracks(n_relays: int, time_s: float = 1000.2) -> RadarTracks:
    k = 1 + n_relays
    return RadarTracks(
        time_s=np.full(k, time_s),
        lon=np.full(k, 37.5),
        lat=np.full(k, 48.3),
        cov=np.repeat(np.diag([400.0, 400.0])[None], k, axis=0),
        measurement=np.zeros(k, dtype=np.intp),  # the same measurement, re-reported
    )


def test_fused_covariance_is_the_information_sum_and_relays_count_once() -> None:
    fused = fold_radar(_tracks(n_relays=1), _solutions())
    tracks, _, _, cov = fused[0]
    assert tracks == [0, 1]  # both reports are linked to the incident
    expected = np.linalg.inv(np.linalg.inv(np.diag([100.0, 400.0])) + np.linalg.inv(np.diag([400.0, 400.0])))
    assert np.allclose(np.asarray(cov), expected)


def test_a_track_at_another_time_is_not_folded_in() -> None:
    assert fold_radar(_tracks(n_relays=0, time_s=1010.0), _solutions()) == {}
