"""Derived records never reach a reader that any of their sources would not."""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from truceline.model import Markings
from truceline.policy import MECHANISM, PolicyContext, SharingGroup, derived_markings
from truceline.policy.rules import participant_sees

PARTICIPANTS = ("MVM", "USA", "GBR", "FRA", "UKR", "DEU")
CONTEXT = PolicyContext(
    participants=PARTICIPANTS,
    sharing_groups=(SharingGroup(id="G1", members=("USA", "GBR")), SharingGroup(id="G2", members=("FRA", "DEU"))),
)
GROUP_SETS = (frozenset(), frozenset({"G1"}), frozenset({"G2"}), frozenset({"G1", "G2"}))


@st.composite
def markings(draw: st.DrawFn) -> Markings:
    tlp = draw(st.sampled_from(["clear", "green", "amber", "amber+strict", "red"]))
    originator = draw(st.sampled_from(PARTICIPANTS))
    others = [p for p in PARTICIPANTS if p != originator]
    releasable = tuple(sorted(draw(st.sets(st.sampled_from(others), min_size=1 if tlp == "red" else 0))))
    group = draw(st.sampled_from([None, None, "G1", "G2"]))
    return Markings(tlp=tlp, originator=originator, releasable_to=releasable, sharing_group=group)


@settings(max_examples=2_000, deadline=None)
@given(st.lists(markings(), min_size=1, max_size=5))
def test_a_reader_of_the_derived_record_may_read_every_source(sources: list[Markings]) -> None:
    derived = derived_markings(sources)
    for participant in PARTICIPANTS:
        if participant == MECHANISM:
            continue  # the mechanism issues and holds every derived record by design
        for groups in GROUP_SETS:
            if participant_sees(CONTEXT, participant, groups, derived):
                assert all(participant_sees(CONTEXT, participant, groups, m) for m in sources), (
                    participant,
                    sorted(groups),
                    derived,
                )


def test_one_source_keeps_its_audience() -> None:
    m = Markings(tlp="amber", originator="USA", releasable_to=("GBR",))
    derived = derived_markings([m])
    assert {p for p in PARTICIPANTS if participant_sees(CONTEXT, p, frozenset(), derived)} == {"USA", "GBR"}
