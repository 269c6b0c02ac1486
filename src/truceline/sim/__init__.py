"""Simulation: for now a small built-in example laid on the real contact line (for the demo).

The full scenario generator with ground truth and ``truceline evaluate`` is the simulator issue's.
"""

from truceline.sim.example import ExampleConfig, bad_reports, example_reports

__all__ = ["ExampleConfig", "bad_reports", "example_reports"]
