"""The stock-and-flow model: totals conserved, stocks never negative, the vectorised model equal
to its per-month reference twin, and batches equal to their scenarios run one by one."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays

from truceline.guarantee import FlowInputs, project, project_reference

MONTHS = st.integers(min_value=1, max_value=150)


@st.composite
def flow_inputs(draw: st.DrawFn, batch: int | None = None) -> FlowInputs:
    """Random but valid inputs; with ``batch`` the scenario-specific arrays get a leading axis."""
    n = draw(MONTHS)
    cats = draw(st.integers(min_value=0, max_value=4))
    lead = () if batch is None else (batch,)
    counts = st.floats(min_value=0.0, max_value=50_000.0, allow_nan=False)
    rates = st.floats(min_value=0.0, max_value=0.45, allow_nan=False)
    active0 = draw(arrays(np.float64, lead, elements=st.floats(0.0, 1e6)))
    share = draw(arrays(np.float64, lead, elements=st.floats(0.0, 1.0)))
    return FlowInputs(
        months=tuple(f"m{i}" for i in range(n)),
        categories=tuple(f"c{i}" for i in range(cats)),
        recruitment=draw(arrays(np.float64, (*lead, n), elements=counts)),
        capacity=draw(arrays(np.float64, (*lead, n), elements=counts)),
        training_months=draw(st.integers(min_value=0, max_value=6)),
        washout=draw(arrays(np.float64, lead, elements=st.floats(0.0, 0.5))),
        attrition=draw(arrays(np.float64, (n,), elements=rates)),
        demobilisation=draw(arrays(np.float64, (n,), elements=rates)),
        separation=draw(arrays(np.float64, (n,), elements=rates)),
        active0=active0,
        mobilised0=active0 * share,
        training0=draw(arrays(np.float64, lead, elements=st.floats(0.0, 1e5))),
        stock0=draw(arrays(np.float64, (*lead, cats), elements=st.floats(0.0, 1e4))),
        inflow=(inflow := draw(arrays(np.float64, (*lead, cats, n), elements=st.floats(0.0, 500.0)))),
        delivered=inflow * draw(st.floats(0.0, 1.0)),
        equipment_attrition=draw(arrays(np.float64, (cats, n), elements=rates)),
    )


def _scale(p: object) -> float:
    return 1.0 + max(float(np.max(np.abs(np.asarray(getattr(p, k))), initial=0.0)) for k in ("active0", "stock0"))


@settings(max_examples=150, deadline=None)
@given(flow_inputs())
def test_totals_are_conserved_and_stocks_never_negative(inputs: FlowInputs) -> None:
    p = project(inputs)
    personnel, equipment = p.balance()
    # initial + recruited − washed out − attrition − demobilised − separated = strength + waiting, every month
    tolerance = 1e-9 * (_scale(p) + float(np.sum(inputs.recruitment)) + float(np.sum(inputs.inflow)))
    assert np.max(np.abs(personnel), initial=0.0) <= tolerance
    assert np.max(np.abs(equipment), initial=0.0) <= tolerance
    for series in (p.waiting, p.in_training, p.regular, p.mobilised, p.stock, p.intake):
        assert np.all(series >= -tolerance)
    # Nobody enters training beyond the places, nor before signing up.
    assert np.all(p.intake <= inputs.capacity + tolerance)
    assert np.all(np.cumsum(p.intake) <= np.cumsum(inputs.recruitment) + tolerance)


@settings(max_examples=150, deadline=None)
@given(flow_inputs())
def test_the_vectorised_model_agrees_with_its_per_month_twin(inputs: FlowInputs) -> None:
    fast, slow = project(inputs), project_reference(inputs)
    scale = _scale(fast) + float(np.sum(inputs.recruitment)) + float(np.sum(inputs.inflow))
    for name in ("waiting", "intake", "graduated", "washed_out", "attrition", "demobilised", "separated",
                 "in_training", "mobilised", "regular", "stock", "lost"):  # fmt: skip
        np.testing.assert_allclose(getattr(fast, name), getattr(slow, name), rtol=1e-8, atol=1e-9 * scale, err_msg=name)


@settings(max_examples=40, deadline=None)
@given(flow_inputs(batch=3))
def test_a_batch_equals_its_scenarios_run_one_by_one(inputs: FlowInputs) -> None:
    together = project(inputs)
    for i in range(3):
        alone = project_reference(inputs.scenario(i))
        np.testing.assert_allclose(together.scenario(i).strength, alone.strength, rtol=1e-8, atol=1e-3)
        np.testing.assert_allclose(together.scenario(i).stock, alone.stock, rtol=1e-8, atol=1e-6)


def _simple(n: int = 12, **changes: object) -> FlowInputs:
    base = dict(
        months=tuple(f"m{i}" for i in range(n)), categories=("tank",), recruitment=np.full(n, 100.0),
        capacity=np.full(n, 60.0), training_months=2, washout=np.asarray(0.0), attrition=np.zeros(n),
        demobilisation=np.zeros(n), separation=np.zeros(n), active0=np.asarray(1000.0), mobilised0=np.asarray(0.0),
        training0=np.asarray(0.0), stock0=np.array([10.0]), inflow=np.zeros((1, n)), delivered=np.zeros((1, n)),
        equipment_attrition=np.zeros((1, n)),
    )  # fmt: skip
    base.update(changes)
    return FlowInputs(**base)  # type: ignore[arg-type]


def test_training_places_are_the_bottleneck_and_training_takes_its_months() -> None:
    p = project(_simple())
    assert p.intake.tolist() == [60.0] * 12
    assert p.waiting.tolist() == [40.0 * (i + 1) for i in range(12)]
    # Intake of month t graduates in month t + 2: nothing before, 60 a month after.
    assert p.graduated.tolist() == [0.0, 0.0] + [60.0] * 10
    assert p.strength[-1] == 1000.0 + 12 * 60.0


def test_demobilisation_releases_only_the_mobilised() -> None:
    n = 24
    changes = {"mobilised0": np.asarray(400.0), "recruitment": np.zeros(n), "demobilisation": np.full(n, 0.1)}
    p = project(_simple(n, **changes))
    assert p.regular[-1] == pytest.approx(600.0)
    assert p.mobilised[-1] == pytest.approx(400.0 * 0.9**n)


def test_an_impossible_rate_is_refused() -> None:
    with pytest.raises(ValueError, match="monthly rate"):
        project(_simple(attrition=np.full(12, 0.6), demobilisation=np.full(12, 0.6)))
    with pytest.raises(ValueError, match="not negative"):
        project(_simple(recruitment=np.full(12, -1.0)))


def test_the_survival_product_does_not_underflow_over_fifty_years() -> None:
    n = 600
    heavy = {
        "attrition": np.full(n, 0.5),
        "separation": np.full(n, 0.45),
        "recruitment": np.full(n, 100.0),
        "capacity": np.full(n, 100.0),
    }
    p = project(_simple(n, **heavy))
    assert np.all(np.isfinite(p.regular))
    np.testing.assert_allclose(p.regular, project_reference(_simple(n, **heavy)).regular, rtol=1e-9)
