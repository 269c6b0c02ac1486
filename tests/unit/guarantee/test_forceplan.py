"""The force plan built from the coalition: pledges feed the model, shortfalls name the pledges
that contribute and those that would close the gap, and what-if changes move the projection."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from truceline.guarantee import (
    EXAMPLE_COALITION,
    Coalition,
    Situation,
    WhatIf,
    load_coalition,
    project_reference,
    run_force_plan,
)
from truceline.guarantee.forceplan import scenario_inputs
from truceline.model import UsageError

Write = Callable[[dict[str, Any] | str], Path]


@pytest.fixture
def coalition(doc: dict[str, Any], write: Write) -> Coalition:
    return load_coalition(write(doc))


def _shortfall(result: Any, item: str) -> Any:
    return next(s for s in result.shortfalls if s.item == item)


def test_pledged_deliveries_arrive_in_their_months(coalition: Coalition) -> None:
    p = run_force_plan(coalition).projection
    tanks = p.categories.index("tank")
    assert p.months[1] == "2026-10" and p.delivered[tanks, 1] == 20 and p.delivered[tanks, 7] == 10
    assert p.delivered[tanks].sum() == 30  # the undated 10 are not scheduled
    assert p.produced[tanks].tolist() == [2.0] * 36


def test_contributions_and_closers_of_a_shortfall(coalition: Coalition) -> None:
    result = run_force_plan(coalition)
    tanks = _shortfall(result, "tank")
    assert tanks.shortfall > 0 and tanks.by == "2029-08"
    (contributor,) = tanks.contributors
    assert contributor.pledge == "DEU-tanks" and 25 < contributor.amount < 30  # 30 delivered, minus wear
    (closer,) = tanks.closers
    assert closer.pledge == "DEU-tanks" and "10 not delivered" in closer.note
    personnel = _shortfall(result, "personnel")
    assert [c.pledge for c in personnel.contributors] == ["DEU-training"]
    assert personnel.contributors[0].amount > 0
    # POL's training pledge is activated only at warning level 3: a closer, not a contributor.
    assert [c.pledge for c in personnel.closers] == ["POL-training"]
    assert "warning level 3" in personnel.closers[0].note


def test_at_a_higher_warning_level_the_conditional_pledge_counts(coalition: Coalition) -> None:
    base = _shortfall(run_force_plan(coalition), "personnel")
    raised = _shortfall(run_force_plan(coalition, situation=Situation(warning_level=3)), "personnel")
    assert raised.projected > base.projected
    assert "POL-training" in {c.pledge for c in raised.contributors}


def test_a_delivery_slipping_three_months_moves_the_tanks(coalition: Coalition) -> None:
    base = run_force_plan(coalition)
    slipped = run_force_plan(coalition, whatif=WhatIf(slips={"DEU-tanks": 3}))
    tanks = base.projection.categories.index("tank")
    assert slipped.projection.delivered[tanks, 4] == 20 and slipped.projection.delivered[tanks, 1] == 0
    before = base.projection.stock[tanks]
    after = slipped.projection.stock[tanks]
    assert np.all(after[1:4] < before[1:4]) and after[0] == before[0]


def test_a_withdrawn_pledge_keeps_what_it_delivered(doc: dict[str, Any], write: Write) -> None:
    doc["amendments"] = [{"pledge": "DEU-tanks", "date": "2027-01-15", "withdraw": True, "reason": "test"}]
    result = run_force_plan(load_coalition(write(doc)))
    tanks = result.projection.categories.index("tank")
    assert result.projection.delivered[tanks].sum() == 20  # October's tranche, not April's
    assert not _shortfall(result, "tank").closers


def test_what_if_withdrawal_and_scales(coalition: Coalition) -> None:
    base = run_force_plan(coalition).projection
    fewer = run_force_plan(coalition, whatif=WhatIf(recruitment_scale=0.5)).projection
    assert fewer.recruited.sum() == pytest.approx(0.5 * base.recruited.sum())
    gone = run_force_plan(coalition, whatif=WhatIf(withdrawn=frozenset({"DEU-tanks"}))).projection
    assert gone.delivered.sum() == 0
    with pytest.raises(UsageError, match="NOPE"):
        run_force_plan(coalition, whatif=WhatIf(slips={"NOPE": 3}))


def test_months_override_and_ceiling(coalition: Coalition) -> None:
    result = run_force_plan(coalition, months=12)
    assert len(result.projection.months) == 12 and result.shortfalls[0].by == "2027-08"
    assert result.plan.personnel.target == 800_000 == result.plan.personnel.ceiling  # from the agreement
    assert result.above_ceiling[0] == "2026-09"
    with pytest.raises(UsageError):
        run_force_plan(coalition, months=0)


def test_the_example_plan_batch_agrees_with_the_reference_twin() -> None:
    coalition = load_coalition(EXAMPLE_COALITION)
    batch = scenario_inputs(coalition)
    result = run_force_plan(coalition)
    assert batch.capacity.shape[0] > 20  # the plan, one without each pledge, one with each candidate
    twin = project_reference(batch.scenario(0))
    np.testing.assert_allclose(result.projection.strength, twin.strength, rtol=1e-9)
    np.testing.assert_allclose(result.projection.stock, twin.stock, rtol=1e-9)
    personnel, equipment = result.projection.balance()
    assert np.abs(personnel).max() < 1e-3 and np.abs(equipment).max() < 1e-6
    assert _shortfall(result, "personnel").target == 800_000
