"""The gazetteer resolves Ukrainian, Russian and Latin spellings, and disambiguates by proximity."""

from __future__ import annotations

import gzip

import pytest

from truceline.geo import Gazetteer, normalise_name

DONETSK_AVDIIVKA = 713122  # GeoNames id of Avdiivka, Donetsk oblast (pop. ~35,000)
CHERNIHIV_AVDIIVKA = 713120  # a village of the same name in Chernihiv oblast
NEAR_DONETSK = (37.80, 48.00)
NEAR_CHERNIHIV = (32.80, 51.75)


@pytest.fixture(scope="module")
def gaz() -> Gazetteer:
    return Gazetteer.default()


@pytest.mark.parametrize(
    "spelling",
    [
        "Avdiivka",
        "Avdiyivka",
        "Avdeevka",
        "Avdeyevka",
        "Авдіївка",
        "Авдеевка",
        "AVDIIVKA",
        "Avdiïvka",
        " avdiivka ",
    ],
)
def test_every_spelling_of_avdiivka_resolves_to_the_donetsk_town_near_donetsk(
    gaz: Gazetteer, spelling: str
) -> None:
    best = gaz.resolve(spelling, near=NEAR_DONETSK)[0]
    assert best.geonameid == DONETSK_AVDIIVKA
    assert best.oblast == "Donetsk Oblast" and best.iso_3166_2 == "UA-14"
    assert best.distance_m is not None and best.distance_m < 30_000


def test_an_ambiguous_name_is_disambiguated_by_the_point_it_was_reported_near(gaz: Gazetteer) -> None:
    assert gaz.resolve("Avdiivka", near=NEAR_CHERNIHIV)[0].geonameid == CHERNIHIV_AVDIIVKA
    ids = [p.geonameid for p in gaz.resolve("Avdiivka", near=NEAR_DONETSK)]
    assert ids[0] == DONETSK_AVDIIVKA and CHERNIHIV_AVDIIVKA in ids and len(ids) >= 3
    distances = [p.distance_m for p in gaz.resolve("Avdiivka", near=NEAR_DONETSK)]
    assert distances == sorted(distances)  # type: ignore[type-var]


def test_without_a_reference_point_the_most_populous_candidate_comes_first(gaz: Gazetteer) -> None:
    candidates = gaz.resolve("Авдіївка")
    assert candidates[0].geonameid == DONETSK_AVDIIVKA
    assert all(p.distance_m is None for p in candidates)
    assert [p.population for p in candidates] == sorted((p.population for p in candidates), reverse=True)


def test_max_distance_and_limit_narrow_the_candidates(gaz: Gazetteer) -> None:
    assert [p.geonameid for p in gaz.resolve("Avdiivka", near=NEAR_DONETSK, max_distance_km=100)] == [
        DONETSK_AVDIIVKA
    ]
    assert len(gaz.resolve("Avdiivka", limit=1)) == 1


@pytest.mark.parametrize("spelling", ["Kyiv", "Kiev", "Київ", "Киев", "kyiv"])
def test_the_capital_resolves_in_every_usual_spelling(gaz: Gazetteer, spelling: str) -> None:
    assert gaz.resolve(spelling)[0].name == "Kyiv"


@pytest.mark.parametrize("name", ["Atlantis", "", "   ", "Avdiivka-on-Thames"])
def test_an_unresolvable_name_gives_no_candidates(gaz: Gazetteer, name: str) -> None:
    assert gaz.resolve(name) == []


def test_names_fold_case_diacritics_apostrophes_and_separators() -> None:
    assert normalise_name("Kam'yans'ke") == normalise_name("Kamyanske") == "kamyanske"
    assert normalise_name("Bila-Tserkva") == normalise_name("bila tserkva")
    assert normalise_name("Дебальцеве") != normalise_name("Дебальцево")  # different letters stay different


def test_nearest_finds_the_closest_place_of_a_size(gaz: Gazetteer) -> None:
    assert gaz.nearest(36.25, 49.98, min_population=1_000_000).name == "Kharkiv"
    with pytest.raises(LookupError):
        gaz.nearest(36.25, 49.98, min_population=10**9)


def test_a_gazetteer_csv_missing_columns_is_refused(tmp_path) -> None:  # type: ignore[no-untyped-def]
    bad = tmp_path / "places.csv.gz"
    bad.write_bytes(gzip.compress(b"geonameid,name\n1,X\n"))
    with pytest.raises(ValueError, match="missing columns"):
        Gazetteer.from_csv(bad)


def test_the_shipped_gazetteer_holds_every_place_of_the_source(gaz: Gazetteer) -> None:
    assert len(gaz) == 5_488
