"""Value types shared by every record: time, location with its error ellipse, markings, sources.

Values carry their uncertainty beside them (a location has an error ellipse, a time its error in
seconds) so that code downstream can read it instead of guessing.
"""

from __future__ import annotations

import math
from datetime import datetime
from typing import Annotated, Any, Literal

from pydantic import (
    AwareDatetime,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    StringConstraints,
    model_validator,
)


class Record(BaseModel):
    """Base of every Truceline record: immutable, strictly typed, no unknown fields.

    A change to a record is a new record (or a new version of it), never an edit in place.
    """

    model_config = ConfigDict(
        frozen=True,
        strict=True,
        extra="forbid",
        allow_inf_nan=False,
        validate_default=False,
        ser_json_timedelta="float",
    )


def _parse_time(value: Any) -> Any:
    # A bare number is ambiguous (seconds? milliseconds? since when?) and pydantic's lax mode
    # would happily read it as epoch seconds, so we refuse it outright. Strings are parsed here
    # (ISO 8601, as Python 3.11 reads it) so that strict validation sees a datetime.
    if isinstance(value, bool | int | float):
        raise ValueError("a time must be an ISO 8601 string with a UTC offset, not a bare number")
    if isinstance(value, str):
        stripped = value.strip()
        try:
            float(stripped)
        except ValueError:
            pass
        else:
            raise ValueError("a time must be an ISO 8601 string with a UTC offset, not a bare number")
        try:
            parsed = datetime.fromisoformat(stripped)
        except ValueError:
            raise ValueError(f"not an ISO 8601 time: {stripped[:40]!r}") from None
        if parsed.tzinfo is None:
            raise ValueError("a time needs a UTC offset, e.g. 2026-03-01T04:05:06Z")
        return parsed
    return value


Timestamp = Annotated[AwareDatetime, BeforeValidator(_parse_time)]
"""An instant: ISO 8601 with a UTC offset; bare numbers and naive times are rejected."""

ParticipantId = Annotated[str, StringConstraints(pattern=r"^[A-Z][A-Z0-9_-]{1,15}$")]
"""A participant code: ISO 3166 alpha-3 for nations (``UKR``, ``USA``), short codes for bodies."""

Identifier = Annotated[str, StringConstraints(min_length=1, max_length=200, pattern=r"^[^\x00-\x1f\x7f]+$")]
"""A printable identifier (source ids, idempotency keys, site ids)."""

Text = Annotated[str, StringConstraints(max_length=20_000)]

Reliability = Literal["A", "B", "C", "D", "E", "F"]
"""Admiralty source reliability: A completely reliable … E unreliable, F cannot be judged."""

Credibility = Annotated[int, Field(ge=1, le=6)]
"""Admiralty information credibility: 1 confirmed … 5 improbable, 6 cannot be judged."""

Probability = Annotated[float, Field(ge=0.0, le=1.0)]

TLP = Literal["clear", "green", "amber", "amber+strict", "red"]
"""Traffic Light Protocol 2.0 levels (FIRST, 2022)."""

WeaponClass = Literal[
    "artillery_ge100",  # tube artillery of calibre 100 mm and above
    "artillery_lt100",  # tube artillery below 100 mm
    "mlrs",  # multiple-launch rocket systems up to 220 mm (Grad, Uragan)
    "heavy_mlrs_missile",  # heavy MLRS (Smerch, Tornado-S, HIMARS) and tactical missiles
    "tank",
    "mortar",
    "anti_tank_gun",
    "air_defence",
    "armoured_vehicle",
    "small_arms",
    "unknown",
]
WEAPON_CLASSES: tuple[str, ...] = WeaponClass.__args__  # type: ignore[attr-defined]


class ErrorEllipse(Record):
    """A horizontal error ellipse in metres at a stated confidence (95 % unless said otherwise).

    ``orientation_deg`` is the azimuth of the semi-major axis, clockwise from north, in [0, 180).
    """

    semi_major_m: Annotated[float, Field(ge=0.0, le=5_000_000.0)]
    semi_minor_m: Annotated[float, Field(ge=0.0, le=5_000_000.0)]
    orientation_deg: Annotated[float, Field(ge=0.0, lt=180.0)] = 0.0
    confidence: Annotated[float, Field(gt=0.0, lt=1.0)] = 0.95

    @model_validator(mode="after")
    def _axes_ordered(self) -> ErrorEllipse:
        if self.semi_minor_m > self.semi_major_m:
            raise ValueError("semi_minor_m must not exceed semi_major_m")
        return self

    @staticmethod
    def _chi2_scale(confidence: float) -> float:
        # For a bivariate normal the squared Mahalanobis radius of the p-ellipse is -2 ln(1 - p).
        return math.sqrt(-2.0 * math.log(1.0 - confidence))

    def covariance(self) -> tuple[tuple[float, float], tuple[float, float]]:
        """The 2×2 covariance in metres² in (east, north) coordinates.

        >>> round(ErrorEllipse(semi_major_m=2.4477, semi_minor_m=2.4477).covariance()[0][0], 4)
        1.0
        """
        k = self._chi2_scale(self.confidence)
        a, b = self.semi_major_m / k, self.semi_minor_m / k
        theta = math.radians(self.orientation_deg)
        # Major-axis unit vector in (east, north) for an azimuth measured from north.
        ue, un = math.sin(theta), math.cos(theta)
        ve, vn = un, -ue
        cee = a * a * ue * ue + b * b * ve * ve
        cnn = a * a * un * un + b * b * vn * vn
        cen = a * a * ue * un + b * b * ve * vn
        return ((cee, cen), (cen, cnn))

    @classmethod
    def from_covariance(cls, cee: float, cen: float, cnn: float, confidence: float = 0.95) -> ErrorEllipse:
        """The ellipse of a 2×2 (east, north) covariance at ``confidence``."""
        tr = cee + cnn
        det_term = math.sqrt(max(((cee - cnn) / 2.0) ** 2 + cen * cen, 0.0))
        l1 = max(tr / 2.0 + det_term, 0.0)
        l2 = max(tr / 2.0 - det_term, 0.0)
        # Eigenvector of l1: angle from east is 0.5*atan2(2cen, cee-cnn); convert to azimuth.
        angle_from_east = 0.5 * math.atan2(2.0 * cen, cee - cnn)
        azimuth = (90.0 - math.degrees(angle_from_east)) % 180.0
        k = cls._chi2_scale(confidence)
        return cls(
            semi_major_m=k * math.sqrt(l1),
            semi_minor_m=min(k * math.sqrt(l2), k * math.sqrt(l1)),
            orientation_deg=azimuth if azimuth < 180.0 else 0.0,
            confidence=confidence,
        )


class Location(Record):
    """A WGS84 position with its horizontal error ellipse."""

    lat: Annotated[float, Field(ge=-90.0, le=90.0)]
    lon: Annotated[float, Field(ge=-180.0, le=180.0)]
    alt_m: Annotated[float, Field(ge=-500.0, le=100_000.0)] | None = None
    error: ErrorEllipse


class Markings(Record):
    """Who may see a record: TLP 2.0 level, releasability, originator, optional sharing group.

    Markings are set when a record is created and travel with it; they are never added later.
    """

    tlp: TLP
    originator: ParticipantId
    releasable_to: tuple[ParticipantId, ...] = ()
    sharing_group: Identifier | None = None

    @model_validator(mode="after")
    def _red_is_named(self) -> Markings:
        # TLP:RED is for named recipients only: without a list nobody but the originator may read.
        if self.tlp == "red" and not self.releasable_to:
            raise ValueError("TLP:RED needs releasable_to naming its recipients")
        if len(set(self.releasable_to)) != len(self.releasable_to):
            raise ValueError("releasable_to lists a participant twice")
        return self


ParticipantKind = Literal["nation", "organisation"]
ParticipantRole = Literal["party", "guarantor", "monitor", "coalition", "observer", "mediator"]


class Participant(Record):
    """A nation or organisation taking part in the mechanism, with its roles."""

    id: ParticipantId
    name: Annotated[str, StringConstraints(min_length=1, max_length=200)]
    kind: ParticipantKind = "nation"
    roles: tuple[ParticipantRole, ...] = ()


SourceKind = Literal[
    "acoustic_sensor",
    "radar",
    "imagery",
    "patrol",
    "uav",
    "inspection_team",
    "weather_station",
    "air_surveillance",
    "sea_surveillance",
    "party_statement",
    "outlet",
    "unit",
    "other",
]


class Source(Record):
    """A sensor, unit or outlet that reports, with its Admiralty reliability grade."""

    id: Identifier
    participant: ParticipantId
    kind: SourceKind
    reliability: Reliability = "F"
    location: Location | None = None
    description: Text = ""


CreationMode = Literal["automatic", "manual"]
EvaluationStatus = Literal["preliminary", "reviewed", "final", "rejected"]
"""Review state of a derived record: preliminary → reviewed → final, or rejected."""


class CreationInfo(Record):
    """Who or what made a record, when, and whether by machine or by hand."""

    agent: Identifier
    created: Timestamp
    mode: CreationMode = "automatic"
    participant: ParticipantId | None = None
    version: Identifier | None = None
    note: Text = ""
