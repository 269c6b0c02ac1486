"""The shipped default agreement: real geometry, Minsk withdrawal distances, and the guarantee's parts."""

from __future__ import annotations

import re

import numpy as np
import pytest
import shapely

from truceline.agreement import DEFAULT_AGREEMENT_PATH, Agreement, default_agreement, describe
from truceline.geo import Gazetteer, SpatialIndex, metric_distance_m


@pytest.fixture(scope="module")
def agreement() -> Agreement:
    return default_agreement()


@pytest.fixture(scope="module")
def gaz() -> Gazetteer:
    return Gazetteer.default()


def _length_km(geom_metric: object) -> float:
    total = 0.0
    for part in shapely.get_parts(geom_metric):
        c = shapely.get_coordinates(part)
        total += float(metric_distance_m(c[:-1, 0], c[:-1, 1], c[1:, 0], c[1:, 1]).sum())
    return total / 1000.0


def test_the_default_agreement_loads_once_and_is_cached(agreement: Agreement) -> None:
    assert DEFAULT_AGREEMENT_PATH.is_file()
    assert default_agreement() is agreement
    assert agreement.id == "truceline-default"


def test_the_parties_are_ukraine_and_russia_among_a_coalition_of_about_thirty(agreement: Agreement) -> None:
    assert agreement.party_ids() == {"UKR", "RUS"}
    assert [p.id for p in agreement.parties] == ["UKR", "RUS"]
    coalition = [p for p in agreement.participants if "coalition" in p.roles]
    assert 28 <= len(coalition) <= 36
    assert all(re.fullmatch(r"[A-Z]{3}", p.id) for p in agreement.participants if p.kind == "nation")
    usa = agreement.participant("USA")
    assert "monitor" in usa.roles and "guarantor" in usa.roles
    assert {"OSCE", "EU", "NATO"} <= agreement.participant_ids()
    assert all(agreement.participant(o).kind == "organisation" for o in ("OSCE", "EU", "NATO"))


def test_the_contact_line_is_as_long_as_todays_front(agreement: Agreement) -> None:
    assert 1_200 <= _length_km(agreement.contact_line_metric) <= 1_600


@pytest.mark.parametrize(
    ("place", "near", "side"),
    [
        ("Kyiv", (30.5, 50.4), "UKR"),
        ("Kharkiv", (36.2, 50.0), "UKR"),
        ("Zaporizhzhia", (35.1, 47.8), "UKR"),
        ("Dnipro", (35.0, 48.5), "UKR"),
        ("Odesa", (30.7, 46.5), "UKR"),
        ("Kherson", (32.6, 46.6), "UKR"),
        ("Donetsk", (37.8, 48.0), "RUS"),
        ("Luhansk", (39.3, 48.6), "RUS"),
        ("Melitopol", (35.4, 46.8), "RUS"),
        ("Mariupol", (37.5, 47.1), "RUS"),
        ("Simferopol", (34.1, 44.9), "RUS"),
    ],
)
def test_known_cities_are_on_the_right_side(
    agreement: Agreement, gaz: Gazetteer, place: str, near: tuple[float, float], side: str
) -> None:
    town = gaz.resolve(place, near=near)[0]
    assert agreement.side_of([town.lon], [town.lat]).tolist() == [side]


def test_positions_outside_ukraine_belong_to_neither_side(agreement: Agreement) -> None:
    # Minsk, Moscow, Warsaw and the open Black Sea.
    sides = agreement.side_of([27.56, 37.62, 21.01, 32.0], [53.90, 55.75, 52.23, 43.5])
    assert sides.tolist() == ["", "", "", ""]


def test_the_controlled_areas_meet_along_the_contact_line(agreement: Agreement) -> None:
    ukr = agreement.controlled_area("UKR", metric=True)
    rus = agreement.controlled_area("RUS", metric=True)
    assert shapely.intersection(ukr, rus).area < 10_000.0
    # Within 1 km of the line on either side lie both sides' areas.
    band = shapely.buffer(agreement.contact_line_metric, 1_000.0)
    assert shapely.intersection(band, ukr).area > 1e9 and shapely.intersection(band, rus).area > 1e9
    assert 100_000 < rus.area / 1e6 < 130_000 and 450_000 < ukr.area / 1e6 < 500_000


def test_withdrawal_distances_follow_the_minsk_package(agreement: Agreement) -> None:
    # Total zone widths 50 / 70 / 140 km, each side pulling back half; 15 km per side for the rest.
    assert agreement.withdrawal_distance_m("artillery_ge100") == 25_000.0
    assert agreement.withdrawal_distance_m("mlrs") == 35_000.0
    assert agreement.withdrawal_distance_m("heavy_mlrs_missile") == 70_000.0
    for wc in ("tank", "mortar", "artillery_lt100"):
        assert agreement.withdrawal_distance_m(wc) == 15_000.0
    assert agreement.withdrawal["mlrs"].zone_width_km == 70.0
    assert agreement.withdrawal_distance_m("small_arms") == 0.0
    with pytest.raises(ValueError, match="unknown weapon class"):
        agreement.withdrawal_distance_m("trebuchet")


def test_a_withdrawal_zone_is_the_partys_band_along_the_line(agreement: Agreement) -> None:
    zone = agreement.withdrawal_zone("mlrs", "UKR")
    assert shapely.difference(zone, agreement.controlled_area("UKR", metric=True)).area < 1e6
    # ~35 km deep along ~1,400 km of line (less where the line bends or meets the sea).
    assert 25_000 < zone.area / 1e6 < 55_000
    assert agreement.withdrawal_zone("small_arms", "RUS").is_empty


def test_contact_line_sectors_cover_the_line_in_stretches_of_100_to_150_km(agreement: Agreement) -> None:
    line_sectors = [s for s in agreement.sectors if s.kind == "contact_line"]
    assert 10 <= len(line_sectors) <= 14
    lengths = sorted(_length_km(s.geometry_metric) for s in line_sectors)
    assert 100 <= lengths[len(lengths) // 2] <= 150
    index = SpatialIndex([s.geometry_metric for s in line_sectors])
    x, y = shapely.get_coordinates(shapely.segmentize(agreement.contact_line_metric, 500.0)).T
    _, dist = index.nearest(x, y)
    assert dist.max() < 1_000.0
    lon, lat = shapely.get_coordinates(shapely.segmentize(agreement.contact_line, 0.01)).T
    assert (agreement.sector_of(lon, lat) != "").all()


def test_approach_axis_sectors_run_along_the_belarusian_and_russian_borders(agreement: Agreement) -> None:
    borders = {b.id: b for b in agreement.borders}
    assert set(borders) == {"BLR", "RUS"}
    for border_id in ("BLR", "RUS"):
        axis = [s for s in agreement.sectors if s.kind == "approach_axis" and s.border == border_id]
        assert len(axis) >= 3
        for s in axis:
            assert shapely.distance(s.geometry_metric, borders[border_id].geometry_metric) < 1_000.0
    assert _length_km(borders["BLR"].geometry_metric) > 900
    # North of Kyiv the nearest sector is on the Belarusian axis; by Hlukhiv, on the Russian one.
    sectors = agreement.sector_of([30.10, 33.91], [51.30, 51.68]).tolist()
    assert sectors[0].startswith("AX-BY-") and sectors[1].startswith("AX-RU-")


def test_positions_far_from_every_sector_get_none(agreement: Agreement) -> None:
    assert agreement.sector_of([24.03], [49.84]).tolist() == [""]  # Lviv
    with pytest.raises(KeyError):
        agreement.sector("CL-99")


def test_storage_sites_lie_behind_every_withdrawal_line_with_unique_serials(agreement: Agreement) -> None:
    by_party = {p: [s for s in agreement.storage_sites if s.party == p] for p in ("UKR", "RUS")}
    assert all(len(sites) >= 3 for sites in by_party.values())
    lon = np.array([s.lon for s in agreement.storage_sites])
    lat = np.array([s.lat for s in agreement.storage_sites])
    assert agreement.side_of(lon, lat).tolist() == [s.party for s in agreement.storage_sites]
    assert (agreement.distance_to_line_m(lon, lat) > 70_000.0).all()
    serials = [x for s in agreement.storage_sites for item in s.inventory for x in item.serials]
    assert len(serials) == len(set(serials)) > 50
    assert agreement.storage_site("UKR-S1").serials() <= set(serials)


def test_disengagement_areas_straddle_the_line_and_need_seven_quiet_days(agreement: Agreement) -> None:
    assert agreement.quiet_days_required == 7
    assert len(agreement.disengagement_areas) >= 3
    for area in agreement.disengagement_areas:
        assert shapely.intersects(area.geometry_metric, agreement.contact_line_metric)
        assert 10 < area.geometry_metric.area / 1e6 < 30
        assert area.clause in agreement.clauses


def test_ukraines_ceiling_is_800000_and_russia_has_none(agreement: Agreement) -> None:
    assert agreement.troop_ceiling("UKR") == 800_000
    assert agreement.troop_ceiling("RUS") is None
    with pytest.raises(KeyError):
        agreement.troop_ceiling("USA")


def test_the_reassurance_force_is_based_in_western_ukraine_far_from_the_line(
    agreement: Agreement, gaz: Gazetteer
) -> None:
    rf = agreement.reassurance_force
    assert rf.min_distance_km >= 100
    lviv = gaz.resolve("Lviv")[0]
    kyiv = gaz.resolve("Kyiv")[0]
    assert shapely.contains_xy(rf.basing_area, lviv.lon, lviv.lat)
    assert not shapely.contains_xy(rf.basing_area, kyiv.lon, kyiv.lat)
    assert shapely.distance(rf.basing_area_metric, agreement.contact_line_metric) / 1000 >= rf.min_distance_km
    assert set(rf.contributors) <= agreement.participant_ids()


def test_air_and_sea_zones_cover_the_line_band_and_the_sea(agreement: Agreement) -> None:
    zones = {z.id: z for z in agreement.restricted_zones}
    band = zones["contact_line_band"]
    assert band.kind == "air" and band.clause == "air.contact_line_band"
    assert shapely.contains(band.geometry_metric, agreement.contact_line_metric)
    sea = [z for z in agreement.restricted_zones if z.kind == "sea"]
    assert sea
    for z in sea:  # water only: at most slivers where the coastlines of the sources differ
        land = sum(
            shapely.intersection(z.geometry_metric, agreement.controlled_area(p, metric=True)).area
            for p in ("UKR", "RUS")
        )
        assert land < 0.01 * z.geometry_metric.area


def test_findings_can_cite_every_clause_by_id(agreement: Agreement) -> None:
    ids = set(agreement.clauses)
    expected = {
        "ceasefire",
        "freedom_of_movement",
        "withdrawal.mlrs",
        "withdrawal.heavy_mlrs_missile",
        "ceiling.UKR",
        "reassurance.distance",
        "reassurance.basing",
        "air.contact_line_band",
        *(f"disengagement.{a.id}" for a in agreement.disengagement_areas),
        *(f"storage.{s.id}" for s in agreement.storage_sites),
        *(f"trigger.{t.id}" for t in agreement.triggers),
    }
    assert expected <= ids
    assert all(c.text and c.id == key for key, c in agreement.clauses.items())
    assert "35 km" in agreement.clause("withdrawal.mlrs").text


def test_triggers_are_data_with_thresholds(agreement: Agreement) -> None:
    kinds = {t.kind for t in agreement.triggers}
    assert {"line_crossing", "strike_count"} <= kinds
    crossing = next(t for t in agreement.triggers if t.kind == "line_crossing")
    assert {"contact_line", "border.BLR", "border.RUS"} <= set(crossing.parameters["lines"])
    assert crossing.parameters["min_personnel"] > 0 and crossing.response == "activation"
    assert all(
        set(t.by) <= agreement.party_ids() and t.clause in agreement.clauses for t in agreement.triggers
    )


def test_describe_summarises_the_agreement(agreement: Agreement) -> None:
    text = describe(agreement)
    for words in ("UKR (Ukraine)", "800,000", "CL-01", "AX-BY-01", "35 km / 70 km", "organised_crossing"):
        assert words in text
