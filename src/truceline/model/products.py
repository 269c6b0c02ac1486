"""Derived records: what the stages make of observations.

Following seismology's habit (obspy's Event/Origin), a derived record keeps *competing* solutions,
each with its creation info and review status, and a pointer to the preferred one. Nothing is
overwritten: a reviewer adds a better solution or a new version of the record.
"""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import Field, StringConstraints, model_validator

from truceline.model.common import (
    CreationInfo,
    EvaluationStatus,
    Identifier,
    Location,
    Markings,
    ParticipantId,
    Probability,
    Record,
    Text,
    Timestamp,
    WeaponClass,
)


class ObservationRef(Record):
    """Points at one stored observation by its permanent identity."""

    participant: ParticipantId
    source: Identifier
    key: Identifier


class Origin(Record):
    """One solution for where and when something happened, with its uncertainty and maker."""

    id: Identifier
    location: Location
    time: Timestamp
    time_error_s: Annotated[float, Field(ge=0.0)] = 0.0
    method: Identifier
    n_observations: Annotated[int, Field(ge=0)] = 0
    rms_residual: Annotated[float, Field(ge=0.0)] | None = None
    creation_info: CreationInfo
    evaluation_status: EvaluationStatus = "preliminary"


class Evidence(Record):
    """One piece of evidence behind a judgement and what it contributed.

    ``weight`` is the evidence's log-likelihood ratio (natural log) toward the judgement where
    that is meaningful; ``refs`` point at the observations or records it rests on.
    """

    kind: Identifier
    description: Text
    weight: float | None = None
    refs: tuple[ObservationRef, ...] = ()


class Attribution(Record):
    """Which side most likely acted, as a probability per party, with the evidence."""

    id: Identifier
    probabilities: dict[ParticipantId, Probability]
    evidence: tuple[Evidence, ...] = ()
    creation_info: CreationInfo
    evaluation_status: EvaluationStatus = "preliminary"

    @model_validator(mode="after")
    def _sums_to_one(self) -> Attribution:
        total = sum(self.probabilities.values())
        if self.probabilities and abs(total - 1.0) > 1e-6:
            raise ValueError(f"probabilities sum to {total:.6f}, not 1")
        return self


IncidentKind = Literal["fire", "incursion", "air", "sea", "staging", "other"]


class Incident(Record):
    """A real-world event made of one or more observations, with competing origins."""

    id: Identifier
    kind: IncidentKind = "fire"
    start: Timestamp
    end: Timestamp
    observations: tuple[ObservationRef, ...]
    origins: tuple[Origin, ...] = ()
    preferred_origin_id: Identifier | None = None
    impacts: tuple[Location, ...] = ()
    attributions: tuple[Attribution, ...] = ()
    preferred_attribution_id: Identifier | None = None
    weapon_class: WeaponClass | None = None
    sector: Identifier | None = None
    markings: Markings
    creation_info: CreationInfo
    evaluation_status: EvaluationStatus = "preliminary"

    @model_validator(mode="after")
    def _consistent(self) -> Incident:
        if self.end < self.start:
            raise ValueError("end is before start")
        if self.preferred_origin_id is not None and self.preferred_origin_id not in {
            o.id for o in self.origins
        }:
            raise ValueError("preferred_origin_id names no origin of this incident")
        if self.preferred_attribution_id is not None and self.preferred_attribution_id not in {
            a.id for a in self.attributions
        }:
            raise ValueError("preferred_attribution_id names no attribution of this incident")
        return self

    @property
    def preferred_origin(self) -> Origin | None:
        for origin in self.origins:
            if origin.id == self.preferred_origin_id:
                return origin
        return self.origins[-1] if self.origins else None


FindingStatus = Literal["provisional", "confirmed", "disputed", "closed"]


class Finding(Record):
    """A breach (or possible breach) of one clause of the agreement, with its evidence."""

    id: Identifier
    clause_id: Identifier
    clause_text: Text
    side: ParticipantId | None = None
    confidence: Probability
    evidence: tuple[Evidence, ...] = ()
    incidents: tuple[Identifier, ...] = ()
    location: Location | None = None
    sector: Identifier | None = None
    first_seen: Timestamp
    last_seen: Timestamp
    status: FindingStatus = "provisional"
    markings: Markings
    creation_info: CreationInfo


WarningLevel = Annotated[int, Field(ge=1, le=5)]


class Driver(Record):
    """Something that moved a warning, and by how much."""

    indicator: Identifier
    value: float
    baseline: float | None = None
    contribution: float
    description: Text = ""


NonNegative = Annotated[float, Field(ge=0.0)]


class Assessment(Record):
    """A sector's escalation and warning assessment for a day.

    The escalation fields describe the bivariate Hawkes fit of the sector's fire over the window
    ending with the day (type 0 is fire attributed to Ukraine, type 1 to Russia): the branching
    ratio (shots per shot, all generations) with its standard error, and the retaliation terms —
    ``retaliation_ukr`` = α_01, Ukrainian shots one Russian shot triggers (UKR answering RUS), and
    ``retaliation_rus`` = α_10 (RUS answering UKR) — with theirs. All are ``None`` when no fit was
    made (and in records stored before these fields existed); a standard error is ``None`` when it
    is not finite (an estimate on its bound).
    """

    id: Identifier
    sector: Identifier
    day: Annotated[str, StringConstraints(pattern=r"^\d{4}-\d{2}-\d{2}$")]
    warning_level: WarningLevel
    p_offensive_7d: Probability
    p_offensive_14d: Probability
    branching_ratio: NonNegative | None = None
    branching_ratio_se: NonNegative | None = None
    retaliation_ukr: NonNegative | None = None
    retaliation_ukr_se: NonNegative | None = None
    retaliation_rus: NonNegative | None = None
    retaliation_rus_se: NonNegative | None = None
    escalation_events: Annotated[int, Field(ge=0)] | None = None  # fire incidents in the fitted window
    escalation_window_days: NonNegative | None = None
    escalation_decay_per_hour: Annotated[float, Field(gt=0.0)] | None = None  # β: replies come after 1/β hours
    drivers: tuple[Driver, ...] = ()
    markings: Markings
    creation_info: CreationInfo


AlertKind = Literal["warning_level", "serious_violation", "staging_suspicion", "guarantee_trigger", "other"]


class Alert(Record):
    """A message to participants about a warning, violation, suspicion or trigger."""

    id: Identifier
    kind: AlertKind
    sent: Timestamp
    headline: Annotated[str, StringConstraints(min_length=1, max_length=500)]
    description: Text = ""
    severity: Literal["extreme", "severe", "moderate", "minor", "unknown"] = "unknown"
    sector: Identifier | None = None
    references: tuple[Identifier, ...] = ()
    addresses: tuple[ParticipantId, ...] = ()
    markings: Markings
    creation_info: CreationInfo
