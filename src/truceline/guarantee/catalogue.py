"""The menu: what a guarantor can pledge, each capability with its unit of measure.

Each coalition member chooses its role and volume from this menu (intelligence only, supplies,
or troops on the ground). A capability's ``domain`` says whether its units secure the skies or
the seas (their range rings count towards :mod:`~truceline.guarantee.coverage`), and an
``equipment_class`` ties an equipment pledge to a category of Ukraine's force plan.

>>> cat = default_catalogue()
>>> cat["equipment.tank"].unit, cat["equipment.tank"].equipment_class
('vehicles', 'tank')
>>> sorted({c.category for c in cat})[:3]
['air_policing', 'cyber', 'equipment']
"""

from __future__ import annotations

import difflib
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from typing import Literal, get_args

__all__ = ["CATEGORIES", "Capability", "Catalogue", "Category", "Domain", "Measure", "default_catalogue"]

Category = Literal[
    "intelligence_surveillance",
    "air_policing",
    "maritime",
    "ground_forces",
    "training",
    "equipment",
    "financing",
    "medical",
    "cyber",
]
CATEGORIES: tuple[str, ...] = get_args(Category)

Domain = Literal["air", "sea", "none"]
Measure = Literal["count", "per_year", "per_month", "per_day", "money"]
"""How a quantity adds up: counts and money are totals, ``per_*`` are rates of supply."""


@dataclass(frozen=True, slots=True)
class Capability:
    """One item of the menu.

    ``range_km`` is the default radius a unit of this capability secures (a quick-reaction
    fighter's reach, a battery's engagement range, a ship's sensor and weapon reach); a unit may
    state its own.
    """

    id: str
    category: str
    name: str
    unit: str
    measure: Measure = "count"
    domain: Domain = "none"
    range_km: float = 0.0
    equipment_class: str | None = None
    description: str = ""


# Illustrative default ranges (public specifications, rounded): long-range air defence such as
# Patriot or SAMP/T engages aircraft at ~100 km; IRIS-T SLM / NASAMS at ~40 km; fighters on quick
# reaction alert reach ~300 km in the time that matters; a frigate's radar and missiles ~150 km;
# a maritime patrol aircraft's patrol radius is several hundred km.
_DEFAULT: tuple[Capability, ...] = (
    Capability("isr.uav_orbit", "intelligence_surveillance", "Persistent UAV surveillance orbit", "orbits"),
    Capability("isr.satellite_imagery", "intelligence_surveillance", "Satellite imagery tasking", "images/day",
               "per_day"),
    Capability("isr.aew_sorties", "intelligence_surveillance", "Airborne early-warning sorties", "sorties/month",
               "per_month"),
    Capability("isr.analysts", "intelligence_surveillance", "Analysts at the monitoring centre", "personnel"),
    Capability("air.fighters", "air_policing", "Fighter aircraft on air policing", "aircraft", domain="air",
               range_km=300.0),
    Capability("air.long_range_ad", "air_policing", "Long-range air-defence battery", "batteries", domain="air",
               range_km=100.0),
    Capability("air.medium_range_ad", "air_policing", "Medium-range air-defence system", "systems", domain="air",
               range_km=40.0),
    Capability("sea.frigate", "maritime", "Frigate or destroyer", "ships", domain="sea", range_km=150.0),
    Capability("sea.patrol_aircraft", "maritime", "Maritime patrol aircraft", "aircraft", domain="sea",
               range_km=400.0),
    Capability("sea.mcm_vessel", "maritime", "Mine-countermeasure vessel", "ships"),
    Capability("sea.demining_teams", "maritime", "Mine-clearance teams (littoral and land)", "teams"),
    Capability("ground.troops", "ground_forces", "Troops in the reassurance force", "personnel"),
    Capability("ground.enablers", "ground_forces", "Logistics, engineering and signals enablers", "personnel"),
    Capability("ground.headquarters", "ground_forces", "Headquarters staff", "personnel"),
    Capability("training.recruits", "training", "Recruits trained", "trainees/year", "per_year"),
    Capability("training.instructors", "training", "Instructors in Ukraine", "personnel"),
    Capability("equipment.tank", "equipment", "Main battle tanks", "vehicles", equipment_class="tank"),
    Capability("equipment.ifv", "equipment", "Infantry fighting vehicles", "vehicles", equipment_class="ifv"),
    Capability("equipment.apc", "equipment", "Armoured personnel carriers", "vehicles", equipment_class="apc"),
    Capability("equipment.artillery", "equipment", "Artillery of 100 mm and above", "guns",
               equipment_class="artillery"),
    Capability("equipment.mlrs", "equipment", "Multiple-launch rocket systems", "launchers", equipment_class="mlrs"),
    Capability("equipment.air_defence", "equipment", "Air-defence systems for Ukraine", "systems",
               equipment_class="air_defence"),
    Capability("equipment.fighter", "equipment", "Fighter aircraft for Ukraine", "aircraft",
               equipment_class="fighter"),
    Capability("equipment.uav", "equipment", "Long-range reconnaissance and strike drones", "drones",
               equipment_class="uav"),
    Capability("finance.budget_support", "financing", "Budget support for the armed forces", "EUR million/year",
               "per_year"),
    Capability("finance.procurement", "financing", "Procurement funding (buy for Ukraine)", "EUR million",
               "money"),
    Capability("medical.field_hospital", "medical", "Field hospital (Role 2)", "facilities"),
    Capability("medical.medevac", "medical", "Medical-evacuation aircraft", "aircraft"),
    Capability("cyber.defence_team", "cyber", "Cyber-defence team", "teams"),
)  # fmt: skip


class Catalogue:
    """A read-only set of capabilities, looked up by id; unknown ids get a "did you mean" hint."""

    def __init__(self, capabilities: Iterable[Capability]) -> None:
        self._by_id: dict[str, Capability] = {}
        for cap in capabilities:
            if cap.id in self._by_id:
                raise ValueError(f"capability {cap.id!r} is listed twice")
            if cap.category not in CATEGORIES:
                raise ValueError(f"capability {cap.id!r}: unknown category {cap.category!r}")
            self._by_id[cap.id] = cap

    def __getitem__(self, capability_id: str) -> Capability:
        try:
            return self._by_id[capability_id]
        except KeyError:
            raise KeyError(self.unknown(capability_id)) from None

    def __contains__(self, capability_id: object) -> bool:
        return capability_id in self._by_id

    def __iter__(self) -> Iterator[Capability]:
        return iter(self._by_id.values())

    def __len__(self) -> int:
        return len(self._by_id)

    def unknown(self, capability_id: str) -> str:
        """The message for an unknown capability id, with the closest known ones."""
        close = difflib.get_close_matches(capability_id, list(self._by_id), n=3, cutoff=0.6)
        hint = f"; did you mean {', '.join(repr(c) for c in close)}?" if close else ""
        return f"unknown capability {capability_id!r}{hint} (see the menu: truceline coalition menu)"

    def extended(self, extra: Iterable[Capability]) -> Catalogue:
        """This catalogue plus ``extra`` capabilities (a coalition file may add its own)."""
        return Catalogue([*self, *extra])


def default_catalogue() -> Catalogue:
    """The built-in menu (intelligence to cyber)."""
    return Catalogue(_DEFAULT)
