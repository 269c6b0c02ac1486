"""The monthly stock-and-flow model of Ukraine's forces: vectorised kernels and their reference twin.

Personnel move recruit → training → active force → out::

    recruitment ──► (waiting for a ──intake──► [in training] ──► graduates ──► [regular] ──► attrition, separation
                     training place)           (training_months)  └─► wash-out
                                                                               [mobilised] ──► attrition, demobilisation

The active force is two stocks: the *mobilised* of wartime, released by demobilisation and never
replenished, and the *regulars*, fed by graduates and drained by attrition and by contracts ending
(separation). Keeping them apart matters: demobilising the wartime mobilised must not also thin
out this year's recruits.

Training places are the bottleneck the coalition's training pledges relieve: each month at most
``capacity`` recruits start training, the rest wait (they have signed up but are not yet in the
forces, so they do not count against the ceiling). Outflows from the active force and from
equipment stocks are *rates* of the previous month's stock, never fixed numbers, which keeps every
stock non-negative and the model linear in its stocks, so it has exact closed forms that numpy
evaluates over all months at once:

* a stock with ``s[t] = (1 - r[t]) s[t-1] + u[t]`` is ``s = Q (s0 + cumsum(u / Q))`` with the
  survival ``Q[t] = Π (1 - r)`` (renormalised every 64 months so it cannot underflow);
* a waiting line served at capacity ``c`` with cumulative arrivals ``A`` has cumulative intake
  ``D[t] = min(A[t], D[t-1] + c[t])``, which unrolls to ``D = C + min(0, minimum.accumulate(A - C))``
  with ``C = cumsum(c)``;
* training is a fixed delay: graduates are the intake of ``training_months`` earlier (the initial
  trainees finish evenly over the first ``training_months``).

Every array may carry leading batch axes (scenarios); time is the last axis. :func:`project_reference`
is the plain month-by-month loop that :func:`project` is tested against.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import Any, TypeVar

import numpy as np
from numpy.typing import NDArray

__all__ = ["FlowInputs", "Projection", "project", "project_reference"]

FloatArray = NDArray[np.float64]

_BLOCK = 64  # months per renormalisation of the survival product: (1 - 0.99)**64 ≫ 1e-300


@dataclass(frozen=True)
class FlowInputs:
    """Everything the model needs, as arrays over months (last axis, length ``T``).

    Shapes, with ``...`` any leading batch axes shared by all fields:
    ``recruitment``, ``capacity``, ``attrition``, ``demobilisation``, ``separation``: (..., T);
    ``active0`` (regulars and mobilised), ``mobilised0`` (the part of it that is mobilised),
    ``training0``, ``washout``: (...); ``stock0``: (..., C);
    ``inflow``, ``delivered``, ``equipment_attrition``: (..., C, T) — ``inflow`` is production plus
    ``delivered``. Rates are per month, in [0, 0.99).
    """

    months: tuple[str, ...]
    categories: tuple[str, ...]
    recruitment: FloatArray
    capacity: FloatArray
    training_months: int
    washout: FloatArray
    attrition: FloatArray
    demobilisation: FloatArray
    separation: FloatArray
    active0: FloatArray
    mobilised0: FloatArray
    training0: FloatArray
    stock0: FloatArray
    inflow: FloatArray
    delivered: FloatArray
    equipment_attrition: FloatArray

    def scenario(self, i: int) -> FlowInputs:
        """Scenario ``i`` of inputs with one leading batch axis (for the reference twin)."""
        return _slice(self, _INPUT_NDIM, i)

    def check(self) -> None:
        """Raise ValueError when a value would break the model (negative flows, rates ≥ 0.99)."""
        for name in ("recruitment", "capacity", "active0", "mobilised0", "training0", "stock0", "inflow", "delivered"):
            value = np.asarray(getattr(self, name))
            if not np.all(np.isfinite(value)) or np.any(value < 0):
                raise ValueError(f"{name} must be finite and not negative")
        if np.any(np.asarray(self.mobilised0) > np.asarray(self.active0)):
            raise ValueError("mobilised0 is part of active0 and cannot exceed it")
        for name, rate in (
            ("attrition + demobilisation", self.attrition + self.demobilisation),
            ("attrition + separation", self.attrition + self.separation),
            ("equipment_attrition", self.equipment_attrition),
            ("washout", self.washout),
        ):
            if not np.all(np.isfinite(rate)) or np.any(rate < 0) or np.any(rate >= 0.99):
                raise ValueError(f"{name} must be a monthly rate in [0, 0.99)")
        if self.training_months < 0:
            raise ValueError("training_months must not be negative")


@dataclass(frozen=True)
class Projection:
    """Stocks at the end of each month and the flows during it (same shapes as the inputs)."""

    months: tuple[str, ...]
    categories: tuple[str, ...]
    active0: FloatArray
    training0: FloatArray
    stock0: FloatArray
    recruited: FloatArray
    waiting: FloatArray
    intake: FloatArray
    graduated: FloatArray
    washed_out: FloatArray
    attrition: FloatArray
    demobilised: FloatArray
    separated: FloatArray
    in_training: FloatArray
    mobilised: FloatArray
    regular: FloatArray
    stock: FloatArray
    produced: FloatArray
    delivered: FloatArray
    lost: FloatArray

    def scenario(self, i: int) -> Projection:
        """Scenario ``i`` of a projection with one leading batch axis."""
        return _slice(self, _PROJECTION_NDIM, i)

    @property
    def active(self) -> FloatArray:
        """Trained personnel (regulars and mobilised) at the end of each month."""
        return np.asarray(self.regular + self.mobilised, dtype=np.float64)

    @property
    def strength(self) -> FloatArray:
        """Personnel in the armed forces (active plus in training) at the end of each month."""
        return np.asarray(self.active + self.in_training, dtype=np.float64)

    def balance(self) -> tuple[FloatArray, FloatArray]:
        """Residuals of initial + inflows − outflows − stock, (personnel, equipment); ~0 when conserved.

        Personnel include those waiting for a training place, so recruitment is the inflow.
        """
        personnel = (
            (self.active0 + self.training0)[..., None]
            + np.cumsum(self.recruited - self.washed_out - self.attrition - self.demobilised - self.separated, axis=-1)
            - (self.strength + self.waiting)
        )
        equipment = self.stock0[..., None] + np.cumsum(self.produced + self.delivered - self.lost, axis=-1) - self.stock
        return np.asarray(personnel, dtype=np.float64), np.asarray(equipment, dtype=np.float64)


# How many axes each array has without batch axes: 0 per scenario, 1 over months (or categories), 2 both.
_INPUT_NDIM = {
    "recruitment": 1, "capacity": 1, "washout": 0, "attrition": 1, "demobilisation": 1, "separation": 1,
    "active0": 0, "mobilised0": 0, "training0": 0, "stock0": 1, "inflow": 2, "delivered": 2,
    "equipment_attrition": 2,
}  # fmt: skip
_PROJECTION_NDIM = {
    "active0": 0, "training0": 0, "stock0": 1, "stock": 2, "produced": 2, "delivered": 2, "lost": 2,
    **{name: 1 for name in ("recruited", "waiting", "intake", "graduated", "washed_out", "attrition", "demobilised",
                            "separated", "in_training", "mobilised", "regular")},
}  # fmt: skip

T = TypeVar("T", FlowInputs, Projection)


def _slice(value: T, ndim: dict[str, int], i: int) -> T:
    arrays: dict[str, Any] = {}
    for name, core in ndim.items():
        array = np.asarray(getattr(value, name))
        arrays[name] = array[i] if array.ndim > core else array
    return replace(value, **arrays)


def _decay_accumulate(initial: FloatArray, inflow: FloatArray, rate: FloatArray) -> FloatArray:
    """Stocks ``s[t] = (1 - rate[t]) s[t-1] + inflow[t]`` from ``s[-1] = initial``, over the last axis."""
    shape = np.broadcast_shapes(np.shape(inflow), np.shape(rate), (*np.shape(initial), 1))
    out = np.empty(shape, dtype=np.float64)
    carry = np.asarray(initial, dtype=np.float64)
    for lo in range(0, shape[-1], _BLOCK):  # a handful of blocks, not months
        hi = min(lo + _BLOCK, shape[-1])
        # The survival is computed on the rate's own shape (often shared by every scenario), so the
        # transcendental functions run on a few hundred values, not on the whole batch.
        survival = np.exp(np.cumsum(np.log1p(-rate[..., lo:hi]), axis=-1))
        block = survival * (carry[..., None] + np.cumsum(inflow[..., lo:hi] / survival, axis=-1))
        out[..., lo:hi] = block
        carry = block[..., -1]
    return out


def _previous(initial: FloatArray, stock: FloatArray) -> FloatArray:
    """The stock at the start of each month (the previous month's end)."""
    first = np.broadcast_to(np.asarray(initial, np.float64), stock.shape[:-1])[..., None]
    return np.concatenate([first, stock[..., :-1]], axis=-1)


def _initial_finish(training0: FloatArray, lag: int, n: int) -> FloatArray:
    """When the trainees present at the start finish: evenly over the first ``lag`` months."""
    share = np.zeros(n)
    share[: max(lag, 1)] = 1.0 / max(lag, 1)
    return np.asarray(np.asarray(training0, np.float64)[..., None] * share, dtype=np.float64)


def project(inputs: FlowInputs) -> Projection:
    """Run the model over every month at once (and over any leading scenario axes)."""
    inputs.check()
    f = inputs
    n = len(f.months)
    lag = f.training_months
    shape = np.broadcast_shapes(f.recruitment.shape, f.capacity.shape, (*np.shape(f.training0), n))
    recruited = np.broadcast_to(f.recruitment, shape)
    cum_arrivals = np.cumsum(recruited, axis=-1)
    cum_capacity = np.cumsum(np.broadcast_to(f.capacity, shape), axis=-1)
    cum_intake = cum_capacity + np.minimum(0.0, np.minimum.accumulate(cum_arrivals - cum_capacity, axis=-1))
    intake = np.diff(cum_intake, axis=-1, prepend=0.0)
    finished = np.zeros(shape)
    if lag < n:
        finished[..., lag:] = intake[..., : n - lag]
    finished = finished + _initial_finish(f.training0, lag, n)
    washout = np.asarray(f.washout, np.float64)[..., None]
    graduated = finished * (1.0 - washout)
    in_training = np.asarray(f.training0, np.float64)[..., None] + cum_intake - np.cumsum(finished, axis=-1)

    mobilised0 = np.asarray(f.mobilised0, np.float64)
    regular0 = np.asarray(f.active0, np.float64) - mobilised0
    regular = _decay_accumulate(regular0, graduated, f.attrition + f.separation)
    mobilised = _decay_accumulate(mobilised0, np.zeros_like(graduated), f.attrition + f.demobilisation)
    regular_before = _previous(regular0, regular)
    mobilised_before = _previous(mobilised0, mobilised)
    stock = _decay_accumulate(f.stock0, f.inflow, f.equipment_attrition)
    return Projection(
        months=f.months,
        categories=f.categories,
        active0=np.asarray(f.active0, np.float64),
        training0=np.asarray(f.training0, np.float64),
        stock0=np.asarray(f.stock0, np.float64),
        recruited=np.asarray(recruited, np.float64),
        waiting=cum_arrivals - cum_intake,
        intake=intake,
        graduated=graduated,
        washed_out=finished * washout,
        attrition=f.attrition * (regular_before + mobilised_before),
        demobilised=f.demobilisation * mobilised_before,
        separated=f.separation * regular_before,
        in_training=in_training,
        mobilised=mobilised,
        regular=regular,
        stock=stock,
        produced=np.asarray(np.broadcast_to(f.inflow - f.delivered, stock.shape), np.float64),
        delivered=np.asarray(np.broadcast_to(f.delivered, stock.shape), np.float64),
        lost=f.equipment_attrition * _previous(f.stock0, stock),
    )


def project_reference(inputs: FlowInputs) -> Projection:
    """The same model as a plain loop over months, one scenario (no batch axes): the twin of :func:`project`."""
    inputs.check()
    f = inputs
    n = len(f.months)
    lag = f.training_months
    wash = float(f.washout)
    names = (
        "waiting",
        "intake",
        "graduated",
        "washed",
        "attrition",
        "demobilised",
        "separated",
        "in_training",
        "mobilised",
        "regular",
    )
    series: dict[str, list[float]] = {k: [] for k in names}
    waiting = 0.0
    in_training = float(f.training0)
    mobilised = float(f.mobilised0)
    regular = float(f.active0) - mobilised
    first_cohort = float(f.training0) / max(lag, 1)
    for t in range(n):
        waiting += float(f.recruitment[t])
        intake = min(waiting, float(f.capacity[t]))
        waiting -= intake
        in_training += intake
        finished = series["intake"][t - lag] if t >= lag and lag > 0 else (intake if lag == 0 else 0.0)
        if t < max(lag, 1):
            finished += first_cohort
        in_training -= finished
        attrition = float(f.attrition[t]) * (regular + mobilised)
        demobilised = float(f.demobilisation[t]) * mobilised
        separated = float(f.separation[t]) * regular
        mobilised = mobilised - float(f.attrition[t]) * mobilised - demobilised
        regular = regular - float(f.attrition[t]) * regular - separated + finished * (1.0 - wash)
        values = (
            waiting,
            intake,
            finished * (1.0 - wash),
            finished * wash,
            attrition,
            demobilised,
            separated,
            in_training,
            mobilised,
            regular,
        )
        for key, value in zip(names, values, strict=True):
            series[key].append(value)
    cats = len(f.categories)
    stock = np.zeros((cats, n))
    lost = np.zeros((cats, n))
    for c in range(cats):
        s = float(f.stock0[c])
        for t in range(n):
            loss = float(f.equipment_attrition[c, t]) * s
            s = s - loss + float(f.inflow[c, t])
            stock[c, t] = s
            lost[c, t] = loss
    arr = {k: np.array(v, dtype=np.float64) for k, v in series.items()}
    return Projection(
        months=f.months,
        categories=f.categories,
        active0=np.asarray(f.active0, np.float64),
        training0=np.asarray(f.training0, np.float64),
        stock0=np.asarray(f.stock0, np.float64),
        recruited=np.asarray(f.recruitment, np.float64),
        waiting=arr["waiting"],
        intake=arr["intake"],
        graduated=arr["graduated"],
        washed_out=arr["washed"],
        attrition=arr["attrition"],
        demobilised=arr["demobilised"],
        separated=arr["separated"],
        in_training=arr["in_training"],
        mobilised=arr["mobilised"],
        regular=arr["regular"],
        stock=stock,
        produced=np.asarray(f.inflow - f.delivered, np.float64),
        delivered=np.asarray(f.delivered, np.float64),
        lost=lost,
    )
