"""A small mechanism served over loopback: seven participants, two sharing groups, seeded records."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from fastapi.testclient import TestClient

from truceline.model import (
    Alert,
    Assessment,
    CreationInfo,
    ErrorEllipse,
    Finding,
    FixedClock,
    Incident,
    Location,
    Markings,
    ObservationRef,
    Origin,
)
from truceline.policy import AuditLog, InMemoryAuditLog, PolicyContext, SharingGroup
from truceline.server import ServerSettings, TokenRegistry, create_app
from truceline.store import MemoryStore, Store

NOW = datetime(2026, 3, 1, 12, 0, tzinfo=UTC)
PARTICIPANTS = ("UKR", "RUS", "USA", "GBR", "FRA", "DEU", "POL", "TUR", "OSCE")
CONTEXT = PolicyContext(
    participants=PARTICIPANTS,
    sharing_groups=(
        SharingGroup(id="G-AIR", members=("USA", "GBR", "UKR"), description="air picture"),
        SharingGroup(id="G-SIGINT", members=("USA", "GBR")),
    ),
)
CREATED = CreationInfo(agent="test", created=NOW - timedelta(hours=1))


def markings(tlp: str, originator: str = "USA", *to: str, group: str | None = None) -> Markings:
    return Markings(tlp=tlp, originator=originator, releasable_to=to, sharing_group=group)  # type: ignore[arg-type]


def location(lat: float = 48.0, lon: float = 37.8) -> Location:
    return Location(lat=lat, lon=lon, error=ErrorEllipse(semi_major_m=120.0, semi_minor_m=60.0, orientation_deg=30.0))


def incident(record_id: str, m: Markings, *reporters: str) -> Incident:
    origin = Origin(
        id=f"{record_id}-o1", location=location(), time=NOW - timedelta(hours=2), method="tdoa", creation_info=CREATED
    )
    refs = tuple(
        ObservationRef(participant=p, source=f"src-{p}", key=f"{record_id}-{p}") for p in reporters or ("USA",)
    )
    return Incident(
        id=record_id,
        start=NOW - timedelta(hours=2),
        end=NOW - timedelta(hours=2) + timedelta(seconds=30),
        observations=refs,
        origins=(origin,),
        preferred_origin_id=origin.id,
        impacts=(location(47.99, 37.7),),
        sector="S3",
        markings=m,
        creation_info=CREATED,
    )


def finding(record_id: str, m: Markings, incidents: tuple[str, ...] = ()) -> Finding:
    return Finding(
        id=record_id,
        clause_id="C-2.1",
        clause_text="No fire of artillery of 100 mm and above within the withdrawal zone.",
        side="RUS",
        confidence=0.82,
        incidents=incidents,
        location=location(),
        sector="S3",
        first_seen=NOW - timedelta(hours=2),
        last_seen=NOW - timedelta(hours=1),
        markings=m,
        creation_info=CREATED,
    )


# id → markings of every seeded incident; the tests compare responses against these.
SEEDED_INCIDENTS: dict[str, Markings] = {
    "INC-clear": markings("clear"),
    "INC-green": markings("green", "UKR"),
    "INC-amber-usa-only": markings("amber"),
    "INC-amber-to-gbr": markings("amber", "USA", "GBR"),
    "INC-strict-to-ukr": markings("amber+strict", "USA", "UKR"),
    "INC-red-to-fra": markings("red", "USA", "FRA"),
    "INC-air-green": markings("green", "UKR", group="G-AIR"),
    "INC-sigint-amber": markings("amber", "GBR", "USA", group="G-SIGINT"),
}


def seed(store: Store) -> None:
    store.put_records([incident(i, m, m.originator, "OSCE") for i, m in SEEDED_INCIDENTS.items()])
    store.put_records(
        [
            finding("FND-green", markings("green"), ("INC-green",)),
            finding("FND-sigint", markings("amber", "GBR", "USA", group="G-SIGINT"), ("INC-sigint-amber",)),
        ]
    )
    store.put_records(
        [
            Assessment(
                id="ASM-S3-2026-03-01",
                sector="S3",
                day="2026-03-01",
                warning_level=3,
                p_offensive_7d=0.2,
                p_offensive_14d=0.3,
                markings=markings("green", "OSCE"),
                creation_info=CREATED,
            )
        ]
    )
    store.put_records(
        [
            Alert(
                id="ALR-1",
                kind="serious_violation",
                sent=NOW,
                headline="Heavy artillery fire in the withdrawal zone",
                markings=markings("red", "OSCE", "UKR"),
                creation_info=CREATED,
            )
        ]
    )


class Mechanism:
    """The app, its store and one token per participant (and role) for the tests."""

    def __init__(self, store: Store | None = None, audit: AuditLog | None = None, *, seeded: bool = True) -> None:
        self.clock = FixedClock(NOW)
        self.store = store if store is not None else MemoryStore(clock=self.clock)
        if seeded:
            seed(self.store)
        self.tokens = TokenRegistry(":memory:", clock=self.clock)
        self.audit = InMemoryAuditLog()
        self.settings = ServerSettings(
            context=CONTEXT,
            tokens=self.tokens,
            audit=audit if audit is not None else self.audit,
            clock=self.clock,
            max_request_bytes=200_000,
        )
        self.app = create_app(self.settings, self.store)
        self.client = TestClient(self.app)
        self._tokens: dict[tuple[str, tuple[str, ...], tuple[str, ...]], str] = {}

    def token(self, participant: str, *roles: str, groups: tuple[str, ...] = ()) -> str:
        key = (participant, roles, groups)
        if key not in self._tokens:
            self._tokens[key], _ = self.tokens.issue(
                participant,
                roles,
                subject=f"{participant.lower()}-user",
                sharing_groups=groups,  # type: ignore[arg-type]
            )
        return self._tokens[key]

    def headers(self, participant: str, *roles: str, groups: tuple[str, ...] = ()) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.token(participant, *roles, groups=groups)}"}

    def get(self, path: str, participant: str, *roles: str, groups: tuple[str, ...] = (), **params: Any) -> Any:
        return self.client.get(path, headers=self.headers(participant, *roles, groups=groups), params=params)


@pytest.fixture
def mech() -> Iterator[Mechanism]:
    m = Mechanism()
    yield m
    m.client.close()
    m.tokens.close()
