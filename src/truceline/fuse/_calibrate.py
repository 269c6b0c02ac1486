"""Calibrating the weather with the arrivals themselves, in information form.

Met reports give the wind to about ±0.2 m/s an hour (a few stations, ±5° and ±0.3 m/s each) and
miss changes of air mass between reports; a wind error ``δw`` moves an origin by ``δw`` times the
travel time. Every located blast, with its own origin profiled out, says how the sound speed and
wind should change (:func:`truceline.fuse._locate.weather_information`); summed over an hour's
blasts, with the met values as the prior, they pin the weather down.
"""

from __future__ import annotations

import numpy as np
from numpy.typing import NDArray

from truceline.fuse._locate import Picks, Solutions, weather_information

FloatArray = NDArray[np.float64]

CALIBRATION_BIN_S = 3_600.0
PRIOR_C_MPS = 0.15
PRIOR_WIND_MPS = 1.0
PRIOR_DRIFT_MPS = 1.0


def calibrate_weather(
    picks: Picks, sol: Solutions, c: FloatArray, we: FloatArray, wn: FloatArray
) -> tuple[FloatArray, FloatArray, FloatArray, FloatArray, NDArray[np.int64], FloatArray]:
    """Per hour, correct the met sound speed and wind with what the located events' arrivals say.

    In each hour the correction is a line in time (an offset and a drift per hour: the wind veers
    through the day). The met values are the prior (±:data:`PRIOR_C_MPS`, ±:data:`PRIOR_WIND_MPS`,
    drifts ±:data:`PRIOR_DRIFT_MPS` per hour); each event adds its information about the shared
    correction (:func:`weather_information`); the correction is the posterior mean. Hours with few
    events stay near the met values. Returns the corrected (c, wind east, wind north) per event and
    the posterior covariance (3×3) of each event's correction, then the hour bins and their
    corrections (offset and drift, 6 per hour).
    """
    info, rhs, _ = weather_information(picks, sol, c, we, wn)
    hour = np.floor(sol.t0 / CALIBRATION_BIN_S).astype(np.int64)
    tau = sol.t0 / CALIBRATION_BIN_S - hour - 0.5  # position in the hour, -0.5 … 0.5
    hours, inv = np.unique(hour, return_inverse=True)
    # Six unknowns per hour: offset (c, we, wn) and drift per hour; an event at tau sees offset + tau·drift.
    info6 = np.zeros((len(sol.t0), 6, 6))
    info6[:, :3, :3] = info
    info6[:, :3, 3:] = tau[:, None, None] * info
    info6[:, 3:, :3] = tau[:, None, None] * info
    info6[:, 3:, 3:] = (tau * tau)[:, None, None] * info
    rhs6 = np.concatenate([rhs, tau[:, None] * rhs], axis=1)
    total = np.zeros((len(hours), 6, 6))
    vec = np.zeros((len(hours), 6))
    np.add.at(total, inv, info6)
    np.add.at(vec, inv, rhs6)
    prior = np.array([PRIOR_C_MPS, PRIOR_WIND_MPS, PRIOR_WIND_MPS, PRIOR_DRIFT_MPS, PRIOR_DRIFT_MPS, PRIOR_DRIFT_MPS])
    total += np.diag(1.0 / prior**2)
    cov6 = np.linalg.inv(total)
    theta = np.einsum("hij,hj->hi", cov6, vec)
    lift = np.concatenate([np.broadcast_to(np.eye(3), (len(tau), 3, 3)), tau[:, None, None] * np.eye(3)], axis=2)
    d = np.einsum("kij,kj->ki", lift, theta[inv])
    cov = np.einsum("kij,kjl,kml->kim", lift, cov6[inv], lift)
    return c + d[:, 0], we + d[:, 1], wn + d[:, 2], cov, hours, theta
