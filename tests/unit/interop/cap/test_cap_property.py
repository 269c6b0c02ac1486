"""Property: any message the codec can express is written schema-valid and read back equal."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from hypothesis import given, settings
from hypothesis import strategies as st

from truceline.interop.cap import CapArea, CapInfo, CapMessage, parse_cap, to_xml, validate_cap

WORD = st.text(alphabet="abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-_.@:", min_size=1,
               max_size=20)
# Text the way CAP carries it: no leading or trailing whitespace (readers strip it), any inner text.
TEXT = st.builds(lambda a, b: f"{a} {b}".strip(), WORD, st.text(alphabet="abc xyz,;é€<&>\"'", max_size=30))
TIME = st.integers(0, 10 * 365 * 86400).map(lambda s: datetime(2020, 1, 1, tzinfo=UTC) + timedelta(seconds=s))
LAT = st.floats(-90, 90, allow_nan=False).map(lambda x: round(x, 6))
LON = st.floats(-180, 180, allow_nan=False).map(lambda x: round(x, 6))
PAIR = st.tuples(WORD, TEXT)


@st.composite
def areas(draw: st.DrawFn) -> CapArea:
    ring = draw(st.lists(st.tuples(LAT, LON), min_size=3, max_size=6))
    polygons = ((*ring, ring[0]),) if draw(st.booleans()) else ()
    circles = tuple(draw(st.lists(st.tuples(LAT, LON, st.floats(0, 500).map(lambda r: round(r, 3))), max_size=2)))
    return CapArea(area_desc=draw(TEXT), polygons=polygons, circles=circles,
                   geocodes=tuple(draw(st.lists(PAIR, max_size=2))))


@st.composite
def infos(draw: st.DrawFn) -> CapInfo:
    return CapInfo(
        categories=tuple(draw(st.lists(st.sampled_from(["Security", "Safety", "Other", "Geo"]), min_size=1,
                                       max_size=3))),
        event=draw(TEXT),
        urgency=draw(st.sampled_from(["Immediate", "Expected", "Future", "Past", "Unknown"])),
        severity=draw(st.sampled_from(["Extreme", "Severe", "Moderate", "Minor", "Unknown"])),
        certainty=draw(st.sampled_from(["Observed", "Likely", "Possible", "Unlikely", "Unknown"])),
        language=draw(st.sampled_from(["en-GB", "uk-UA", "fr"])),
        effective=draw(st.none() | TIME),
        headline=draw(st.none() | TEXT),
        description=draw(st.none() | TEXT),
        parameters=tuple(draw(st.lists(PAIR, max_size=4))),
        areas=tuple(draw(st.lists(areas(), max_size=2))),
    )


@st.composite
def messages(draw: st.DrawFn) -> CapMessage:
    return CapMessage(
        identifier=draw(WORD),
        sender=draw(WORD),
        sent=draw(TIME),
        status=draw(st.sampled_from(["Actual", "Exercise", "System", "Test", "Draft"])),
        msg_type=draw(st.sampled_from(["Alert", "Update", "Cancel", "Ack", "Error"])),
        scope=draw(st.sampled_from(["Public", "Restricted", "Private"])),
        addresses=tuple(draw(st.lists(st.builds(lambda a, b: f"{a} {b}" if b else a, WORD, st.none() | WORD),
                                      max_size=3))),
        codes=tuple(draw(st.lists(WORD, max_size=3))),
        references=tuple(draw(st.lists(WORD, max_size=2))),
        infos=tuple(draw(st.lists(infos(), max_size=2))),
    )


@settings(max_examples=150, deadline=None)
@given(messages())
def test_written_messages_are_valid_and_read_back_equal(message: CapMessage) -> None:
    xml = to_xml(message)
    validate_cap(xml)
    assert parse_cap(xml) == message
