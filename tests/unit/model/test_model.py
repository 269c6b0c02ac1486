"""The domain model: strict, frozen records with precise validation."""

from __future__ import annotations

import json
import math

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from pydantic import ValidationError

import truceline.model as model
from tests.conftest import OBSERVATION_KINDS_UNDER_TEST, observation_dict
from truceline.model import ErrorEllipse, Markings, observation_adapter


def test_every_observation_kind_has_a_valid_example_and_round_trips() -> None:
    assert set(OBSERVATION_KINDS_UNDER_TEST) == set(model.OBSERVATION_KINDS)
    for kind in model.OBSERVATION_KINDS:
        obs = observation_adapter.validate_json(json.dumps(observation_dict(1, kind)))
        assert obs.kind == kind
        again = observation_adapter.validate_json(obs.model_dump_json(exclude_none=True))
        assert again == obs


def test_public_surface_is_pinned() -> None:
    # Adding or removing a public name is a deliberate act: update this list with it.
    assert len(model.__all__) == 64
    for name in model.__all__:
        assert hasattr(model, name), name


def test_records_are_frozen() -> None:
    obs = observation_adapter.validate_json(json.dumps(observation_dict()))
    with pytest.raises(ValidationError):
        obs.key = "other"  # type: ignore[misc]


@pytest.mark.parametrize("bad_time", [1_700_000_000, 1.7e9, "1700000000", True])
def test_a_bare_number_as_time_is_rejected(bad_time: object) -> None:
    with pytest.raises(ValidationError) as info:
        observation_adapter.validate_json(json.dumps(observation_dict(time=bad_time)))
    assert any(e["loc"][-1] == "time" for e in info.value.errors())


def test_a_time_without_utc_offset_is_rejected() -> None:
    with pytest.raises(ValidationError, match="UTC offset"):
        observation_adapter.validate_json(json.dumps(observation_dict(time="2026-03-01T10:00:00")))


def test_out_of_range_latitude_is_rejected_with_its_path() -> None:
    d = observation_dict()
    d["location"]["lat"] = 135
    with pytest.raises(ValidationError) as info:
        observation_adapter.validate_json(json.dumps(d))
    assert info.value.errors()[0]["loc"][1:] == ("location", "lat")


def test_missing_markings_are_rejected() -> None:
    d = observation_dict()
    del d["markings"]
    with pytest.raises(ValidationError, match="markings"):
        observation_adapter.validate_json(json.dumps(d))


def test_unknown_fields_are_rejected() -> None:
    with pytest.raises(ValidationError, match="Extra inputs"):
        observation_adapter.validate_json(json.dumps(observation_dict(colour="red")))


def test_strict_types_refuse_strings_for_numbers_in_json() -> None:
    with pytest.raises(ValidationError):
        observation_adapter.validate_json(json.dumps(observation_dict(credibility="2")))


def test_tlp_red_requires_named_recipients() -> None:
    with pytest.raises(ValidationError, match="TLP:RED"):
        Markings(tlp="red", originator="USA")
    assert Markings(tlp="red", originator="USA", releasable_to=("GBR",)).tlp == "red"


def test_claim_needs_a_place_and_two_different_parties() -> None:
    d = observation_dict(kind="claim")
    del d["place_name"]
    del d["location"]
    with pytest.raises(ValidationError, match="location or a place_name"):
        observation_adapter.validate_json(json.dumps(d))
    with pytest.raises(ValidationError, match="same party"):
        observation_adapter.validate_json(json.dumps(observation_dict(kind="claim", accused="RUS")))


def test_weapon_sighting_serials_cannot_exceed_count() -> None:
    with pytest.raises(ValidationError, match="more serials"):
        observation_adapter.validate_json(json.dumps(observation_dict(kind="weapon_sighting", count=1)))


def test_storage_visit_serial_cannot_be_both_present_and_missing() -> None:
    bad = observation_dict(kind="storage_visit", serials_present=["A1"], serials_missing=["A1"])
    with pytest.raises(ValidationError, match="both present and missing"):
        observation_adapter.validate_json(json.dumps(bad))


def test_error_ellipse_axes_must_be_ordered() -> None:
    with pytest.raises(ValidationError, match="semi_minor_m"):
        ErrorEllipse(semi_major_m=1.0, semi_minor_m=2.0)


@settings(max_examples=200, deadline=None)
@given(
    a=st.floats(1.0, 10_000.0),
    ratio=st.floats(0.01, 1.0),
    theta=st.floats(0.0, 179.9),
    conf=st.floats(0.5, 0.99),
)
def test_ellipse_covariance_round_trip(a: float, ratio: float, theta: float, conf: float) -> None:
    e = ErrorEllipse(semi_major_m=a, semi_minor_m=a * ratio, orientation_deg=theta, confidence=conf)
    (cee, cen), (_, cnn) = e.covariance()
    back = ErrorEllipse.from_covariance(cee, cen, cnn, conf)
    assert math.isclose(back.semi_major_m, e.semi_major_m, rel_tol=1e-6)
    assert math.isclose(back.semi_minor_m, e.semi_minor_m, rel_tol=1e-6, abs_tol=1e-6 * a)
    if ratio < 0.99:  # orientation is undefined for a circle
        diff = abs(back.orientation_deg - e.orientation_deg) % 180.0
        assert min(diff, 180.0 - diff) < 1e-4


def test_ellipse_95_percent_radius_matches_chi_square_quantile() -> None:
    # A unit-variance circular Gaussian has its 95 % radius at sqrt(chi2_2(0.95)) = 2.4477.
    e = ErrorEllipse.from_covariance(1.0, 0.0, 1.0, 0.95)
    assert math.isclose(e.semi_major_m, 2.4477, rel_tol=1e-4)
