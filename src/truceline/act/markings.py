"""Markings of what act derives, and who an alert is addressed to.

A derived record may be seen only by those entitled to every record it rests on: its TLP is the
most restrictive of its sources', and under AMBER or stricter its audience is the intersection of
theirs. Addressing asks the policy layer, participant by participant, who may read the result, so
an alert never reaches a participant the markings exclude.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence

from truceline.model import Markings
from truceline.policy import TLP_LEVELS, Policy, PolicyContext, Principal

__all__ = ["addressees", "combine_markings"]

_RESTRICTED = frozenset({"amber", "amber+strict", "red"})


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
    if not sources:
        return Markings(tlp="green", originator=originator)
    tlp = max((m.tlp for m in sources), key=TLP_LEVELS.index)
    groups = {m.sharing_group for m in sources if m.sharing_group is not None}
    if len(groups) > 1:
        # Markings name one group; the members of both cannot be expressed without the registry,
        # so the record is kept to its issuer (AMBER+STRICT, nobody listed) rather than leak.
        return Markings(tlp="amber+strict", originator=originator, sharing_group=sorted(groups)[0])
    group = next(iter(groups), None)
    restricted = [m for m in sources if m.tlp in _RESTRICTED]
    if not restricted:
        return Markings(tlp=tlp, originator=originator, sharing_group=group)
    audiences = [{m.originator, *m.releasable_to} for m in restricted]
    audience = set.intersection(*audiences)
    # The issuer keeps the strictest source's originator: the mechanism itself may not be entitled.
    owner = restricted[0].originator if restricted[0].originator in audience else originator
    others = tuple(sorted(audience - {owner}))
    if tlp == "red" and not others:
        # TLP:RED needs named recipients; with none left only the owner may read it, which
        # AMBER+STRICT with an empty list says equally strictly.
        tlp = "amber+strict"
    return Markings(tlp=tlp, originator=owner, releasable_to=others, sharing_group=group)


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
