"""Markings of what act derives, and who an alert is addressed to.

A derived record may be seen only by those entitled to every record it rests on: its TLP is the
most restrictive of its sources', and under AMBER or stricter its audience is the intersection of
theirs. Addressing asks the policy layer, participant by participant, who may read the result, so
an alert never reaches a participant the markings exclude.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence

from truceline.model import Markings
from truceline.policy import Policy, PolicyContext, Principal, derived_markings

__all__ = ["addressees", "combine_markings"]


def combine_markings(sources: Sequence[Markings], *, originator: str) -> Markings:
    """The markings of a record derived from ``sources`` and issued by ``originator``.

    >>> a = Markings(tlp="amber", originator="USA", releasable_to=("UKR", "GBR"))
    >>> b = Markings(tlp="green", originator="GBR")
    >>> combine_markings([a, b], originator="MVM")
    Markings(tlp='amber', originator='USA', releasable_to=('GBR', 'UKR'), sharing_group=None)
    >>> combine_markings([b], originator="MVM").tlp
    'green'
    >>> g1, g2 = (Markings(tlp="green", originator="USA", sharing_group=g) for g in ("G1", "G2"))
    >>> combine_markings([g1, g2], originator="MVM").tlp
    'amber+strict'
    """
    return derived_markings(sources, issuer=originator)


def addressees(context: PolicyContext, markings: Markings, candidates: Iterable[str] | None = None) -> tuple[str, ...]:
    """The participants (of ``candidates``, default all) the policy lets read a record with ``markings``.

    >>> ctx = PolicyContext(participants=("UKR", "USA", "GBR"))
    >>> addressees(ctx, Markings(tlp="amber", originator="USA", releasable_to=("UKR",)))
    ('UKR', 'USA')
    """
    policy = Policy(context)
    pool = context.participants if candidates is None else tuple(candidates)
    out = []
    for participant in pool:
        principal = Principal(participant=participant, sharing_groups=tuple(sorted(context.memberships(participant))))
        if policy.visible(principal, markings):
            out.append(participant)
    return tuple(sorted(set(out)))
