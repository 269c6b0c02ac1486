from pathlib import Path

from truceline.sim import plot_reliability


def test_the_reliability_diagram_is_drawn_from_the_attribution_section(tmp_path: Path) -> None:
    section = {
        "brier": 0.08,
        "accuracy": 0.91,
        "n": 30,
        "reliability": [
            {"bin": [0.0, 0.1], "mean_p": 0.04, "observed": 0.05, "n": 20},
            {"bin": [0.9, 1.0], "mean_p": 0.95, "observed": 0.9, "n": 10},
        ],
    }
    png = plot_reliability(section, tmp_path / "plots" / "reliability.png")
    assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n" and png.stat().st_size > 10_000
