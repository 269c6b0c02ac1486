"""Incident records from located events: ids, origins with 95 % ellipses, markings, provenance."""

from __future__ import annotations

import hashlib
import math
from collections.abc import Iterable, Sequence
from datetime import UTC, datetime, timedelta

from truceline.model import (
    CreationInfo,
    ErrorEllipse,
    Incident,
    Location,
    Markings,
    ObservationRef,
    Origin,
)
from truceline.policy import derived_markings

AGENT = "truceline.fuse"
VERSION = "1"


def incident_id(first_ref: tuple[str, str, str]) -> str:
    """A stable incident id from the report that started it (its earliest arrival).

    >>> incident_id(("USA", "ac-0001", "20260901-00000"))
    'incident-fire-e65a88ff95496143'
    """
    digest = hashlib.sha256("\x1f".join(first_ref).encode()).hexdigest()[:16]
    return f"incident-fire-{digest}"


def merge_markings(markings: Iterable[Markings]) -> Markings:
    """Markings of a record fused from reports with ``markings``: never less restrictive than any.

    The policy layer's one rule for derived records (:func:`truceline.policy.derived_markings`):
    the most restrictive TLP, only those entitled to every restricted source, the sources' sharing
    group kept (never dropped: that would release a group's report outside the group).

    >>> a = Markings(tlp="green", originator="MVM")
    >>> b = Markings(tlp="amber", originator="USA", releasable_to=("GBR", "MVM"))
    >>> merge_markings([a, b]).model_dump(exclude_none=True)
    {'tlp': 'amber', 'originator': 'USA', 'releasable_to': ('GBR', 'MVM')}
    """
    return derived_markings(markings)


def ellipse(cee: float, cen: float, cnn: float) -> ErrorEllipse:
    """The 95 % ellipse of an (east, north) covariance in m², clipped to what the model allows."""
    e = ErrorEllipse.from_covariance(cee, cen, cnn, 0.95)
    if e.semi_major_m > 5_000_000.0:
        return ErrorEllipse(semi_major_m=5_000_000.0, semi_minor_m=min(e.semi_minor_m, 5_000_000.0), confidence=0.95)
    return e


def epoch_time(epoch: datetime, seconds: float) -> datetime:
    return epoch + timedelta(seconds=seconds)


def make_origin(
    incident: str,
    method: str,
    lon: float,
    lat: float,
    cov: Sequence[Sequence[float]],
    time: datetime,
    time_error_s: float,
    n_observations: int,
    rms_residual: float | None,
    created: datetime,
    note: str = "",
) -> Origin:
    return Origin(
        id=f"{incident}/{method}",
        location=Location(
            lat=float(lat), lon=float(lon), error=ellipse(float(cov[0][0]), float(cov[0][1]), float(cov[1][1]))
        ),
        time=time,
        time_error_s=float(max(time_error_s, 0.0)) if math.isfinite(time_error_s) else 0.0,
        method=method,
        n_observations=n_observations,
        rms_residual=None if rms_residual is None or not math.isfinite(rms_residual) else float(rms_residual),
        creation_info=CreationInfo(agent=AGENT, created=created, version=VERSION, note=note),
    )


def make_incident(
    incident: str,
    refs: Sequence[ObservationRef],
    origins: Sequence[Origin],
    preferred: str | None,
    start: datetime,
    end: datetime,
    markings: Markings,
    created: datetime,
    sector: str | None,
    weapon_class: str | None = None,
    note: str = "",
) -> Incident:
    return Incident(
        id=incident,
        kind="fire",
        start=start,
        end=max(end, start),
        observations=tuple(refs),
        origins=tuple(origins),
        preferred_origin_id=preferred,
        weapon_class=weapon_class,  # type: ignore[arg-type]
        sector=sector or None,
        markings=markings,
        creation_info=CreationInfo(agent=AGENT, created=created, version=VERSION, note=note),
    )


def now_utc() -> datetime:
    return datetime.now(UTC)
