"""The evidence model: each piece moves the probability the right way, sums hold, ids are stable."""

from __future__ import annotations

import itertools
from datetime import UTC, datetime
from pathlib import Path

import numpy as np
import pytest

from truceline.agreement import Agreement
from truceline.attribute import (
    AttributionModel,
    IncidentEvidence,
    SideAreas,
    attribute_incidents,
    attribution_id,
    reliability_table,
    with_attribution,
)
from truceline.attribute.plots import plot_reliability
from truceline.geo import to_lonlat, to_metric
from truceline.model import (
    CreationInfo,
    ErrorEllipse,
    Incident,
    Location,
    Markings,
    ObservationRef,
    Origin,
    PatrolReport,
)

T = datetime(2026, 9, 5, 3, 0, tzinfo=UTC)
CI = CreationInfo(agent="test", created=T)
MARK = Markings(tlp="amber", originator="USA", releasable_to=("GBR",))
REF = ObservationRef(participant="USA", source="ac-001", key="k1")
_ids = itertools.count()


def loc(lon: float, lat: float, major: float = 200.0, minor: float = 100.0) -> Location:
    return Location(lon=lon, lat=lat, error=ErrorEllipse(semi_major_m=major, semi_minor_m=minor))


def incident(origin: Location | None, impacts: tuple[Location, ...] = ()) -> Incident:
    n = next(_ids)
    origins = (Origin(id=f"o{n}", location=origin, time=T, method="test", creation_info=CI),) if origin else ()
    return Incident(
        id=f"inc-{n}",
        start=T,
        end=T,
        observations=(REF,),
        origins=origins,
        preferred_origin_id=origins[0].id if origins else None,
        impacts=impacts,
        markings=MARK,
        creation_info=CI,
    )


@pytest.fixture(scope="module")
def areas(agreement: Agreement) -> SideAreas:
    return SideAreas.from_agreement(agreement)


def on_line_offset(agreement: Agreement, lon: float, lat: float, metres: float) -> tuple[float, float]:
    """A point ``metres`` from the contact line (positive toward (lon, lat)'s side), beside (lon, lat)."""
    import shapely

    x, y = to_metric(lon, lat)
    foot = shapely.get_coordinates(shapely.shortest_line(shapely.Point(x, y), agreement.contact_line_metric))[1]
    u = np.array([x - foot[0], y - foot[1]])
    u /= np.hypot(*u)
    return tuple(float(v) for v in to_lonlat(foot[0] + metres * u[0], foot[1] + metres * u[1]))  # type: ignore[return-value]


KYIV = (30.52, 50.45)
DONETSK = (37.80, 48.00)


def test_origin_deep_in_one_area_is_near_certain_but_keeps_doubt(areas: SideAreas) -> None:
    (a, b) = attribute_incidents(
        [IncidentEvidence(incident(loc(*KYIV))), IncidentEvidence(incident(loc(*DONETSK)))], areas
    )
    assert a is not None and b is not None
    assert a.probabilities["UKR"] > 0.95 and b.probabilities["RUS"] > 0.95
    # The model allows for a wrong origin: never certainty on one solution alone.
    assert a.probabilities["RUS"] >= AttributionModel().floor
    assert sum(a.probabilities.values()) == pytest.approx(1.0, abs=1e-9)
    assert a.evidence[0].kind == "origin_area" and a.evidence[0].refs == (REF,)
    assert a.evidence[0].weight is not None and a.evidence[0].weight > 2


def test_origin_on_the_line_is_a_coin_toss_and_impact_breaks_the_tie(agreement: Agreement, areas: SideAreas) -> None:
    on_line = on_line_offset(agreement, *DONETSK, 0.0)
    deep_ukr = on_line_offset(agreement, *DONETSK, -15_000.0)  # across the line from Donetsk: Ukrainian side
    (plain,) = attribute_incidents([IncidentEvidence(incident(loc(*on_line, major=2_000, minor=2_000)))], areas)
    assert plain is not None and plain.probabilities["UKR"] == pytest.approx(0.5, abs=0.1)
    (hit,) = attribute_incidents(
        [IncidentEvidence(incident(loc(*on_line, major=2_000, minor=2_000), impacts=(loc(*deep_ukr),)))], areas
    )
    assert hit is not None and hit.probabilities["RUS"] > 0.75  # landed on the Ukrainian side: fired from Russia's
    assert [e.kind for e in hit.evidence] == ["origin_area", "impact_area"]


def test_patrol_direction_counts_as_evidence(agreement: Agreement, areas: SideAreas) -> None:
    observer = on_line_offset(agreement, *DONETSK, -6_000.0)  # a monitor on the Ukrainian side
    patrol = PatrolReport(
        key="p1",
        participant="OSCE",
        source="patrol-1",
        time=T,
        location=loc(*observer, 50, 50),
        markings=Markings(tlp="green", originator="OSCE"),
        explosions=1,
        direction="incoming",
    )
    (att,) = attribute_incidents([IncidentEvidence(incident(None, ()), [patrol])], areas)
    assert att is not None and att.probabilities["RUS"] == pytest.approx(0.8, abs=0.01)
    assert att.evidence[0].kind == "patrol_direction" and att.evidence[0].refs[0].key == "p1"


def test_no_evidence_no_attribution(areas: SideAreas) -> None:
    assert attribute_incidents([IncidentEvidence(incident(None))], areas) == [None]


def test_attribution_id_is_stable_and_follows_the_origin(areas: SideAreas) -> None:
    inc = incident(loc(*KYIV))
    model = AttributionModel()
    (att,) = attribute_incidents([IncidentEvidence(inc)], areas, model=model)
    assert att is not None and att.id == attribution_id(inc, model)
    new = with_attribution(inc, att)
    assert new.preferred_attribution_id == att.id and attribution_id(new, model) == att.id
    assert with_attribution(new, att).attributions == (att,)  # no duplicate on a rerun
    moved = inc.model_copy(update={"origins": (inc.origins[0].model_copy(update={"time": T.replace(hour=4)}),)})
    assert attribution_id(moved, model) != att.id
    assert attribution_id(inc, AttributionModel(origin_error_rate=0.1)) != att.id


def test_reliability_table_bins_forecasts() -> None:
    rows = reliability_table([0.02, 0.04, 0.55, 0.97, 0.99], [0, 0, 1, 1, 1], bins=10)
    assert [(r["bin_lo"], r["n"]) for r in rows] == [(0.0, 2), (0.5, 1), (0.9, 2)]
    assert rows[-1]["mean_p"] == pytest.approx(0.98) and rows[-1]["observed"] == 1.0


def test_reliability_diagram_is_drawn(tmp_path: Path) -> None:
    rows = reliability_table([0.02, 0.04, 0.55, 0.97, 0.99, 0.3], [0, 0, 1, 1, 1, 0], bins=10)
    out = plot_reliability(rows, tmp_path / "rel.png")
    assert out.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
