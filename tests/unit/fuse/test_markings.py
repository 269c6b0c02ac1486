"""A fused incident is never less restrictive than any report behind it."""

from __future__ import annotations

from truceline.fuse import merge_markings
from truceline.model import Markings
from truceline.policy import PolicyContext, Principal, SharingGroup
from truceline.policy.rules import participant_sees

CONTEXT = PolicyContext(
    participants=("UKR", "USA", "GBR", "POL"), sharing_groups=(SharingGroup(id="G1", members=("USA", "GBR")),)
)


def test_a_group_report_keeps_the_incident_in_its_group() -> None:
    merged = merge_markings([Markings(tlp="green", originator="USA", sharing_group="G1"),
                             Markings(tlp="green", originator="UKR")])  # fmt: skip
    assert merged.sharing_group == "G1"
    assert not participant_sees(CONTEXT, "POL", frozenset(), merged)


def test_red_from_two_originators_goes_to_nobody_not_entitled_to_both() -> None:
    merged = merge_markings([Markings(tlp="red", originator="USA", releasable_to=("GBR",)),
                             Markings(tlp="red", originator="UKR", releasable_to=("POL",))])  # fmt: skip
    for who in CONTEXT.participants:
        principal = Principal(participant=who)
        assert not participant_sees(CONTEXT, who, CONTEXT.acting_groups(principal), merged), who


def test_every_reader_of_the_incident_may_read_every_report() -> None:
    sources = [
        Markings(tlp="amber", originator="USA", releasable_to=("GBR", "UKR")),
        Markings(tlp="amber+strict", originator="GBR", releasable_to=("USA", "UKR")),
        Markings(tlp="green", originator="POL"),
    ]
    merged = merge_markings(sources)
    for who in CONTEXT.participants:
        groups = CONTEXT.acting_groups(Principal(participant=who))
        if participant_sees(CONTEXT, who, groups, merged):
            assert all(participant_sees(CONTEXT, who, groups, m) for m in sources), who
