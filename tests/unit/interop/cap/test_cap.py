"""CAP 1.2: messages written are schema-valid and read back equal; bad messages are refused with the schema's reason."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path

import pytest

import truceline.interop.cap as cap
from truceline.interop.cap import CapArea, CapError, CapInfo, CapMessage, parse_cap, to_xml, validate_cap

DATA = Path(__file__).parent / "data"
T = datetime(2026, 9, 17, 3, 30, tzinfo=UTC)


def full_message() -> CapMessage:
    info = CapInfo(
        categories=("Security", "Safety"), event="Cease-fire warning level change", urgency="Expected",
        severity="Severe", certainty="Likely", language="en-GB", response_types=("Monitor", "Prepare"),
        audience="guarantors", event_codes=(("truceline", "warning_level"),), effective=T, onset=T,
        expires=T + timedelta(days=1), sender_name="Truceline", headline="Sector CL-06: level 4",
        description="P(offensive within 7 days) = 0.55", instruction="Surge monitoring",
        web="https://example.org/alerts/1", contact="duty officer",
        parameters=(("warning_level", "4"), ("p_offensive_7d", "0.55")),
        areas=(
            CapArea("CL-06", polygons=(((48.0, 37.0), (48.5, 37.0), (48.5, 37.8), (48.0, 37.0)),),
                    circles=((48.25, 37.4, 2.5),), geocodes=(("truceline:sector", "CL-06"),), altitude=0.0,
                    ceiling=3000.0),
        ),
    )
    return CapMessage(
        identifier="alert--warning--CL-06--2026-09-17--L4", sender="truceline@MVM", sent=T, status="Actual",
        msg_type="Update", scope="Private", addresses=("USA", "GBR", "Joint Commission"), codes=("TLP:AMBER",),
        note="exercise note", references=("truceline@MVM,alert-0,2026-09-16T00:00:00+00:00",),
        incidents=("incident-1", "incident-2"), infos=(info,),
    )


def test_a_full_message_is_schema_valid_and_reads_back_equal() -> None:
    message = full_message()
    xml = to_xml(message)
    validate_cap(xml)
    assert parse_cap(xml) == message
    assert b'"Joint Commission"' in xml  # CAP quotes addresses that contain spaces


def test_times_are_written_with_a_numeric_offset_and_whole_seconds() -> None:
    sent = datetime(2026, 9, 17, 6, 30, 15, 999_999, tzinfo=timezone(timedelta(hours=3)))
    xml = to_xml(CapMessage("a-1", "s", sent, "Test", "Alert", "Public"))
    assert b"<sent>2026-09-17T03:30:15+00:00</sent>" in xml


def test_a_real_message_from_another_system_is_read() -> None:
    msg = parse_cap((DATA / "other_system.xml").read_bytes(), "other_system.xml")
    assert msg.sender == "ops@smm.example.org"
    assert msg.sent == datetime(2026, 9, 17, 3, 30, tzinfo=UTC)
    (info,) = msg.infos
    assert info.categories == ("Security", "Safety")
    assert info.parameter("explosions") == "14"
    assert info.areas[0].circles == ((46.47225, 32.42374, 5.0),)
    assert len(info.areas[0].polygons[0]) == 5


@pytest.mark.parametrize(
    ("edit", "element", "words"),
    [
        (("<sent>2026-09-17T06:30:00+03:00</sent>", "<sent>2026-09-17T03:30:00Z</sent>"), "/alert/sent",
         "pattern"),
        (("<status>Exercise</status>", "<status>Real</status>"), "/alert/status", "enumeration"),
        (("<sender>ops@smm.example.org</sender>", ""), "/alert/sent", "Expected is ( sender )"),
        (("<urgency>Immediate</urgency>", "<urgency>Now</urgency>"), "/alert/info/urgency", "enumeration"),
        (("<size>120433</size>", "<size>big</size>"), "/alert/info/resource/size", "integer"),
        (("<scope>Restricted</scope>", "<scope>Restricted</scope><colour>red</colour>"), "/alert/colour",
         "not expected"),
    ],
)
def test_a_message_breaking_the_schema_is_refused_with_the_schemas_reason(
    edit: tuple[str, str], element: str, words: str
) -> None:
    text = (DATA / "other_system.xml").read_text().replace(*edit)
    with pytest.raises(CapError) as caught:
        parse_cap(text.encode(), "bad.xml")
    err = caught.value
    assert err.record == "bad.xml"
    assert err.field == element
    assert words in err.reason
    assert err.issues[0].line > 1


def test_not_well_formed_xml_is_refused_with_the_parsers_reason() -> None:
    with pytest.raises(CapError, match="not well-formed XML"):
        parse_cap(b"<alert xmlns='urn:oasis:names:tc:emergency:cap:1.2'><identifier>x</alert>")


def test_an_entity_bomb_is_not_expanded() -> None:
    bomb = (b'<?xml version="1.0"?><!DOCTYPE a [<!ENTITY x "xxxxxxxxxx"><!ENTITY y "&x;&x;&x;&x;&x;">]>'
            b"<alert xmlns='urn:oasis:names:tc:emergency:cap:1.2'><identifier>&y;</identifier></alert>")
    with pytest.raises(CapError, match="DOCTYPE"):
        parse_cap(bomb)


def test_geometry_the_schema_cannot_check_is_checked_on_reading() -> None:
    text = (DATA / "other_system.xml").read_text()
    open_ring = text.replace("46.40,32.50 46.40,32.30</polygon>", "46.40,32.50</polygon>")
    with pytest.raises(CapError, match="closed") as caught:
        parse_cap(open_ring.encode())
    assert caught.value.field == "/alert/info/area/polygon"
    with pytest.raises(CapError, match="WGS 84"):
        parse_cap(text.replace("46.47225,32.42374 5", "146.5,32.4 5").encode())
    with pytest.raises(CapError, match="radius"):
        parse_cap(text.replace("46.47225,32.42374 5", "46.47225,32.42374").encode())


def test_writing_refuses_identifiers_cap_forbids() -> None:
    with pytest.raises(ValueError, match="spaces, commas"):
        to_xml(CapMessage("a 1", "s", T, "Test", "Alert", "Public"))
    with pytest.raises(ValueError, match="sender"):
        to_xml(CapMessage("a1", "a,b", T, "Test", "Alert", "Public"))


def test_writing_refuses_a_message_the_schema_would_refuse() -> None:
    bad = CapMessage("a1", "s", T, "Test", "Alert", "Public",
                     infos=(CapInfo(categories=(), event="e", urgency="Past", severity="Minor", certainty="Likely"),))
    with pytest.raises(CapError, match="category"):
        to_xml(bad)


def test_the_vendored_schema_is_the_oasis_cap_1_2_schema() -> None:
    text = cap.SCHEMA_PATH.read_text()
    assert 'targetNamespace="urn:oasis:names:tc:emergency:cap:1.2"' in text
    assert "Copyright OASIS Open 2010" in text


def test_public_surface() -> None:
    assert sorted(cap.__all__) == sorted([
        "CAP_NAMESPACE", "SCHEMA_PATH", "CapArea", "CapError", "CapInfo", "CapMessage", "SchemaIssue", "cap_time",
        "parse_cap", "to_xml", "validate_cap",
    ])
