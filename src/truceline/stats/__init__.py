"""Statistics shared by the stages and the simulator: point processes and change detection.

A low-level package beside :mod:`truceline.geo`: it imports numpy, scipy and :mod:`truceline.model`
only, so the assess stage and the simulator can both use it. The public surface is listed in
``__all__`` (pinned by a test); the modules are private.
"""

from truceline.stats.changepoint import CusumResult, cusum
from truceline.stats.diurnal import DailyCycle
from truceline.stats.hawkes import (
    PARAM_NAMES,
    HawkesParams,
    excitation_sums,
    loglik,
    loglik_and_grad,
    loglik_hessian,
    loglik_reference,
    spectral_radius,
)
from truceline.stats.hawkes_fit import DEFAULT_PRIOR, BivariateHawkes, FitStatus, HawkesResults, fit_hawkes
from truceline.stats.hawkes_profile import TypedEvents

__all__ = [
    "DEFAULT_PRIOR",
    "PARAM_NAMES",
    "BivariateHawkes",
    "CusumResult",
    "DailyCycle",
    "FitStatus",
    "HawkesParams",
    "HawkesResults",
    "TypedEvents",
    "cusum",
    "excitation_sums",
    "fit_hawkes",
    "loglik",
    "loglik_and_grad",
    "loglik_hessian",
    "loglik_reference",
    "spectral_radius",
]
