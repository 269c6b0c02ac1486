"""The fuse stage's public surface is deliberate: this list changes only on purpose."""

from __future__ import annotations

import numpy as np
import pytest

import truceline.fuse
from truceline.fuse import Weather


def test_public_surface_is_pinned() -> None:
    assert sorted(truceline.fuse.__all__) == sorted(
        [
            "ACTIONS",
            "REASONS",
            "Arrivals",
            "Association",
            "Bulletin",
            "BulletinEntry",
            "FuseStream",
            "Picks",
            "Solutions",
            "Weather",
            "accept",
            "associate",
            "bulletin",
            "incident_id",
            "locate",
            "locate_reference",
            "merge",
            "merge_markings",
            "reject",
            "run",
            "sound_speed",
            "split",
        ]
    )
    for name in truceline.fuse.__all__:
        assert hasattr(truceline.fuse, name)


def test_met_weather_interpolates_and_falls_back_to_the_standard_atmosphere() -> None:
    none = Weather.from_reports([], [], [], [], [], [])
    assert none.standard and float(none.sound_speed(0.0, 37.0, 48.0)[0]) == 331.3 + 0.606 * 15.0
    hours = np.arange(6) * 3600.0
    wx = Weather.from_reports(
        hours, np.full(6, 37.0), np.full(6, 48.0), 10.0 + np.arange(6), np.full(6, 5.0), np.full(6, 270.0)
    )
    assert float(wx.temperature_c(1.5 * 3600.0, 37.0, 48.0)[0]) == pytest.approx(11.5, abs=0.05)
    we, wn = wx.wind(7200.0)
    assert float(we[0]) == pytest.approx(5.0, abs=1e-6)  # from the west: blowing east
    assert abs(float(wn[0])) < 1e-6
