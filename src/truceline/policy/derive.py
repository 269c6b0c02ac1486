"""Markings of derived records: never less restrictive than any record they rest on.

Every stage derives records from others (fuse: incidents from reports; verify: findings from
reports and incidents; act: alerts from findings). One rule for all of them, here beside the rules
that read the markings, so that no stage widens what a source allowed:

* the TLP is the most restrictive of the sources';
* under AMBER or stricter, the audience is the *intersection* of the restricted sources' audiences
  (each source's originator plus its ``releasable_to``): a reader must be entitled to every one;
* a sharing group is kept; sources from two different groups cannot be expressed in one marking,
  so the record is kept to its issuer (AMBER+STRICT, nobody listed) rather than leak;
* TLP:RED needs named recipients; when the intersection leaves nobody but the owner, AMBER+STRICT
  with an empty list says the same just as strictly.
"""

from __future__ import annotations

from collections.abc import Iterable

from truceline.model import Markings
from truceline.policy.columns import TLP_LEVELS

__all__ = ["MECHANISM", "derived_markings"]

MECHANISM = "MVM"
"""The monitoring mechanism itself: the issuer of records derived from several participants' reports."""

_RESTRICTED = frozenset({"amber", "amber+strict", "red"})


def derived_markings(sources: Iterable[Markings], *, issuer: str = MECHANISM) -> Markings:
    """The markings of a record derived from ``sources`` and issued by ``issuer``.

    >>> a = Markings(tlp="green", originator="MVM")
    >>> b = Markings(tlp="amber", originator="USA", releasable_to=("GBR", "MVM"))
    >>> derived_markings([a, b]).model_dump(exclude_none=True)
    {'tlp': 'amber', 'originator': 'USA', 'releasable_to': ('GBR', 'MVM')}
    >>> red1 = Markings(tlp="red", originator="USA", releasable_to=("GBR",))
    >>> red2 = Markings(tlp="red", originator="FRA", releasable_to=("DEU",))
    >>> derived_markings([red1, red2]).model_dump(exclude_none=True)  # nobody is entitled to both
    {'tlp': 'amber+strict', 'originator': 'MVM', 'releasable_to': ()}
    >>> g1 = Markings(tlp="green", originator="USA", sharing_group="G1")
    >>> derived_markings([g1, a]).sharing_group
    'G1'
    """
    items = list(sources)
    if not items:
        return Markings(tlp="green", originator=issuer)
    tlp = max((m.tlp for m in items), key=TLP_LEVELS.index)
    originators = {m.originator for m in items}
    single = next(iter(originators)) if len(originators) == 1 else None
    groups = {m.sharing_group for m in items if m.sharing_group is not None}
    if len(groups) > 1:
        return Markings(tlp="amber+strict", originator=issuer, sharing_group=sorted(groups)[0])
    group = next(iter(groups), None)
    restricted = [m for m in items if m.tlp in _RESTRICTED]
    if not restricted:
        return Markings(tlp=tlp, originator=single or issuer, sharing_group=group)
    audience = set.intersection(*({m.originator, *m.releasable_to} for m in restricted))
    # The owner is a source's originator when it is entitled to every source; otherwise the issuer
    # holds the record and, with nobody else entitled, reads it alone.
    candidates = [m.originator for m in restricted if m.originator in audience]
    owner = single if single in audience else (candidates[0] if candidates else issuer)
    others = tuple(sorted(audience - {owner}))
    if tlp == "red" and not others:
        tlp = "amber+strict"
    return Markings(tlp=tlp, originator=owner, releasable_to=others, sharing_group=group)
