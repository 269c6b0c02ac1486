"""The agreement file format, version 1: pydantic models of the YAML document.

Every model forbids unknown fields, so a typo (``distnace_km``) is an error, not a silent default.
These models check shape and types only; references between parts (parties, zones, clauses) and
geometry are checked by the loader, which knows the file and the YAML line of each field.

A geometry is written in one of three ways::

    geometry: {type: Polygon, coordinates: [...]}          # inline GeoJSON (lon, lat)
    geometry: {file: sectors.geojson, feature: CL-01}       # a file beside the YAML (one feature of it)
    geometry: {buffer: {of: contact_line, distance_km: 30}} # a band around the contact line or a border
"""

from __future__ import annotations

from datetime import date
from typing import Annotated, Any, Literal

from pydantic import (
    BaseModel,
    ConfigDict,
    Discriminator,
    Field,
    StringConstraints,
    Tag,
    model_validator,
)

from truceline.model import ParticipantId, ParticipantKind, ParticipantRole, WeaponClass

FORMAT_VERSION = 1

Name = Annotated[str, StringConstraints(min_length=1, max_length=300)]
Text = Annotated[str, StringConstraints(max_length=10_000)]
Slug = Annotated[str, StringConstraints(pattern=r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$")]
PositiveKm = Annotated[float, Field(gt=0.0, le=5_000.0)]
NonNegativeKm = Annotated[float, Field(ge=0.0, le=5_000.0)]


class Spec(BaseModel):
    """Base of the file-format models: immutable, no unknown fields."""

    model_config = ConfigDict(extra="forbid", frozen=True)


class FileRef(Spec):
    """A GeoJSON file beside the agreement; ``feature`` picks one feature by its ``id``."""

    file: Annotated[str, StringConstraints(min_length=1, max_length=500)]
    feature: Slug | None = None


class BufferSpec(Spec):
    of: Annotated[str, StringConstraints(pattern=r"^(contact_line|border\.[A-Za-z0-9_-]+)$")]
    distance_km: PositiveKm


class BufferRef(Spec):
    """A band of ``distance_km`` around the contact line or a border (``border.<id>``)."""

    buffer: BufferSpec


class InlineGeometry(BaseModel):
    """An inline GeoJSON geometry, Feature or FeatureCollection; checked by shapely on load."""

    model_config = ConfigDict(extra="allow", frozen=True)

    type: Literal[
        "Point",
        "MultiPoint",
        "LineString",
        "MultiLineString",
        "Polygon",
        "MultiPolygon",
        "GeometryCollection",
        "Feature",
        "FeatureCollection",
    ]


def _geometry_kind(value: Any) -> str | None:
    if isinstance(value, dict):
        if "file" in value:
            return "<file>"
        if "buffer" in value:
            return "<buffer>"
        return "<inline>" if "type" in value else None
    if isinstance(value, BaseModel):
        return {FileRef: "<file>", BufferRef: "<buffer>"}.get(type(value), "<inline>")
    return None


GeometrySpec = Annotated[
    Annotated[FileRef, Tag("<file>")]
    | Annotated[BufferRef, Tag("<buffer>")]
    | Annotated[InlineGeometry, Tag("<inline>")],
    Discriminator(
        _geometry_kind,
        custom_error_type="geometry",
        custom_error_message="a geometry is inline GeoJSON (with 'type'), {file: ...} or {buffer: ...}",
    ),
]

LonLat = tuple[Annotated[float, Field(ge=-180.0, le=180.0)], Annotated[float, Field(ge=-90.0, le=90.0)]]


class ParticipantSpec(Spec):
    id: ParticipantId
    name: Name
    kind: ParticipantKind = "nation"
    roles: tuple[ParticipantRole, ...] = ()
    note: Text = ""


class ContactLineSpec(Spec):
    geometry: GeometrySpec
    source: Text = ""


class BorderSpec(Spec):
    """An international border monitored as an approach axis."""

    id: Slug
    name: Name
    neighbour: Name
    geometry: GeometrySpec


class WithdrawalRule(Spec):
    """How far a weapon class must stay from the contact line.

    Give ``distance_km`` (each side's own distance from the line) or ``zone_width_km`` (the
    total width of the weapon-free zone, of which each side pulls back half, as Minsk II words it).
    """

    distance_km: NonNegativeKm | None = None
    zone_width_km: NonNegativeKm | None = None
    text: Text = ""

    @model_validator(mode="after")
    def _one_measure(self) -> WithdrawalRule:
        if (self.distance_km is None) == (self.zone_width_km is None):
            raise ValueError("give exactly one of distance_km (per side) or zone_width_km (total)")
        return self

    @property
    def per_side_km(self) -> float:
        if self.distance_km is not None:
            return self.distance_km
        assert self.zone_width_km is not None
        return self.zone_width_km / 2.0


class DisengagementAreaSpec(Spec):
    id: Slug
    name: Name
    geometry: GeometrySpec
    text: Text = ""


class DisengagementSpec(Spec):
    quiet_days_required: Annotated[int, Field(ge=0, le=365)]
    areas: tuple[DisengagementAreaSpec, ...] = ()


class RestrictedZoneSpec(Spec):
    id: Slug
    kind: Literal["air", "sea"]
    name: Name
    geometry: GeometrySpec
    applies_to: tuple[Slug, ...] = Field(min_length=1)
    exempt: tuple[ParticipantId, ...] = ()
    max_altitude_m: Annotated[float, Field(gt=0.0)] | None = None
    text: Text = ""


class InventoryItemSpec(Spec):
    weapon_class: WeaponClass
    model: Name
    serials: tuple[Annotated[str, StringConstraints(min_length=1, max_length=64)], ...] = Field(min_length=1)


class StorageSiteSpec(Spec):
    id: Slug
    party: ParticipantId
    name: Name
    location: LonLat
    radius_m: Annotated[float, Field(gt=0.0, le=20_000.0)] = 500.0
    inventory: tuple[InventoryItemSpec, ...] = ()
    text: Text = ""


class CeilingSpec(Spec):
    troops: Annotated[int, Field(ge=0, le=10_000_000)] | None = None
    weapons: dict[WeaponClass, Annotated[int, Field(ge=0)]] = Field(default_factory=dict)
    text: Text = ""


class BasingSpec(Spec):
    oblasts: tuple[Annotated[str, StringConstraints(pattern=r"^UA-\d\d$")], ...] = ()
    geometry: GeometrySpec | None = None

    @model_validator(mode="after")
    def _one_source(self) -> BasingSpec:
        if bool(self.oblasts) == (self.geometry is not None):
            raise ValueError("give the basing area as oblasts (ISO 3166-2 codes) or as a geometry")
        return self


class ReassuranceSpec(Spec):
    min_distance_km: NonNegativeKm
    basing: BasingSpec
    contributors: tuple[ParticipantId, ...] = ()
    text: Text = ""


class SectorSpec(Spec):
    id: Slug
    name: Name
    geometry: GeometrySpec


class AxisSectorSpec(SectorSpec):
    border: Slug


class SectorsSpec(Spec):
    max_distance_km: PositiveKm
    contact_line: tuple[SectorSpec, ...] = Field(min_length=1)
    approach_axes: tuple[AxisSectorSpec, ...] = ()


EvidenceStatus = Literal["provisional", "confirmed"]
Response = Literal["consultation", "activation"]


class TriggerBase(Spec):
    id: Slug
    name: Name
    by: tuple[ParticipantId, ...] = Field(min_length=1)
    requires_status: EvidenceStatus = "confirmed"
    response: Response
    clause: Slug | None = None
    text: Text = ""


class LineCrossingTrigger(TriggerBase):
    """An organised force crosses the contact line or a border: at least one of the minima."""

    kind: Literal["line_crossing"]
    lines: tuple[
        Annotated[str, StringConstraints(pattern=r"^(contact_line|border\.[A-Za-z0-9_-]+)$")], ...
    ] = Field(min_length=1)
    min_personnel: Annotated[int, Field(ge=1)] | None = None
    min_armoured_vehicles: Annotated[int, Field(ge=1)] | None = None
    min_depth_km: NonNegativeKm = 0.0

    @model_validator(mode="after")
    def _some_minimum(self) -> LineCrossingTrigger:
        if self.min_personnel is None and self.min_armoured_vehicles is None:
            raise ValueError("give min_personnel or min_armoured_vehicles (or both)")
        return self


class StrikeCountTrigger(TriggerBase):
    """At least ``min_count`` verified strikes within ``window_hours``, optionally deep ones only."""

    kind: Literal["strike_count"]
    min_count: Annotated[int, Field(ge=1)]
    window_hours: Annotated[float, Field(gt=0.0, le=24.0 * 365)]
    weapon_classes: tuple[WeaponClass, ...] = ()
    min_depth_km: NonNegativeKm = 0.0
    per_sector: bool = False


class FindingCountTrigger(TriggerBase):
    """At least ``min_count`` findings under clauses starting with ``clause_prefix`` in a window."""

    kind: Literal["finding_count"]
    clause_prefix: Annotated[str, StringConstraints(min_length=1, max_length=100)]
    min_count: Annotated[int, Field(ge=1)]
    window_hours: Annotated[float, Field(gt=0.0, le=24.0 * 365)]
    per_sector: bool = False


class ZoneEntryTrigger(TriggerBase):
    """Military air or sea tracks entering restricted zones, at least ``min_count`` in a window."""

    kind: Literal["zone_entry"]
    zones: tuple[Slug, ...] = Field(min_length=1)
    min_count: Annotated[int, Field(ge=1)]
    window_hours: Annotated[float, Field(gt=0.0, le=24.0 * 365)]


TriggerSpec = Annotated[
    LineCrossingTrigger | StrikeCountTrigger | FindingCountTrigger | ZoneEntryTrigger,
    Field(discriminator="kind"),
]


class AgreementSpec(Spec):
    """The whole agreement document (``format_version: 1``)."""

    format_version: Literal[1]
    id: Slug
    version: Annotated[str, StringConstraints(min_length=1, max_length=64)]
    title: Name
    effective: date
    description: Text = ""
    participants: tuple[ParticipantSpec, ...] = Field(min_length=2)
    parties: tuple[ParticipantId, ParticipantId]
    clauses: dict[Slug, Text] = Field(default_factory=dict)
    contact_line: ContactLineSpec
    borders: tuple[BorderSpec, ...] = ()
    controlled_areas: dict[ParticipantId, GeometrySpec]
    oblasts: GeometrySpec | None = None
    withdrawal: dict[WeaponClass, WithdrawalRule] = Field(default_factory=dict)
    disengagement: DisengagementSpec
    restricted_zones: tuple[RestrictedZoneSpec, ...] = ()
    storage_sites: tuple[StorageSiteSpec, ...] = ()
    ceilings: dict[ParticipantId, CeilingSpec] = Field(default_factory=dict)
    reassurance_force: ReassuranceSpec
    sectors: SectorsSpec
    triggers: tuple[TriggerSpec, ...] = ()


def field_names() -> frozenset[str]:
    """Every field name used anywhere in the format (for "did you mean" hints on typos)."""
    models: list[type[BaseModel]] = [
        AgreementSpec, ParticipantSpec, ContactLineSpec, BorderSpec, WithdrawalRule, DisengagementSpec,
        DisengagementAreaSpec, RestrictedZoneSpec, InventoryItemSpec, StorageSiteSpec, CeilingSpec,
        BasingSpec, ReassuranceSpec, SectorSpec, AxisSectorSpec, SectorsSpec, LineCrossingTrigger,
        StrikeCountTrigger, FindingCountTrigger, ZoneEntryTrigger, FileRef, BufferRef, BufferSpec,
    ]  # fmt: skip
    return frozenset(name for m in models for name in m.model_fields)
