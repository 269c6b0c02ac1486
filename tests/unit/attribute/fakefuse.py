"""A stand-in for the fuse stage, built from a simulated run's truth (tests and benchmarks only).

Each true firing event with at least two reports becomes a fire incident citing those reports,
with an origin drawn from the truth plus Gaussian noise *from the ellipse it states* (so the
ellipses are honest), an impact when a radar tracked the shot, and a share of wild origins
(a bad association) whose ellipses do not cover the error — what a real locator sometimes does.
"""

from __future__ import annotations

import math
from datetime import UTC, datetime
from typing import Any

import numpy as np

from truceline.model import CreationInfo, ErrorEllipse, Incident, Location, Markings, ObservationRef, Origin

CREATED = datetime(2027, 1, 1, tzinfo=UTC)
M_PER_DEG = 111_320.0


def _noisy(rng: np.random.Generator, lon: float, lat: float, major: float, minor: float) -> Location:
    theta = float(rng.uniform(0.0, 180.0))
    ell = ErrorEllipse(semi_major_m=major, semi_minor_m=minor, orientation_deg=theta)
    (cee, cen), (_, cnn) = ell.covariance()
    de, dn = rng.multivariate_normal([0.0, 0.0], [[cee, cen], [cen, cnn]])
    return Location(
        lat=lat + dn / M_PER_DEG,
        lon=lon + de / (M_PER_DEG * math.cos(math.radians(lat))),
        error=ell,
    )


def fake_incidents(truth_doc: dict[str, Any], *, seed: int = 0, wild_share: float = 0.02) -> list[Incident]:
    rng = np.random.default_rng(seed)
    out: list[Incident] = []
    markings = Markings(tlp="amber", originator="USA", releasable_to=("GBR", "UKR"))
    for ev in truth_doc["events"]:
        refs = [ObservationRef(participant=p, source=s, key=k) for p, s, k in ev.get("observations", [])]
        if len(refs) < 2:
            continue
        t = datetime.fromisoformat(ev["time"].replace("Z", "+00:00"))
        o, i = ev["origin"], ev["impact"]
        major = float(np.clip(rng.lognormal(math.log(250.0), 0.8), 20.0, 5_000.0))
        minor = major * float(rng.uniform(0.3, 1.0))
        olon, olat = float(o["lon"]), float(o["lat"])
        if rng.random() < wild_share:  # a bad solution: kilometres off, with a small ellipse
            ang = rng.uniform(0, 2 * math.pi)
            dist = rng.uniform(3_000.0, 15_000.0)
            olon += dist * math.sin(ang) / (M_PER_DEG * math.cos(math.radians(olat)))
            olat += dist * math.cos(ang) / M_PER_DEG
        origin = Origin(
            id=f"{ev['id']}-o1",
            location=_noisy(rng, olon, olat, major, minor),
            time=t,
            method="fake_fuse",
            n_observations=len(refs),
            creation_info=CreationInfo(agent="fake-fuse", created=CREATED),
        )
        radar = any(s.startswith("cbr") or "radar" in s for _, s, _ in ev.get("observations", []))
        impacts = (_noisy(rng, float(i["lon"]), float(i["lat"]), 600.0, 300.0),) if radar else ()
        out.append(
            Incident(
                id=f"inc-{ev['id']}",
                start=t,
                end=t,
                observations=tuple(refs),
                origins=(origin,),
                preferred_origin_id=origin.id,
                impacts=impacts,
                weapon_class=ev.get("weapon_class"),
                sector=ev.get("sector"),
                markings=markings,
                creation_info=CreationInfo(agent="fake-fuse", created=CREATED),
            )
        )
    return out
