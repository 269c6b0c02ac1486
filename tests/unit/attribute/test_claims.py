"""Claims against evidence on hand-made incidents: matches, silence under coverage, own-side fire, no data."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import numpy as np
import pytest
import shapely

from truceline.agreement import Agreement
from truceline.attribute import (
    ClaimChecker,
    IncidentEvidence,
    IncidentIndex,
    MediaCorpus,
    SensorActivity,
    SideAreas,
    attribute_incidents,
    with_attribution,
)
from truceline.geo import to_lonlat, to_metric
from truceline.model import (
    Claim,
    CreationInfo,
    ErrorEllipse,
    Incident,
    Location,
    Markings,
    ObservationRef,
    Origin,
)

T = datetime(2026, 9, 5, 14, 30, tzinfo=UTC)
CI = CreationInfo(agent="test", created=T)


def across(agreement: Agreement, lon: float, lat: float, metres: float) -> tuple[float, float]:
    """A point ``metres`` from the contact line beside (lon, lat): positive on its side, negative across."""
    x, y = to_metric(lon, lat)
    foot = shapely.get_coordinates(shapely.shortest_line(shapely.Point(x, y), agreement.contact_line_metric))[1]
    u = np.array([x - foot[0], y - foot[1]])
    u /= np.hypot(*u)
    lo, la = to_lonlat(foot[0] + metres * u[0], foot[1] + metres * u[1])
    return float(lo), float(la)


DONETSK = (37.80, 48.00)  # on the Russian-held side


def claim(agreement: Agreement, *, place: tuple[float, float] | None = None, name: str | None = None) -> Claim:
    return Claim(
        key="c-1",
        participant="RUS",
        source="mod-press-RUS",
        time=T + timedelta(hours=5),
        markings=Markings(tlp="clear", originator="RUS"),
        location=None
        if place is None
        else Location(lon=place[0], lat=place[1], error=ErrorEllipse(semi_major_m=2_000, semi_minor_m=2_000)),
        place_name=name,
        claimant="RUS",
        accused="UKR",
        claim_kind="shelling",
        claimed_time=T,
        weapon_class="artillery_ge100",
    )


def incident(
    n: int, origin: tuple[float, float], when: datetime, impact: tuple[float, float] | None = None
) -> Incident:
    o = Origin(
        id=f"o{n}",
        location=Location(lon=origin[0], lat=origin[1], error=ErrorEllipse(semi_major_m=150, semi_minor_m=80)),
        time=when,
        method="test",
        creation_info=CI,
    )
    imp = (
        ()
        if impact is None
        else (Location(lon=impact[0], lat=impact[1], error=ErrorEllipse(semi_major_m=300, semi_minor_m=300)),)
    )
    return Incident(
        id=f"inc-{n}",
        start=when,
        end=when,
        observations=(ObservationRef(participant="USA", source="ac-1", key=str(n)),),
        origins=(o,),
        preferred_origin_id=o.id,
        impacts=imp,
        weapon_class="artillery_ge100",
        markings=Markings(tlp="amber", originator="USA", releasable_to=("GBR",)),
        creation_info=CI,
    )


def index(agreement: Agreement, incidents: list[Incident]) -> IncidentIndex:
    areas = SideAreas.from_agreement(agreement)
    atts = attribute_incidents([IncidentEvidence(i) for i in incidents], areas)
    done = [with_attribution(i, a) for i, a in zip(incidents, atts, strict=True) if a is not None]
    return IncidentIndex.build(areas.parties, done)


def arrays_around(agreement: Agreement, place: tuple[float, float]) -> SensorActivity:
    """Arrays every 2 km along both sides near the place, all reporting picks around the time."""
    pts = [across(agreement, place[0] + dx, place[1], d) for dx in np.arange(-0.3, 0.31, 0.03) for d in (5_000, -5_000)]
    lon = np.array([p[0] for p in pts])
    lat = np.array([p[1] for p in pts])
    t = np.full(lon.size, T.timestamp())
    return SensorActivity(lon, lat, t, np.arange(lon.size, dtype=np.intp))


@pytest.fixture(scope="module")
def setting(agreement: Agreement) -> dict[str, tuple[float, float]]:
    place = across(agreement, *DONETSK, 6_000)  # a town 6 km behind the line on the Russian side
    return {
        "place": place,
        "ukr_gun": across(agreement, *DONETSK, -9_000),  # a Ukrainian battery across the line
        "rus_gun": across(agreement, *DONETSK, 10_000),  # a Russian battery 4 km behind the town
    }


def check(agreement: Agreement, c: Claim, incidents: list[Incident], activity: SensorActivity):  # type: ignore[no-untyped-def]
    return ClaimChecker(agreement).check(
        activity, c, index(agreement, incidents), corpus=MediaCorpus(), media_root=None
    )


def background(setting: dict[str, tuple[float, float]], n0: int = 100) -> list[Incident]:
    """Some unrelated fire hours away, so the sector is not silent."""
    return [incident(n0 + k, setting["ukr_gun"], T + timedelta(hours=h)) for k, h in enumerate((-9, -5, 4, 8))]


def test_the_accused_shot_at_the_time_corroborates(agreement: Agreement, setting: dict) -> None:  # type: ignore[type-arg]
    shot = incident(1, setting["ukr_gun"], T + timedelta(minutes=4), impact=setting["place"])
    result = check(
        agreement,
        claim(agreement, place=setting["place"]),
        [shot, *background(setting)],
        arrays_around(agreement, setting["place"]),
    )
    assert result.verdict == "corroborated"
    assert result.suspicion < 0.05
    assert [i.id for i in result.incidents] == ["inc-1"]


def test_silence_where_the_sensors_could_hear_is_not_corroboration(agreement: Agreement, setting: dict) -> None:  # type: ignore[type-arg]
    result = check(
        agreement,
        claim(agreement, place=setting["place"]),
        background(setting),
        arrays_around(agreement, setting["place"]),
    )
    assert result.verdict == "not_corroborated"
    # Silence alone lifts the suspicion from the prior 0.1 to about even; the media decide the rest.
    assert result.suspicion > 0.4
    assert next(e.weight for e in result.evidence if e.kind == "accused_fire") > 2.0
    text = next(e.description for e in result.evidence if e.kind == "accused_fire")
    assert "no located fire attributed to UKR" in text


def test_silence_where_the_sensors_were_blind_says_nothing(agreement: Agreement, setting: dict) -> None:  # type: ignore[type-arg]
    blind = SensorActivity(np.zeros(0), np.zeros(0), np.zeros(0), np.zeros(0, dtype=np.intp))
    result = check(agreement, claim(agreement, place=setting["place"]), background(setting), blind)
    assert result.verdict == "unverifiable"
    assert result.suspicion == pytest.approx(0.1, abs=0.01)  # the prior: nothing learned


def test_the_claimants_own_fire_on_the_place_contradicts(agreement: Agreement, setting: dict) -> None:  # type: ignore[type-arg]
    own = incident(2, setting["rus_gun"], T + timedelta(minutes=3), impact=setting["place"])
    result = check(
        agreement,
        claim(agreement, place=setting["place"]),
        [own, *background(setting)],
        arrays_around(agreement, setting["place"]),
    )
    assert result.verdict == "contradicted"
    assert result.suspicion > 0.9
    assert "own_side_fire" in {e.kind for e in result.evidence}


def test_without_any_incidents_nothing_is_judged(agreement: Agreement, setting: dict) -> None:  # type: ignore[type-arg]
    result = check(agreement, claim(agreement, place=setting["place"]), [], arrays_around(agreement, setting["place"]))
    assert result.verdict == "unverifiable"
    assert "physical_unavailable" in {e.kind for e in result.evidence}
    assert result.suspicion == pytest.approx(0.1, abs=0.01)


def test_place_names_resolve_to_the_namesakes_near_the_line(agreement: Agreement) -> None:
    checker = ClaimChecker(agreement)
    places, ev = checker.resolve_places(claim(agreement, name="Kostyantynivka"))
    assert 1 <= len(places) <= checker.max_namesakes and "names 5 places" in ev[0].description
    for loc, _ in places:
        assert float(agreement.distance_to_line_m([loc.lon], [loc.lat])[0]) <= checker.namesake_distance_m
    places, ev = checker.resolve_places(claim(agreement, name="Atlantis-upon-Dnipro"))
    assert places == [] and ev[0].kind == "place_unresolved" and "not in the gazetteer" in ev[0].description


def test_an_ambiguous_name_gets_the_benefit_of_the_doubt(agreement: Agreement) -> None:
    # Two Kostyantynivkas lie near the line; the accused's shell landed on the one ranked second.
    checker = ClaimChecker(agreement)
    places, _ = checker.resolve_places(claim(agreement, name="Kostyantynivka"))
    assert len(places) >= 2
    target = (places[1][0].lon, places[1][0].lat)
    shot = incident(7, across(agreement, *target, -9_000), T + timedelta(minutes=4), impact=target)
    quiet = [
        incident(200 + k, across(agreement, *target, -9_000), T + timedelta(hours=h)) for k, h in enumerate((-9, 8))
    ]
    first = (places[0][0].lon, places[0][0].lat)
    quiet += [
        incident(300 + k, across(agreement, *first, -9_000), T + timedelta(hours=h)) for k, h in enumerate((-9, 8))
    ]
    sensors_a, sensors_b = arrays_around(agreement, target), arrays_around(agreement, first)
    activity = SensorActivity(
        np.concatenate([sensors_a.lon, sensors_b.lon]),
        np.concatenate([sensors_a.lat, sensors_b.lat]),
        np.concatenate([sensors_a.pick_t, sensors_b.pick_t]),
        np.arange(sensors_a.lon.size + sensors_b.lon.size, dtype=np.intp),
    )
    result = checker.check(
        activity,
        claim(agreement, name="Kostyantynivka"),
        index(agreement, [shot, *quiet]),
        corpus=MediaCorpus(),
        media_root=None,
    )
    assert result.verdict == "corroborated"
    assert result.place is not None and (result.place.lon, result.place.lat) == target
    assert "place_chosen" in {e.kind for e in result.evidence}


def test_a_followers_incident_rows_give_the_index_a_full_read_gives(agreement: Agreement) -> None:
    """IncidentRows (kept between a follower's rounds) against IncidentIndex.build over every stored
    incident: new incidents, rewritten ones (moved, attribution changed) and one that lost its
    attribution, over several rounds."""
    from truceline.attribute.stage import IncidentRows, _incidents
    from truceline.store import MemoryStore

    areas = SideAreas.from_agreement(agreement)
    store = MemoryStore()
    rows = IncidentRows()

    def attributed(incs: list[Incident]) -> list[Incident]:
        atts = attribute_incidents([IncidentEvidence(i) for i in incs], areas)
        return [with_attribution(i, a) for i, a in zip(incs, atts, strict=True) if a is not None]

    def same(a: IncidentIndex, b: IncidentIndex) -> None:
        assert a.ids == b.ids
        for name in ("t", "ox", "oy", "ix", "iy", "reach", "p"):
            np.testing.assert_array_equal(getattr(a, name), getattr(b, name))
        assert [i.id for i in a.incidents] == [i.id for i in b.incidents]
        assert list(a.incidents) == list(b.incidents)

    gun = across(agreement, *DONETSK, -9_000)
    first = attributed([incident(n, gun, T + timedelta(minutes=n)) for n in range(6)])
    store.put_records(first)
    same(rows.index(store, areas.parties), IncidentIndex.build(areas.parties, _incidents(store)))
    moved = attributed([incident(2, across(agreement, *DONETSK, 7_000), T + timedelta(minutes=30))])
    later = attributed([incident(n, gun, T + timedelta(minutes=n)) for n in range(6, 9)])
    store.put_records([*moved, *later, first[4].model_copy(update={"preferred_attribution_id": None})])
    same(rows.index(store, areas.parties), IncidentIndex.build(areas.parties, _incidents(store)))
    assert "inc-4" not in rows.index(store, areas.parties).ids  # lost its attribution: out
    same(rows.index(store, areas.parties), IncidentIndex.build(areas.parties, _incidents(store)))  # no change
