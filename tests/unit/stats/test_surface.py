"""The public surface of truceline.stats is deliberate."""

import truceline.stats


def test_public_surface_is_pinned() -> None:
    assert sorted(truceline.stats.__all__) == sorted(
        [
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
    )
