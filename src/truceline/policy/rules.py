"""The decisions themselves, for one record at a time: who may read it, and where it may go.

Every other read shape (lists, counts, exports, field redaction) is built from these two
predicates or, for arrays, from their vectorised twin in :mod:`truceline.policy.columns`, which a
test holds equal to them.

The rules (TLP 2.0 by FIRST, with the mechanism's participants as the "community"):

========================  ==============================================  =========================
level                     who may read                                    may go onward to
========================  ==============================================  =========================
``clear``                 any authenticated principal                     anyone
``green``                 any participant of the mechanism                any participant
``amber``                 the originator and the participants listed in   any entitled participant
                          ``releasable_to`` (empty list: originator only)
``amber+strict``          as ``amber``                                    the reader's own server
``red``                   the originator and the named recipients         the reader's own server
========================  ==============================================  =========================

A ``sharing_group`` on the markings additionally requires the reader to act in that group, at
every level including ``clear``. Above ``clear`` the reader must be a current participant, even
the originator: removing a participant from the agreement is the one switch that revokes it.
"""

from __future__ import annotations

from collections.abc import Set

from truceline.model import Markings
from truceline.policy.principals import PolicyContext, Principal

# Levels whose records a recipient may never pass on: AMBER+STRICT by definition, and RED because
# it is stricter still ("no further disclosure") and must not be more shareable than AMBER+STRICT.
NOT_ONWARD: frozenset[str] = frozenset({"amber+strict", "red"})


def participant_sees(context: PolicyContext, participant: str, groups: Set[str], markings: Markings) -> bool:
    """Whether ``participant``, acting in ``groups`` (already confirmed), may read a record."""
    if markings.sharing_group is not None and markings.sharing_group not in groups:
        return False
    if markings.tlp == "clear":
        return True
    if not context.is_participant(participant):
        return False
    if markings.tlp == "green":
        return True
    if markings.tlp in ("amber", "amber+strict", "red"):
        return participant == markings.originator or participant in markings.releasable_to
    return False  # an unknown level is refused, never guessed at


def visible(context: PolicyContext, principal: Principal, markings: Markings) -> bool:
    """Whether ``principal`` may read a record with ``markings``.

    >>> ctx = PolicyContext(participants=("UKR", "USA", "GBR"))
    >>> m = Markings(tlp="amber", originator="USA", releasable_to=("UKR",))
    >>> [visible(ctx, Principal(participant=p), m) for p in ("USA", "UKR", "GBR")]
    [True, True, False]
    """
    return participant_sees(context, principal.participant, context.acting_groups(principal), markings)


def may_export(context: PolicyContext, principal: Principal, markings: Markings, destination: str) -> bool:
    """Whether ``principal`` may send a record with ``markings`` to ``destination``'s server.

    Three things must hold: the requester may read it; the destination, as a participant with the
    group memberships the context records for it, may read it; and an AMBER+STRICT or RED record
    goes nowhere but the requester's own server.

    >>> ctx = PolicyContext(participants=("UKR", "USA"))
    >>> strict = Markings(tlp="amber+strict", originator="USA", releasable_to=("UKR",))
    >>> usa = Principal(participant="USA")
    >>> may_export(ctx, usa, strict, "UKR"), may_export(ctx, usa, strict, "USA")
    (False, True)
    """
    if not visible(context, principal, markings):
        return False
    if markings.tlp in NOT_ONWARD and destination != principal.participant:
        return False
    return participant_sees(context, destination, context.memberships(destination), markings)
