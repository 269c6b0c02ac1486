"""Who fired: P(side) per incident from its origin, its impacts and its reports, with the evidence.

Each piece of evidence gives a likelihood per party (who fired), combined by Bayes' rule from a
uniform prior over the parties — a naive-Bayes model, which is honest when the pieces are
conditionally independent given the shooter. They are kept as independent as we can make them:

* **origin** — the mass of the preferred origin's error ellipse in each party's controlled area
  (:mod:`truceline.attribute.sides`), mixed with a small ``origin_error_rate``: a located origin
  is occasionally wrong beyond its ellipse (a bad association, an outlier pick), and a model that
  says "0.9999" on the strength of a 95 % ellipse alone is badly calibrated when it is.
* **impact** — where the rounds landed: most fire crosses the line, a share ``own_side_impact_rate``
  lands on the shooter's own side (short rounds, fire on infiltrators, staged shelling).
* **patrol direction** — a monitor who logged fire as *outgoing* from their own side, or
  *incoming*, with the stated accuracy ``patrol_direction_accuracy``.

Every piece is stored as an :class:`~truceline.model.Evidence` with its natural-log likelihood
ratio (toward the most probable party against the others) and the reports it rests on, so an
official can read why. :func:`reliability_table` turns (probability, outcome) pairs into the data
of a reliability diagram.
"""

from __future__ import annotations

import hashlib
import math
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime
from functools import lru_cache

import numpy as np
from numpy.typing import NDArray

from truceline.attribute.sides import SideAreas, covariance_arrays
from truceline.model import (
    Attribution,
    CreationInfo,
    Evidence,
    Incident,
    Location,
    ObservationBase,
    ObservationRef,
    PatrolReport,
)

FloatArray = NDArray[np.float64]

__all__ = [
    "MODEL_VERSION",
    "AttributionModel",
    "IncidentEvidence",
    "attribute_incidents",
    "attribution_id",
    "reliability_table",
    "with_attribution",
]

MODEL_VERSION = "attribute-1"
"""Changes when the model's defaults or logic change: attributions are keyed on it."""

_TINY = 1e-12


@dataclass(frozen=True)
class AttributionModel:
    """The parameters of the evidence model (its constructor only stores them).

    ``outside_party`` fires from ground outside both controlled areas (beyond an international
    border); None spreads such mass evenly over the parties.
    """

    origin_error_rate: float = 0.03
    own_side_impact_rate: float = 0.15
    patrol_direction_accuracy: float = 0.8
    outside_party: str | None = "RUS"
    floor: float = 0.002  # no party below this: even a clear case keeps a sliver of doubt
    version: str = MODEL_VERSION

    def fingerprint(self) -> str:
        """A short digest of the parameters, part of every attribution id they made."""
        return _fingerprint(self)


@lru_cache(maxsize=64)
def _fingerprint(model: AttributionModel) -> str:
    text = repr(
        (
            model.origin_error_rate,
            model.own_side_impact_rate,
            model.patrol_direction_accuracy,
            model.outside_party,
            model.floor,
            model.version,
        )
    )
    return hashlib.sha256(text.encode()).hexdigest()[:10]


@dataclass
class _Piece:
    kind: str
    likelihood: FloatArray  # per party
    description: str
    refs: tuple[ObservationRef, ...] = ()


@dataclass
class IncidentEvidence:
    """What one incident offers the model, gathered from the incident and its reports."""

    incident: Incident
    patrols: list[PatrolReport] = field(default_factory=list)


def _location_arrays(locs: Sequence[Location]) -> tuple[FloatArray, ...]:
    lon = np.array([loc.lon for loc in locs], dtype=np.float64)
    lat = np.array([loc.lat for loc in locs], dtype=np.float64)
    big = np.array([loc.error.semi_major_m for loc in locs], dtype=np.float64)
    small = np.array([loc.error.semi_minor_m for loc in locs], dtype=np.float64)
    ori = np.array([loc.error.orientation_deg for loc in locs], dtype=np.float64)
    conf = np.array([loc.error.confidence for loc in locs], dtype=np.float64)
    return lon, lat, *covariance_arrays(big, small, ori, conf)


def _with_outside(inside: FloatArray, outside: FloatArray, parties: tuple[str, ...], to: str | None) -> FloatArray:
    probs = inside.copy()
    if to is not None and to in parties:
        probs[:, parties.index(to)] += outside
    else:
        probs += outside[:, None] / len(parties)
    return probs


def origin_likelihoods(
    model: AttributionModel, areas: SideAreas, origins: Sequence[Location]
) -> tuple[FloatArray, FloatArray]:
    """Per origin: (likelihood per shooter party, raw P(origin in each party's area incl. outside))."""
    if not origins:
        return np.zeros((0, len(areas.parties))), np.zeros((0, len(areas.parties)))
    sp = areas.probabilities(*_location_arrays(origins))
    raw = _with_outside(sp.inside, sp.outside, areas.parties, model.outside_party)
    k = len(areas.parties)
    return (1.0 - model.origin_error_rate) * raw + model.origin_error_rate / k, raw


def impact_likelihoods(
    model: AttributionModel, areas: SideAreas, impacts: Sequence[Location]
) -> tuple[FloatArray, FloatArray]:
    """Per impact: (likelihood per shooter party of it landing where it did, P(impact in each area))."""
    k = len(areas.parties)
    if not impacts:
        return np.zeros((0, k)), np.zeros((0, k))
    sp = areas.probabilities(*_location_arrays(impacts))
    # Impact mass outside both areas says nothing about the shooter: spread it evenly.
    q = sp.inside + sp.outside[:, None] / k
    own = model.own_side_impact_rate
    cross = (1.0 - own) / max(k - 1, 1)
    # L(shooter j) = Σ_i q_i · P(lands in i | j): own-side share on the diagonal.
    transition = np.full((k, k), cross)
    np.fill_diagonal(transition, own)
    return np.asarray(q @ transition, dtype=np.float64), q


def _ref(o: ObservationBase) -> ObservationRef:
    return ObservationRef(participant=o.participant, source=o.source, key=o.key)


def _patrol_piece(model: AttributionModel, areas: SideAreas, patrols: Sequence[PatrolReport]) -> _Piece | None:
    usable = [p for p in patrols if p.direction != "undetermined"]
    if not usable:
        return None
    observer_side = areas.probabilities(*_location_arrays([p.location for p in usable]))
    acc = model.patrol_direction_accuracy
    k = len(areas.parties)
    log_l = np.zeros(k)
    for n, p in enumerate(usable):
        side = observer_side.inside[n]  # P(observer in each party's area)
        # Outgoing: fired from the observer's side; incoming: from another side.
        hit = side if p.direction == "outgoing" else (1.0 - side) / max(k - 1, 1)
        log_l += np.log(acc * hit + (1.0 - acc) * (1.0 - hit) / max(k - 1, 1) + _TINY)
    like = np.exp(log_l - log_l.max())
    words = ", ".join(sorted({p.direction for p in usable}))
    return _Piece(
        "patrol_direction",
        like,
        f"{len(usable)} patrol report(s) logged the fire as {words} (accuracy {acc:.0%} assumed)",
        tuple(_ref(p) for p in usable),
    )


def _weight(like: FloatArray, best: int) -> float:
    """Natural-log likelihood ratio toward party ``best`` against the mean of the others."""
    others = np.delete(like, best)
    return float(math.log((like[best] + _TINY) / (float(others.mean()) + _TINY))) if others.size else 0.0


def _weights(like: FloatArray, best: NDArray[np.intp]) -> FloatArray:
    """Per row: natural-log likelihood ratio toward column ``best`` against the mean of the other columns."""
    k = like.shape[1]
    rows = np.arange(like.shape[0])
    top = like[rows, best]
    if k < 2:
        return np.zeros(like.shape[0])
    others = (like.sum(axis=1) - top) / (k - 1)
    return np.asarray(np.log((top + _TINY) / (others + _TINY)), dtype=np.float64)


def attribute_incidents(
    incidents: Sequence[IncidentEvidence],
    areas: SideAreas,
    *,
    model: AttributionModel | None = None,
    agent: str = "truceline.attribute",
    created: datetime | None = None,
) -> list[Attribution | None]:
    """One :class:`Attribution` per incident (None for one with neither origin nor impact nor direction).

    The geometry of every origin and impact is integrated in two vectorised calls and the evidence
    is combined for all incidents at once; the Python loop only writes the records.
    """
    model = model or AttributionModel()
    parties = areas.parties
    k = len(parties)
    n_inc = len(incidents)
    origins: list[Location] = []
    origin_rows: list[int] = []
    impacts: list[Location] = []
    impact_rows: list[int] = []
    for n, ev in enumerate(incidents):
        origin = ev.incident.preferred_origin
        if origin is not None:
            origin_rows.append(n)
            origins.append(origin.location)
        if ev.incident.impacts:
            # The impacts of one event are not independent of each other: use the best-located one.
            impact_rows.append(n)
            impacts.append(min(ev.incident.impacts, key=lambda loc: loc.error.semi_major_m))
    o_like, o_raw = origin_likelihoods(model, areas, origins)
    i_like, i_raw = impact_likelihoods(model, areas, impacts)
    patrol_pieces = [_patrol_piece(model, areas, ev.patrols) if ev.patrols else None for ev in incidents]
    # Log-likelihoods per incident and party, summed over the pieces present (naive Bayes).
    log_post = np.zeros((n_inc, k))
    has_any = np.zeros(n_inc, dtype=bool)
    if origin_rows:
        log_post[origin_rows] += np.log(np.clip(o_like, _TINY, None))
        has_any[origin_rows] = True
    if impact_rows:
        log_post[impact_rows] += np.log(np.clip(i_like, _TINY, None))
        has_any[impact_rows] = True
    for n, piece in enumerate(patrol_pieces):
        if piece is not None:
            log_post[n] += np.log(np.clip(piece.likelihood, _TINY, None))
            has_any[n] = True
    post = np.exp(log_post - log_post.max(axis=1, keepdims=True))
    post /= post.sum(axis=1, keepdims=True)
    post = np.maximum(post, model.floor)
    post /= post.sum(axis=1, keepdims=True)
    best = np.argmax(post, axis=1)
    # Rounding can leave a sum a hair off 1: the largest takes the remainder.
    post[np.arange(n_inc), best] += 1.0 - post.sum(axis=1)
    o_weight = _weights(o_like, best[origin_rows]) if origin_rows else np.zeros(0)
    i_weight = _weights(i_like, best[impact_rows]) if impact_rows else np.zeros(0)
    origin_at = dict(zip(origin_rows, range(len(origin_rows)), strict=True))
    impact_at = dict(zip(impact_rows, range(len(impact_rows)), strict=True))
    version = f"{model.version}/{model.fingerprint()}"
    info: dict[datetime, CreationInfo] = {}  # one CreationInfo per distinct time, shared (records are immutable)
    # Plain floats for the per-record loop (formatting numpy scalars is slow).
    post_list, o_raw_list, i_raw_list = post.tolist(), o_raw.tolist(), i_raw.tolist()
    o_weight_list, i_weight_list = o_weight.tolist(), i_weight.tolist()
    out: list[Attribution | None] = []
    for n, ev in enumerate(incidents):
        if not has_any[n]:
            out.append(None)
            continue
        inc = ev.incident
        evidence: list[Evidence] = []
        j = origin_at.get(n)
        if j is not None:
            origin = inc.preferred_origin
            assert origin is not None
            err = origin.location.error
            shares = ", ".join(f"{p} {v:.3f}" for p, v in zip(parties, o_raw_list[j], strict=True))
            evidence.append(
                Evidence(
                    kind="origin_area",
                    description=f"origin {origin.id} ({origin.method}, 95 % ellipse {err.semi_major_m:.0f} × "
                    f"{err.semi_minor_m:.0f} m) lies in the controlled area of: {shares}; "
                    f"{model.origin_error_rate:.0%} allowed for a wrong origin",
                    weight=round(o_weight_list[j], 4),
                    refs=inc.observations,
                )
            )
        j = impact_at.get(n)
        if j is not None:
            shares = ", ".join(f"{p} {v:.3f}" for p, v in zip(parties, i_raw_list[j], strict=True))
            evidence.append(
                Evidence(
                    kind="impact_area",
                    description=f"the impact lies in the controlled area of: {shares}; "
                    f"{model.own_side_impact_rate:.0%} of fire assumed to land on the shooter's own side",
                    weight=round(i_weight_list[j], 4),
                    refs=inc.observations,
                )
            )
        piece = patrol_pieces[n]
        if piece is not None:
            evidence.append(
                Evidence(
                    kind=piece.kind,
                    description=piece.description,
                    weight=round(_weight(piece.likelihood, int(best[n])), 4),
                    refs=piece.refs,
                )
            )
        when = created if created is not None else inc.creation_info.created
        ci = info.get(when)
        if ci is None:
            ci = info[when] = CreationInfo(agent=agent, created=when, version=version)
        out.append(
            Attribution(
                id=attribution_id(inc, model),
                probabilities=dict(zip(parties, post_list[n], strict=True)),
                evidence=tuple(evidence),
                creation_info=ci,
            )
        )
    return out


def _ellipse(loc: Location) -> tuple[float, float, float, float]:
    e = loc.error
    return (e.semi_major_m, e.semi_minor_m, e.orientation_deg, e.confidence)


def attribution_id(incident: Incident, model: AttributionModel) -> str:
    """The id of the attribution ``model`` makes of ``incident`` as it stands: same input, same id.

    It digests what the judgement rests on (origins, the preferred one, impacts, weapon class and
    reports) with the model's fingerprint, so a rerun recognises its own work and a changed
    origin gets a new attribution beside the old one.
    """
    basis = (
        incident.id,
        incident.preferred_origin_id,
        [
            (o.id, o.location.lon, o.location.lat, _ellipse(o.location), o.time.isoformat(), o.time_error_s, o.method)
            for o in incident.origins
        ],
        [(i.lon, i.lat, _ellipse(i)) for i in incident.impacts],
        incident.weapon_class,
        [(r.participant, r.source, r.key) for r in incident.observations],
        model.fingerprint(),
    )
    return f"{incident.id}:att:{hashlib.sha256(repr(basis).encode()).hexdigest()[:12]}"


def with_attribution(incident: Incident, attribution: Attribution) -> Incident:
    """A new version of ``incident`` holding ``attribution`` as its preferred one (replacing an equal id)."""
    kept = tuple(a for a in incident.attributions if a.id != attribution.id)
    return incident.model_copy(
        update={"attributions": (*kept, attribution), "preferred_attribution_id": attribution.id}
    )


def reliability_table(p: Sequence[float], outcome: Sequence[int | bool], bins: int = 10) -> list[dict[str, float]]:
    """Reliability-diagram data: per probability bin, the mean forecast, observed frequency and count.

    >>> for row in reliability_table([0.05, 0.15, 0.95, 0.9], [0, 0, 1, 1], bins=2):
    ...     print(row)
    {'bin_lo': 0.0, 'bin_hi': 0.5, 'mean_p': 0.1, 'observed': 0.0, 'n': 2}
    {'bin_lo': 0.5, 'bin_hi': 1.0, 'mean_p': 0.925, 'observed': 1.0, 'n': 2}
    """
    pa = np.asarray(p, dtype=np.float64)
    ya = np.asarray(outcome, dtype=np.float64)
    idx = np.minimum((pa * bins).astype(int), bins - 1)
    rows = []
    for b in range(bins):
        sel = idx == b
        if sel.any():
            rows.append(
                {
                    "bin_lo": b / bins,
                    "bin_hi": (b + 1) / bins,
                    "mean_p": round(float(pa[sel].mean()), 4),
                    "observed": round(float(ya[sel].mean()), 4),
                    "n": int(sel.sum()),
                }
            )
    return rows
