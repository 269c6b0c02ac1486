"""Same seed, same bytes; another seed, another run; runs that would end in the future are refused."""

from __future__ import annotations

import hashlib
from datetime import UTC, date, datetime
from pathlib import Path

import pytest

from tests.unit.sim.conftest import NOW
from truceline.model import UsageError
from truceline.sim import scenario, simulate


def digest(out: Path) -> dict[str, str]:
    files = sorted(p for p in out.rglob("*") if p.is_file())
    return {str(p.relative_to(out)): hashlib.sha256(p.read_bytes()).hexdigest() for p in files}


def test_the_same_seed_gives_the_same_bytes_and_another_seed_does_not(tmp_path: Path) -> None:
    cfg = scenario("default", days=2, scale=0.002, seed=3)
    simulate(cfg, tmp_path / "a", now=NOW)
    simulate(cfg, tmp_path / "b", now=NOW)
    simulate(scenario("default", days=2, scale=0.002, seed=4), tmp_path / "c", now=NOW)
    a, b, c = digest(tmp_path / "a"), digest(tmp_path / "b"), digest(tmp_path / "c")
    assert {"observations.ndjson", "truth.json"} <= set(a)
    assert any(name.startswith("media/") for name in a)
    assert a == b
    assert a["observations.ndjson"] != c["observations.ndjson"] and a["truth.json"] != c["truth.json"]


def test_a_run_ending_after_now_is_refused_with_a_way_out(tmp_path: Path) -> None:
    cfg = scenario("quiet", days=10, start=date(2026, 12, 1))
    with pytest.raises(UsageError, match="earlier --start or fewer --days"):
        simulate(cfg, tmp_path, now=datetime(2026, 12, 5, tzinfo=UTC))
    assert not (tmp_path / "observations.ndjson").exists()


@pytest.mark.parametrize(
    ("overrides", "message"),
    [
        ({"days": 0}, "days"),
        ({"scale": 0.0}, "scale"),
        ({"attacker": "USA"}, "attacker"),
        ({"violation_share": 2.0}, "violation"),
    ],
)
def test_unusable_parameters_are_refused_by_name(overrides: dict[str, object], message: str) -> None:
    with pytest.raises(UsageError, match=message):
        scenario("default", **overrides)


def test_an_unknown_scenario_lists_the_known_ones() -> None:
    with pytest.raises(UsageError, match="default, quiet, spiral, buildup, northern-axis"):
        scenario("apocalypse")
