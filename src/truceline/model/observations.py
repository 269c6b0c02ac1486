"""Observation kinds: what sensors, patrols, inspectors and parties report.

Every observation carries the same envelope — kind, idempotency key, reporting participant, source
and its reliability, credibility, time with its error, location with its error ellipse, markings —
plus the fields of its kind. The triple (participant, source, key) identifies a report for ever:
sending it again changes nothing.

Observations carry only what a real sensor or reporter would report; nothing here is "truth".
"""

from __future__ import annotations

from typing import Annotated, Literal, TypeAlias

from pydantic import Field, StringConstraints, TypeAdapter, model_validator

from truceline.model.common import (
    Credibility,
    Identifier,
    Location,
    Markings,
    ParticipantId,
    Probability,
    Record,
    Reliability,
    Text,
    Timestamp,
    WeaponClass,
)

Bearing = Annotated[float, Field(ge=0.0, lt=360.0)]
NonNegative = Annotated[float, Field(ge=0.0)]
Count = Annotated[int, Field(ge=0, le=10_000_000)]
Serial = Annotated[str, StringConstraints(min_length=1, max_length=64, pattern=r"^[^\x00-\x1f\x7f]+$")]


class ObservationBase(Record):
    """The envelope shared by every observation kind."""

    key: Identifier
    participant: ParticipantId
    source: Identifier
    reliability: Reliability = "F"
    credibility: Credibility = 6
    time: Timestamp
    time_error_s: Annotated[float, Field(ge=0.0, le=31_536_000.0)] = 0.0
    location: Location
    markings: Markings

    @property
    def dedup_key(self) -> tuple[str, str, str]:
        """The permanent identity of this report: (participant, source, key)."""
        return (self.participant, self.source, self.key)


class AcousticArrival(ObservationBase):
    """An acoustic array's pick of a blast; ``time`` is the GPS-timed arrival, ``location`` the sensor."""

    kind: Literal["acoustic_arrival"] = "acoustic_arrival"
    bearing_deg: Bearing | None = None
    bearing_error_deg: Annotated[float, Field(gt=0.0, le=180.0)] | None = None
    snr_db: Annotated[float, Field(ge=-50.0, le=200.0)] | None = None
    phase: Literal["blast", "muzzle", "impact", "unknown"] = "unknown"


class RadarTrack(ObservationBase):
    """A counter-battery radar track: extrapolated point of origin and of impact with covariances.

    ``location`` is the radar; ``time`` the time of launch.
    """

    kind: Literal["radar_track"] = "radar_track"
    origin: Location
    impact: Location | None = None
    weapon_class_guess: WeaponClass | None = None
    projectile: Literal["shell", "rocket", "mortar_bomb", "missile", "unknown"] = "unknown"


ImageryClass = Literal[
    "artillery",
    "mlrs",
    "heavy_mlrs_missile",
    "tank",
    "mortar",
    "armoured_vehicle",
    "truck",
    "air_defence",
    "fuel_depot",
    "ammunition_depot",
    "field_hospital",
    "bridging_equipment",
    "engineering_vehicle",
    "crater",
    "trench",
    "other",
]


class ImageryDetection(ObservationBase):
    """An object found on an image; ``location`` is the object's centre."""

    kind: Literal["imagery_detection"] = "imagery_detection"
    object_class: ImageryClass
    count: Count = 1
    class_confidence: Probability = 1.0
    pass_id: Identifier
    footprint_m2: NonNegative | None = None
    cloud_cover: Probability | None = None


class PatrolReport(ObservationBase):
    """An observer's log entry, as the OSCE mission kept them: counts and rough bearing/distance.

    ``location`` is the observer; ``time`` the start of the period, ``duration_s`` its length.
    """

    kind: Literal["patrol_report"] = "patrol_report"
    explosions: Count = 0
    bursts: Count = 0
    shots: Count = 0
    duration_s: Annotated[float, Field(ge=0.0, le=86_400.0)] = 0.0
    bearing_deg: Bearing | None = None
    bearing_error_deg: Annotated[float, Field(gt=0.0, le=180.0)] | None = None
    distance_m: NonNegative | None = None
    distance_error_m: NonNegative | None = None
    direction: Literal["outgoing", "incoming", "undetermined"] = "undetermined"
    weapon_class_guess: WeaponClass | None = None
    impact_bearing_deg: Bearing | None = None
    note: Text = ""

    @model_validator(mode="after")
    def _something_seen(self) -> PatrolReport:
        if self.explosions + self.bursts + self.shots == 0 and not self.note:
            raise ValueError("a patrol report needs explosions, bursts or shots, or a note")
        return self


class UAVSighting(ObservationBase):
    """What a monitoring UAV saw; ``location`` is the object on the ground."""

    kind: Literal["uav_sighting"] = "uav_sighting"
    object_class: ImageryClass
    count: Count = 1
    flight_id: Identifier | None = None


class WeaponSighting(ObservationBase):
    """Heavy weapons seen in place by a patrol, with the serial numbers read where possible."""

    kind: Literal["weapon_sighting"] = "weapon_sighting"
    weapon_class: WeaponClass
    count: Annotated[int, Field(ge=1, le=100_000)] = 1
    serials: tuple[Serial, ...] = ()
    observed_side: Identifier | None = None

    @model_validator(mode="after")
    def _serials_fit_count(self) -> WeaponSighting:
        if len(self.serials) > self.count:
            raise ValueError("more serials than weapons counted")
        if len(set(self.serials)) != len(self.serials):
            raise ValueError("a serial number is listed twice")
        return self


class StorageSiteVisit(ObservationBase):
    """An inspection of a declared storage site, serial by serial."""

    kind: Literal["storage_visit"] = "storage_visit"
    site_id: Identifier
    access_granted: bool = True
    serials_present: tuple[Serial, ...] = ()
    serials_missing: tuple[Serial, ...] = ()

    @model_validator(mode="after")
    def _disjoint(self) -> StorageSiteVisit:
        if set(self.serials_present) & set(self.serials_missing):
            raise ValueError("a serial is both present and missing")
        return self


class MovementDenial(ObservationBase):
    """Monitors refused passage; ``location`` is where they were stopped."""

    kind: Literal["movement_denial"] = "movement_denial"
    denied_by: ParticipantId
    intended_destination: Location | None = None
    reason_given: Text = ""


class AirTrack(ObservationBase):
    """One plot of an air track; ``location`` is the aircraft's position."""

    kind: Literal["air_track"] = "air_track"
    track_id: Identifier
    altitude_m: Annotated[float, Field(ge=-500.0, le=40_000.0)] | None = None
    speed_mps: Annotated[float, Field(ge=0.0, le=3_000.0)] | None = None
    heading_deg: Bearing | None = None
    military: bool = True
    aircraft_class: Literal["fighter", "bomber", "helicopter", "uav", "transport", "missile", "unknown"] = (
        "unknown"
    )
    identified_side: ParticipantId | None = None


class SeaTrack(ObservationBase):
    """One plot of a sea track; ``location`` is the vessel's position."""

    kind: Literal["sea_track"] = "sea_track"
    track_id: Identifier
    speed_mps: Annotated[float, Field(ge=0.0, le=100.0)] | None = None
    heading_deg: Bearing | None = None
    military: bool = True
    vessel_class: Literal["warship", "submarine", "patrol", "landing", "auxiliary", "merchant", "unknown"] = (
        "unknown"
    )
    identified_side: ParticipantId | None = None


class MetObservation(ObservationBase):
    """Surface weather at a station: needed for the speed of sound and wind correction."""

    kind: Literal["met_observation"] = "met_observation"
    temperature_c: Annotated[float, Field(ge=-60.0, le=60.0)]
    wind_speed_mps: Annotated[float, Field(ge=0.0, le=80.0)] = 0.0
    wind_from_deg: Bearing = 0.0
    relative_humidity: Probability | None = None
    pressure_hpa: Annotated[float, Field(ge=800.0, le=1_100.0)] | None = None


class MediaRef(Record):
    """A file attached to a claim: where it is, its digest, and its type."""

    uri: Annotated[str, StringConstraints(min_length=1, max_length=2_000)]
    sha256: Annotated[str, StringConstraints(pattern=r"^[0-9a-f]{64}$")] | None = None
    media_type: Annotated[str, StringConstraints(max_length=100)] = "application/octet-stream"


ClaimKind = Literal[
    "shelling", "rocket_attack", "drone_strike", "sniper_fire", "incursion", "sabotage", "air_strike", "other"
]


class Claim(ObservationBase):
    """A party's statement accusing someone of something at a place and time.

    ``location`` may be omitted when the claim names a place (``place_name``), which the
    attribution stage resolves with the gazetteer; ``time`` is the time of the statement and
    ``claimed_time`` the time of the alleged act.
    """

    kind: Literal["claim"] = "claim"
    location: Location | None = None  # type: ignore[assignment]
    claimant: ParticipantId
    accused: ParticipantId
    claim_kind: ClaimKind
    claimed_time: Timestamp
    place_name: Annotated[str, StringConstraints(max_length=200)] | None = None
    weapon_class: WeaponClass | None = None
    casualties: Count | None = None
    media: tuple[MediaRef, ...] = ()
    text: Text = ""

    @model_validator(mode="after")
    def _placed(self) -> Claim:
        if self.location is None and not self.place_name:
            raise ValueError("a claim needs a location or a place_name")
        if self.claimant == self.accused:
            raise ValueError("claimant and accused are the same party")
        return self


class ForceDeclaration(ObservationBase):
    """A party's declaration of its troop strength and weapon holdings on a date."""

    kind: Literal["force_declaration"] = "force_declaration"
    location: Location | None = None  # type: ignore[assignment]
    declaring_party: ParticipantId
    troop_strength: Annotated[int, Field(ge=0, le=10_000_000)] | None = None
    weapons: dict[WeaponClass, Count] = Field(default_factory=dict)

    @model_validator(mode="after")
    def _declares_something(self) -> ForceDeclaration:
        if self.troop_strength is None and not self.weapons:
            raise ValueError("a declaration needs troop_strength or weapons")
        return self


Observation: TypeAlias = Annotated[
    AcousticArrival
    | RadarTrack
    | ImageryDetection
    | PatrolReport
    | UAVSighting
    | WeaponSighting
    | StorageSiteVisit
    | MovementDenial
    | AirTrack
    | SeaTrack
    | MetObservation
    | Claim
    | ForceDeclaration,
    Field(discriminator="kind"),
]
"""Any observation; the ``kind`` field selects the model."""

OBSERVATION_TYPES: dict[str, type[ObservationBase]] = {
    cls.model_fields["kind"].default: cls
    for cls in (
        AcousticArrival,
        RadarTrack,
        ImageryDetection,
        PatrolReport,
        UAVSighting,
        WeaponSighting,
        StorageSiteVisit,
        MovementDenial,
        AirTrack,
        SeaTrack,
        MetObservation,
        Claim,
        ForceDeclaration,
    )
}
OBSERVATION_KINDS: tuple[str, ...] = tuple(OBSERVATION_TYPES)

observation_adapter: TypeAdapter[Observation] = TypeAdapter(Observation)
"""Validates any observation from JSON (``validate_json``) or Python objects (``validate_python``)."""
