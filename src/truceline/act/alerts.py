"""From assessments, findings and triggers to alerts: the model ``Alert`` and its CAP 1.2 message.

Which changes deserve an alert (the rules, kept in one place so they can be read and tested):

- **warning_level**: a sector's warning level differs from the last level alerted for it (the first
  assessment of a sector is alerted only at level 3 or above — a quiet start needs no message);
- **serious_violation**: a *confirmed* finding with confidence >= 0.9 under a serious clause
  (withdrawal, disengagement, air, sea, storage, ceilings, the cease-fire itself, triggers);
- **staging_suspicion**: a finding under a staging clause with confidence >= 0.5 (any status —
  a possible false flag must be known before it is confirmed);
- **guarantee_trigger**: a trigger of the agreement whose conditions are verified (see ``trigger``).

Ids are derived from what the alert is about, so re-running the same records issues nothing new.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from truceline.interop.cap import CapArea, CapInfo, CapMessage
from truceline.model import Alert, Assessment, CreationInfo, Finding, Location, Markings

__all__ = [
    "SERIOUS_CLAUSE_PREFIXES",
    "IssuedAlert",
    "alert_for_finding",
    "alert_for_warning",
    "cap_identifier",
    "cap_message",
    "severity_of_level",
]

AGENT = "truceline.act"
SERIOUS_CLAUSE_PREFIXES: tuple[str, ...] = (
    "ceasefire",
    "withdrawal.",
    "disengagement.",
    "air.",
    "sea.",
    "storage.",
    "ceiling",
    "trigger.",
)
STAGING_WORDS: tuple[str, ...] = ("staging", "no_staging", "false_flag")
MIN_SERIOUS_CONFIDENCE = 0.9
MIN_STAGING_CONFIDENCE = 0.5

_SEVERITY = {5: "extreme", 4: "severe", 3: "moderate", 2: "minor", 1: "minor"}


def severity_of_level(level: int) -> str:
    """The CAP severity of a warning level (5 extreme … 1–2 minor)."""
    return _SEVERITY[level]


@dataclass(frozen=True, slots=True)
class IssuedAlert:
    """An alert and what its CAP message needs beyond the model record."""

    alert: Alert
    event: str
    urgency: str
    certainty: str
    parameters: tuple[tuple[str, str], ...] = ()
    location: Location | None = None
    instruction: str | None = None


def _info(sent: datetime, markings: Markings, note: str = "") -> CreationInfo:
    return CreationInfo(agent=AGENT, created=sent, participant=markings.originator, note=note)


def _certainty(p: float) -> str:
    if p >= 0.99:
        return "Observed"
    if p > 0.5:
        return "Likely"
    if p > 0.1:
        return "Possible"
    return "Unlikely"


def alert_for_warning(
    assessment: Assessment, previous_level: int | None, *, sent: datetime, markings: Markings
) -> IssuedAlert | None:
    """The alert for a sector's new warning level, or ``None`` when nothing changed worth saying."""
    level = assessment.warning_level
    if previous_level == level or (previous_level is None and level < 3):
        return None
    direction = "raised" if previous_level is None or level > previous_level else "lowered"
    drivers = sorted(assessment.drivers, key=lambda d: -abs(d.contribution))[:5]
    because = "; ".join(f"{d.indicator} {d.value:g}" + (f" ({d.description})" * bool(d.description)) for d in drivers)
    alert = Alert(
        id=f"alert--warning--{assessment.sector}--{assessment.day}--L{level}",
        kind="warning_level",
        sent=sent,
        headline=f"Sector {assessment.sector}: warning level {direction} to {level}"
        + ("" if previous_level is None else f" (was {previous_level})"),
        description=(
            f"Assessment {assessment.id} for {assessment.day}: P(offensive within 7 days) = "
            f"{assessment.p_offensive_7d:.2f}, within 14 days = {assessment.p_offensive_14d:.2f}."
            + (f" Main drivers: {because}." if because else "")
        ),
        severity=severity_of_level(level),  # type: ignore[arg-type]
        sector=assessment.sector,
        references=(assessment.id,),
        markings=markings,
        creation_info=_info(sent, markings),
    )
    params = [
        ("warning_level", str(level)),
        ("p_offensive_7d", f"{assessment.p_offensive_7d:.4f}"),
        ("p_offensive_14d", f"{assessment.p_offensive_14d:.4f}"),
    ]
    if previous_level is not None:
        params.append(("previous_warning_level", str(previous_level)))
    if assessment.branching_ratio is not None:
        params.append(("branching_ratio", f"{assessment.branching_ratio:.4f}"))
    return IssuedAlert(
        alert,
        event="Cease-fire warning level change",
        urgency="Expected" if level >= 4 else "Future",
        certainty=_certainty(max(assessment.p_offensive_7d, assessment.p_offensive_14d)),
        parameters=tuple(params),
    )


def is_staging(finding: Finding) -> bool:
    return any(word in finding.clause_id for word in STAGING_WORDS)


def alert_for_finding(finding: Finding, *, sent: datetime, markings: Markings) -> IssuedAlert | None:
    """The alert for a serious confirmed violation or a staging suspicion, or ``None``."""
    if finding.status in ("closed",):
        return None
    if is_staging(finding):
        if finding.confidence < MIN_STAGING_CONFIDENCE:
            return None
        kind, event, severity = "staging_suspicion", "Suspected staged incident (false flag)", "severe"
        ident = f"alert--staging--{finding.id}"
        headline = f"Possible staged incident: {finding.clause_text[:200] or finding.clause_id}"
    else:
        serious = finding.clause_id.startswith(SERIOUS_CLAUSE_PREFIXES)
        if not (serious and finding.status == "confirmed" and finding.confidence >= MIN_SERIOUS_CONFIDENCE):
            return None
        kind, event, severity = "serious_violation", "Confirmed serious cease-fire violation", "severe"
        ident = f"alert--violation--{finding.id}"
        headline = f"Confirmed violation of {finding.clause_id}" + (f" by {finding.side}" if finding.side else "")
    reasons = "; ".join(e.description for e in finding.evidence[:5] if e.description)
    alert = Alert(
        id=ident,
        kind=kind,  # type: ignore[arg-type]
        sent=sent,
        headline=headline[:500],
        description=(
            f"Finding {finding.id} ({finding.status}, confidence {finding.confidence:.2f}) under clause "
            f"{finding.clause_id}: {finding.clause_text}. First seen {finding.first_seen.isoformat()}, last seen "
            f"{finding.last_seen.isoformat()}." + (f" Evidence: {reasons}." if reasons else "")
        )[:20_000],
        severity=severity,  # type: ignore[arg-type]
        sector=finding.sector,
        references=(finding.id, *finding.incidents),
        markings=markings,
        creation_info=_info(sent, markings),
    )
    params = [("clause_id", finding.clause_id), ("confidence", f"{finding.confidence:.4f}"), ("status", finding.status)]
    if finding.side:
        params.append(("side", finding.side))
    return IssuedAlert(
        alert,
        event=event,
        urgency="Immediate",
        certainty=_certainty(finding.confidence),
        parameters=tuple(params),
        location=finding.location,
    )


def cap_identifier(alert_id: str) -> str:
    """The alert id as a CAP identifier: CAP forbids spaces, commas, '<' and '&' in it.

    >>> cap_identifier("alert--violation--finding 7,a")
    'alert--violation--finding_7_a'
    """
    return "".join("_" if c in " ,<&" or c.isspace() else c for c in alert_id)


def _circle(location: Location) -> tuple[float, float, float]:
    # CAP circles are radii in km; the 95 % ellipse's semi-major axis bounds the position honestly.
    return (location.lat, location.lon, max(location.error.semi_major_m / 1000.0, 0.001))


def cap_message(
    issued: IssuedAlert,
    *,
    sender: str,
    addresses: Sequence[str],
    exercise: bool = False,
    references: Sequence[str] = (),
) -> CapMessage:
    """The CAP 1.2 message for an issued alert, addressed privately to ``addresses``.

    The scope is ``Private`` with the addressees named (CAP's way to say "these recipients only");
    the TLP and the sharing group travel as ``code`` values and in ``restriction`` words.
    """
    alert = issued.alert
    m = alert.markings
    codes = [f"TLP:{m.tlp.upper()}", f"truceline:kind:{alert.kind}"]
    if m.sharing_group:
        codes.append(f"truceline:sharing-group:{m.sharing_group}")
    params = [*issued.parameters, ("truceline:alert_id", alert.id)]
    params += [("truceline:reference", ref) for ref in alert.references[:50]]
    areas: list[CapArea] = []
    geocodes = (("truceline:sector", alert.sector),) if alert.sector else ()
    if issued.location is not None:
        areas.append(CapArea(area_desc=alert.sector or "location", circles=(_circle(issued.location),),
                             geocodes=geocodes))
    elif alert.sector:
        areas.append(CapArea(area_desc=f"Sector {alert.sector}", geocodes=geocodes))
    info = CapInfo(
        categories=("Security",),
        event=issued.event,
        urgency=issued.urgency,  # type: ignore[arg-type]
        severity=alert.severity.capitalize(),  # type: ignore[arg-type]
        certainty=issued.certainty,  # type: ignore[arg-type]
        language="en-GB",
        response_types=("Monitor",) if alert.kind == "warning_level" else ("Assess",),
        effective=alert.sent,
        sender_name="Truceline monitoring and verification mechanism",
        headline=alert.headline,
        description=alert.description or None,
        instruction=issued.instruction,
        parameters=tuple(params),
        areas=tuple(areas),
    )
    return CapMessage(
        identifier=cap_identifier(alert.id),
        sender=sender,
        sent=alert.sent,
        status="Exercise" if exercise else "Actual",
        msg_type="Update" if references else "Alert",
        scope="Private" if addresses else "Restricted",
        restriction=None if addresses else f"TLP:{m.tlp.upper()}: participants entitled by the markings only",
        addresses=tuple(addresses),
        codes=tuple(codes),
        references=tuple(references),
        incidents=tuple(cap_identifier(r) for r in alert.references if r.startswith("incident"))[:50],
        infos=(info,),
    )
