"""Small helpers shared by the stage's modules: markings of derived records, refs, agent name."""

from __future__ import annotations

from collections.abc import Iterable

from truceline.model import Markings, ObservationBase, ObservationRef

AGENT = "truceline.attribute"

_TLP_ORDER = {"clear": 0, "green": 1, "amber": 2, "amber+strict": 3, "red": 4}


def derived_markings(sources: Iterable[Markings]) -> Markings:
    """The markings of a record derived from records with ``sources`` markings: never less restrictive.

    The most restrictive TLP wins, with the originator of a source at that level; a release list
    is the intersection of the sources' lists (a reader must be entitled to every source), a
    sharing group survives only when all sources share it.

    >>> a = Markings(tlp="clear", originator="RUS")
    >>> b = Markings(tlp="amber", originator="USA", releasable_to=("GBR", "UKR"))
    >>> derived_markings([a, b])
    Markings(tlp='amber', originator='USA', releasable_to=('GBR', 'UKR'), sharing_group=None)
    """
    items = list(sources)
    if not items:
        raise ValueError("a derived record needs at least one source")
    top = max(items, key=lambda m: _TLP_ORDER[m.tlp])
    lists = [set(m.releasable_to) for m in items if m.releasable_to]
    release: tuple[str, ...] = ()
    if lists:
        common = set.intersection(*lists)
        release = tuple(sorted(common)) or (top.originator,)
    groups = {m.sharing_group for m in items}
    group = groups.pop() if len(groups) == 1 else None
    return Markings(tlp=top.tlp, originator=top.originator, releasable_to=release, sharing_group=group)


def ref_of(o: ObservationBase) -> ObservationRef:
    return ObservationRef(participant=o.participant, source=o.source, key=o.key)
