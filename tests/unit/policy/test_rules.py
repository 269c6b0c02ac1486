"""One readable test per rule of docs/policy.md: reading, exporting, roles, creation."""

from __future__ import annotations

import pytest

from tests.unit.policy.conftest import marked, who
from truceline.policy import Policy


@pytest.mark.parametrize("reader", ["USA", "UKR", "OSCE", "XAA"])
def test_clear_is_readable_by_every_authenticated_principal_even_a_non_participant(policy: Policy, reader: str) -> None:
    assert policy.visible(who(reader), marked("clear"))


def test_green_is_readable_by_every_participant_but_not_by_a_non_participant(policy: Policy) -> None:
    assert all(policy.visible(who(p), marked("green")) for p in policy.context.participants)
    assert not policy.visible(who("XAA"), marked("green"))


@pytest.mark.parametrize("tlp", ["amber", "amber+strict", "red"])
def test_named_levels_reach_only_the_originator_and_the_listed_participants(policy: Policy, tlp: str) -> None:
    m = marked(tlp, "USA", "UKR", "GBR")
    readers = {p for p in policy.context.participants if policy.visible(who(p), m)}
    assert readers == {"USA", "UKR", "GBR"}


@pytest.mark.parametrize("tlp", ["amber", "amber+strict"])
def test_an_empty_releasable_to_means_the_originator_only(policy: Policy, tlp: str) -> None:
    m = marked(tlp, "USA")
    assert [p for p in policy.context.participants if policy.visible(who(p), m)] == ["USA"]


def test_a_departed_originator_keeps_clear_only(policy: Policy) -> None:
    # XAA is no longer in the agreement: its own amber record is closed to it too.
    assert not policy.visible(who("XAA"), marked("amber", "XAA"))
    assert not policy.visible(who("XAA"), marked("red", "USA", "XAA"))
    assert policy.visible(who("XAA"), marked("clear", "XAA"))


def test_a_sharing_group_requires_confirmed_membership_at_every_level_even_for_the_originator(policy: Policy) -> None:
    for tlp in ("clear", "green", "amber"):
        m = marked(tlp, "FRA", "USA", "POL", group="G-AIR")
        assert policy.visible(who("USA", groups=("G-AIR",)), m)
        assert not policy.visible(who("USA"), m)  # a member whose token does not claim the group
        assert not policy.visible(who("POL", groups=("G-AIR",)), m)  # claims it, but is no member
        assert not policy.visible(who("FRA", groups=("G-AIR",)), m)  # the originator, no member


def test_a_group_the_agreement_does_not_define_admits_nobody(policy: Policy) -> None:
    assert not policy.visible(who("USA", groups=("G-GHOST",)), marked("clear", group="G-GHOST"))


@pytest.mark.parametrize("tlp", ["clear", "green", "amber", "amber+strict", "red"])
def test_roles_never_change_what_is_visible_and_administrators_get_no_bypass(policy: Policy, tlp: str) -> None:
    m = marked(tlp, "USA", "GBR", group="G-SIGINT")
    for participant in ("USA", "UKR", "XAA"):
        seen = {
            policy.visible(who(participant, *roles, groups=("G-SIGINT",)), m)
            for roles in ((), ("administrator",), ("analyst", "reviewer", "administrator", "observer"))
        }
        assert len(seen) == 1
    assert not policy.visible(who("UKR", "administrator", groups=("G-SIGINT",)), m)


def test_groups_and_their_members_are_shown_only_to_members(policy: Policy) -> None:
    assert [g.id for g in policy.groups_visible_to(who("GBR", groups=("G-AIR", "G-SIGINT")))] == ["G-AIR", "G-SIGINT"]
    assert [g.id for g in policy.groups_visible_to(who("UKR", groups=("G-AIR", "G-SIGINT")))] == ["G-AIR"]
    assert policy.groups_visible_to(who("FRA", "administrator", groups=("G-AIR",))) == ()


# --- exports -------------------------------------------------------------------------------------
def test_export_goes_only_where_the_destination_may_read(policy: Policy) -> None:
    m = marked("amber", "USA", "UKR")
    assert policy.may_export(who("USA"), m, "UKR")
    assert not policy.may_export(who("USA"), m, "GBR")
    assert policy.may_export(who("USA"), marked("clear"), "XAA")
    assert not policy.may_export(who("USA"), marked("green"), "XAA")


def test_a_sharing_group_record_never_goes_to_a_non_member_server(policy: Policy) -> None:
    # The leak of intelligence-sharing platforms: a group record synchronised to a server outside it.
    m = marked("green", "USA", group="G-SIGINT")
    sender = who("USA", groups=("G-SIGINT",))
    assert policy.may_export(sender, m, "GBR")
    assert not policy.may_export(sender, m, "UKR")
    assert not policy.may_export(sender, m, "FRA")


@pytest.mark.parametrize("tlp", ["amber+strict", "red"])
def test_strict_and_red_records_go_to_no_server_but_the_requesters_own(policy: Policy, tlp: str) -> None:
    m = marked(tlp, "USA", "UKR", "GBR")
    assert policy.may_export(who("UKR"), m, "UKR")
    assert not policy.may_export(who("UKR"), m, "GBR")  # even to another listed recipient
    assert not policy.may_export(who("UKR"), m, "USA")  # even back to the originator
    assert not policy.may_export(who("USA"), m, "UKR")  # the originator too re-shares nothing


def test_a_requester_cannot_export_what_it_cannot_read(policy: Policy) -> None:
    assert not policy.may_export(who("GBR"), marked("amber", "USA", "UKR"), "UKR")


# --- actions -------------------------------------------------------------------------------------
def test_roles_grant_actions_only(policy: Policy) -> None:
    assert policy.may(who("USA", "analyst"), "write") and not policy.may(who("USA", "analyst"), "review")
    assert policy.may(who("USA", "reviewer"), "review") and not policy.may(who("USA", "reviewer"), "write")
    assert policy.may(who("USA", "administrator"), "administer")
    assert not policy.may(who("USA", "administrator"), "write")
    assert policy.may(who("USA", "observer"), "read") and not policy.may(who("USA", "observer"), "write")
