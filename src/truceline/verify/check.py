"""Checks that an agreement can be verified at all: no silent pass on a broken agreement.

The loader already refuses malformed files; these are the checks verification relies on when
an :class:`Agreement` is built some other way (or the loader is lenient): valid polygons,
controlled areas and disengagement areas that do not overlap, known weapon classes in the
withdrawal rules, restricted zones that close something.
"""

from __future__ import annotations

import shapely

from truceline.agreement import Agreement
from truceline.model import WEAPON_CLASSES, AgreementError

__all__ = ["check_agreement"]

_OVERLAP_M2 = 1e6  # slivers from simplified boundaries are fine; a shared square kilometre is not


def check_agreement(agreement: Agreement) -> None:
    """Raise :class:`AgreementError` naming the first part that cannot be verified.

    >>> from truceline.agreement import default_agreement
    >>> check_agreement(default_agreement())
    """
    where = agreement.source or agreement.id
    parties = [p.id for p in agreement.parties]
    for party in parties:
        area = agreement.controlled_area(party, metric=True)
        if not shapely.is_valid(area):
            reason = shapely.is_valid_reason(area)
            raise AgreementError(where, f"controlled_areas.{party}", f"invalid polygon: {reason}")
    for i, a in enumerate(parties):
        for b in parties[i + 1 :]:
            area_a, area_b = (agreement.controlled_area(p, metric=True) for p in (a, b))
            shared = shapely.area(shapely.intersection(area_a, area_b))
            if shared > _OVERLAP_M2:
                raise AgreementError(
                    where, f"controlled_areas.{b}", f"overlaps the area {a} controls by {shared / 1e6:.3f} km²"
                )
    areas = agreement.disengagement_areas
    for i, da in enumerate(areas):
        if not shapely.is_valid(da.geometry_metric) or shapely.area(da.geometry_metric) <= 0:
            raise AgreementError(where, f"disengagement.areas.{da.id}", "not a valid polygon with an area")
        for other in areas[i + 1 :]:
            shared = shapely.area(shapely.intersection(da.geometry_metric, other.geometry_metric))
            if shared > _OVERLAP_M2:
                raise AgreementError(where, f"disengagement.areas.{other.id}", f"overlaps disengagement area {da.id}")
    for cls in agreement.withdrawal:
        if cls not in WEAPON_CLASSES:
            raise AgreementError(where, f"withdrawal.{cls}", f"unknown weapon class {cls!r}")
    for zone in agreement.restricted_zones:
        if not shapely.is_valid(zone.geometry_metric) or shapely.area(zone.geometry_metric) <= 0:
            raise AgreementError(where, f"restricted_zones.{zone.id}", "not a valid polygon with an area")
    for site in agreement.storage_sites:
        if not site.serials():
            raise AgreementError(where, f"storage_sites.{site.id}", "declares no serial numbers to verify")
