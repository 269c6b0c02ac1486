"""Row-level security on the PostgreSQL store: the second wall behind the policy layer.

Against a real PostgreSQL, reads made for a participant (``PostgresStore.reading_as``, entered by
the server's read paths) return exactly the rows ``truceline.policy.rules.participant_sees``
allows, for every combination of markings (351) and twenty principals, and for generated
markings, groups and memberships; the server's read paths stay within those rows even behind a
policy that forgets to filter; and a plain ``SELECT`` as the reader role, with nobody named, sees
TLP:CLEAR outside sharing groups and nothing else.
"""

from __future__ import annotations

import itertools
import json
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any

import numpy as np
import psycopg
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.conftest import NOW, POSTGRES_ADMIN_URL, fresh_postgres_database, observation_dict
from truceline.dashboard.snapshot import build_snapshot
from truceline.dashboard.views import incident_view
from truceline.interop.taxii._objects import collection_objects
from truceline.ledger import LedgerKey
from truceline.model import CreationInfo, FixedClock, Incident, Markings, ObservationRef, observation_adapter
from truceline.policy import (
    MarkingsTable,
    NotFoundOrHidden,
    Policy,
    PolicyContext,
    Principal,
    SharingGroup,
    reading_as_requester,
)
from truceline.policy.columns import BoolArray
from truceline.policy.rules import participant_sees
from truceline.server import reads
from truceline.store import ObservationQuery, PreparedObservation
from truceline.store.postgres import PostgresStore

CONTEXT = PolicyContext(
    participants=("UKR", "USA", "GBR"),
    sharing_groups=(SharingGroup(id="G1", members=("UKR", "USA")), SharingGroup(id="G2", members=("GBR",))),
)
TLPS = ("clear", "green", "amber", "amber+strict", "red")
ORIGINATORS = ("USA", "UKR", "FRA")  # FRA: a departed participant, unknown to the context
RECIPIENTS = ("UKR", "GBR", "FRA")
GROUPS = (None, "G1", "G2")
# Every participant, one that departed (FRA) and a stranger, each claiming every set of groups.
PRINCIPALS = tuple(
    Principal(participant=p, sharing_groups=claims)
    for p in ("UKR", "USA", "GBR", "FRA", "XYZ")
    for claims in ((), ("G1",), ("G2",), ("G1", "G2"))
)


def every_markings() -> list[Markings]:
    """Every combination of level, originator, recipients and group (RED needs a recipient)."""
    out = []
    for tlp, originator, group in itertools.product(TLPS, ORIGINATORS, GROUPS):
        for n in range(len(RECIPIENTS) + 1):
            for to in itertools.combinations(RECIPIENTS, n):
                if tlp == "red" and not to:
                    continue
                out.append(Markings(tlp=tlp, originator=originator, releasable_to=to, sharing_group=group))  # type: ignore[arg-type]
    return out


def prepared(key: str, m: Markings) -> PreparedObservation:
    body = json.dumps(observation_dict(0, key=key, markings=m.model_dump(mode="json", exclude_none=True))).encode()
    return PreparedObservation(observation_adapter.validate_json(body), body)


def incident(record_id: str, m: Markings, n: int = 0) -> Incident:
    return Incident(
        id=record_id,
        start=NOW,
        end=NOW + timedelta(seconds=n),
        observations=(ObservationRef(participant="USA", source="ac-017", key=f"{record_id}-{n}"),),
        markings=m,
        creation_info=CreationInfo(agent="test", created=NOW),
    )


@dataclass
class World:
    """A store holding observations and incidents, and the markings each was given."""

    store: PostgresStore
    url: str
    observations: dict[str, Markings] = field(default_factory=dict)
    incidents: dict[str, Markings] = field(default_factory=dict)  # id -> markings of the latest version
    versions: dict[str, list[Markings]] = field(default_factory=dict)  # id -> markings of every version


def sees(context: PolicyContext, principal: Principal, m: Markings) -> bool:
    return participant_sees(context, principal.participant, context.acting_groups(principal), m)


@pytest.fixture(scope="module")
def world() -> Iterator[World]:
    """One observation and one incident per markings; and as many incidents with two versions whose
    markings differ (the second of each pair from further along the list)."""
    with fresh_postgres_database() as url:
        store = PostgresStore(url, clock=FixedClock(NOW), key=LedgerKey.generate())
        w = World(store, url)
        all_m = every_markings()
        w.observations = {f"obs-{i:04d}": m for i, m in enumerate(all_m)}
        store.add_observations([prepared(k, m) for k, m in w.observations.items()])
        for i, m in enumerate(all_m):
            w.versions[f"INC-{i:04d}"] = [m]
            w.versions[f"VER-{i:04d}"] = [m, all_m[(7 * i + 3) % len(all_m)]]
        store.put_records([incident(rid, ms[0]) for rid, ms in w.versions.items()])
        store.put_records([incident(rid, ms[1], 1) for rid, ms in w.versions.items() if len(ms) == 2])
        w.incidents = {rid: ms[-1] for rid, ms in w.versions.items()}
        yield w
        store.close()


def test_the_world_holds_every_combination(world: World) -> None:
    assert len(world.observations) == 351
    assert world.store.count_observations() == 351
    assert len(list(world.store.records("incident"))) == 702  # the owner reads every row


@pytest.mark.parametrize("principal", PRINCIPALS, ids=lambda p: f"{p.participant}-{'+'.join(p.sharing_groups)}")
def test_reads_for_a_principal_return_exactly_what_the_policy_allows(world: World, principal: Principal) -> None:
    store = world.store
    policy = Policy(CONTEXT)
    expected_obs = {k for k, m in world.observations.items() if sees(CONTEXT, principal, m)}
    expected_inc = [rid for rid, m in world.incidents.items() if sees(CONTEXT, principal, m)]
    with reading_as_requester(store, policy, principal):  # what the server's read paths enter
        got_obs = [s.observation.key for s in store.observations()]
        counted = store.count_observations()
        paged = [s.observation.key for s in store.observations(ObservationQuery(after_seq=100, limit=50))]
        got_inc = list(store.records("incident"))
        single_obs = {k: store.get_observation("USA", "ac-017", k) for k in world.observations}
        single_inc = {rid: store.get_record("incident", rid) for rid in world.incidents}
        history = {rid: [r.version for r in store.record_history("incident", rid)] for rid in world.versions}
    assert set(got_obs) == expected_obs and len(got_obs) == len(expected_obs)
    assert counted == len(expected_obs)
    assert paged == sorted(k for k in expected_obs if int(k[4:]) >= 100)[:50]  # seq = index + 1
    # The latest version of each visible incident, in the order the owner lists them; never an
    # older version standing in for a newer one the principal may not read.
    assert [r.id for r in got_inc] == expected_inc
    assert all(r.version == len(world.versions[r.id]) for r in got_inc)
    assert {k for k, s in single_obs.items() if s is not None} == expected_obs
    assert {rid for rid, s in single_inc.items() if s is not None} == set(expected_inc)
    assert all(s.version == len(world.versions[rid]) for rid, s in single_inc.items() if s is not None)
    for rid, versions in history.items():  # row by row: each version by its own markings
        assert versions == [v + 1 for v, m in enumerate(world.versions[rid]) if sees(CONTEXT, principal, m)]


def test_without_reading_as_the_owner_reads_everything(world: World) -> None:
    store = world.store
    with store.reading_as(None):
        assert store.count_observations() == 24  # TLP:CLEAR outside groups: 3 originators x 8 lists
    assert store.count_observations() == 351  # the block is over: the owner's reads again
    other = PostgresStore(world.url, key=LedgerKey.generate())
    try:
        with store.reading_as(None):  # applies to that store only
            assert other.count_observations() == 351
    finally:
        other.close()


class ForgetfulPolicy(Policy):
    """A policy with a bug in every read path: it lets everything through."""

    def visible(self, principal: Principal, markings: Markings) -> bool:
        return True

    def visible_mask(self, principal: Principal, table: MarkingsTable) -> BoolArray:
        return np.ones(len(table), dtype=bool)


@pytest.mark.parametrize("principal", PRINCIPALS[::3], ids=lambda p: f"{p.participant}-{'+'.join(p.sharing_groups)}")
def test_the_server_read_paths_hold_even_when_the_policy_forgets_to_filter(world: World, principal: Principal) -> None:
    store, policy = world.store, ForgetfulPolicy(CONTEXT)
    expected_obs = sorted(k for k, m in world.observations.items() if sees(CONTEXT, principal, m))
    expected_inc = [rid for rid, m in world.incidents.items() if sees(CONTEXT, principal, m)]
    page = reads.list_records(store, policy, principal, "incidents", offset=0, limit=10_000)
    assert [item["id"] for item in page.items] == expected_inc and page.total == len(expected_inc)
    codec = reads.CursorCodec(bytes(32))
    obs = reads.list_observations(
        store, policy, principal, codec, cursor=None, limit=10_000, kinds=None, participants=None
    )
    assert [item["key"] for item in obs.items] == expected_obs
    for rid in list(world.incidents)[::10]:
        if rid in expected_inc:
            assert reads.read_record(store, policy, principal, "incidents", rid)["id"] == rid
        else:
            with pytest.raises(NotFoundOrHidden):
                reads.read_record(store, policy, principal, "incidents", rid)
    for key in list(world.observations)[::10]:
        if key in expected_obs:
            assert reads.read_observation(store, policy, principal, "USA", "ac-017", key)["key"] == key
        else:
            with pytest.raises(NotFoundOrHidden):
                reads.read_observation(store, policy, principal, "USA", "ac-017", key)


@pytest.mark.parametrize("principal", PRINCIPALS[::4], ids=lambda p: f"{p.participant}-{'+'.join(p.sharing_groups)}")
def test_taxii_collections_hold_even_when_the_policy_forgets_to_filter(world: World, principal: Principal) -> None:
    # TAXII reads records through the same second wall as the API's lists.
    store, policy = world.store, ForgetfulPolicy(CONTEXT)
    for group in GROUPS:
        expected = sorted(
            rid for rid, m in world.incidents.items() if m.sharing_group == group and sees(CONTEXT, principal, m)
        )
        objects = collection_objects(store, policy, principal, group, f"taxii/collections/{group}")
        shown = sorted(
            o["extensions"][next(iter(o["extensions"]))]["record"]["id"] for _, o in objects if o["type"] == "incident"
        )
        assert shown == expected, group


@pytest.mark.parametrize("principal", PRINCIPALS[::5], ids=lambda p: f"{p.participant}-{'+'.join(p.sharing_groups)}")
def test_the_dashboard_incident_page_holds_even_when_the_policy_forgets_to_filter(
    world: World, principal: Principal
) -> None:
    store, policy = world.store, ForgetfulPolicy(CONTEXT)
    snapshot = build_snapshot(store, 0, NOW)
    for rid, m in list(world.incidents.items())[::7]:
        if sees(CONTEXT, principal, m):
            assert incident_view(store, snapshot, policy, principal, rid)["incident"]["id"] == rid
        else:
            with pytest.raises(NotFoundOrHidden):
                incident_view(store, snapshot, policy, principal, rid)


def reader_select(url: str, sql: str, settings: dict[str, str] | None = None) -> list[tuple[Any, ...]]:
    """``sql`` as the reader role in a plain session, with the given settings or none at all."""
    with psycopg.connect(url) as conn:
        conn.execute("SET ROLE truceline_reader")
        for name, value in (settings or {}).items():
            conn.execute("SELECT set_config(%s, %s, false)", (name, value))
        return conn.execute(sql).fetchall()


def test_a_plain_select_as_the_reader_with_nobody_named_sees_only_clear_outside_groups(world: World) -> None:
    # The second wall on its own: no application code in the way, no settings made.
    rows = reader_select(world.url, "SELECT tlp, sharing_group, count(*) FROM observations GROUP BY 1, 2")
    assert rows == [("clear", None, 24)]
    rows = reader_select(world.url, "SELECT tlp, sharing_group, count(*) FROM records GROUP BY 1, 2")
    clear_versions = sum(
        1 for ms in world.versions.values() for m in ms if m.tlp == "clear" and m.sharing_group is None
    )
    assert rows == [("clear", None, clear_versions)]
    # An empty participant is nobody, too.
    rows = reader_select(world.url, "SELECT count(*) FROM observations", {"truceline.participant": ""})
    assert rows == [(24,)]


def test_a_plain_select_as_the_reader_with_settings_matches_the_policy(world: World) -> None:
    principal = Principal(participant="GBR", sharing_groups=("G2",))
    settings = {"truceline.participant": "GBR", "truceline.groups": '["G2"]'}
    rows = reader_select(world.url, "SELECT body FROM observations ORDER BY seq", settings)
    got = {json.loads(bytes(r[0]))["key"] for r in rows}
    assert got == {k for k, m in world.observations.items() if sees(CONTEXT, principal, m)}


def test_the_reader_cannot_write_nor_read_other_tables(world: World) -> None:
    for sql in (
        "DELETE FROM observations",
        "UPDATE records SET created = 0",
        "INSERT INTO observations (seq) VALUES (0)",
        "SELECT * FROM tree_heads",
        "SELECT * FROM meta",
        "SELECT * FROM ledger_nodes",
    ):
        with pytest.raises(psycopg.errors.InsufficientPrivilege):
            reader_select(world.url, sql)


def test_malformed_groups_fail_closed(world: World) -> None:
    with pytest.raises(psycopg.errors.InvalidTextRepresentation):
        reader_select(world.url, "SELECT count(*) FROM observations", {"truceline.groups": "G1,G2"})
    # Not a list: no groups at all.
    rows = reader_select(world.url, "SELECT count(*) FROM observations", {"truceline.groups": '{"G1": true}'})
    assert rows == [(24,)]


# --- generated markings ------------------------------------------------------------------------
POOL = ("UKR", "USA", "GBR", "DEU", "FRA", "X-1")  # FRA and X-1 are not participants
CURRENT = POOL[:4]
GROUP_POOL = ("G1", "G2", "grüne Gruppe", "a,b", 'say "hi"', "it's")


@st.composite
def generated_markings(draw: st.DrawFn) -> Markings:
    tlp = draw(st.sampled_from(TLPS))
    to = draw(st.lists(st.sampled_from(POOL), unique=True, min_size=1 if tlp == "red" else 0, max_size=4))
    return Markings(
        tlp=tlp,  # type: ignore[arg-type]
        originator=draw(st.sampled_from(POOL)),
        releasable_to=tuple(to),
        sharing_group=draw(st.none() | st.sampled_from(GROUP_POOL)),
    )


@st.composite
def contexts(draw: st.DrawFn) -> PolicyContext:
    groups = tuple(
        SharingGroup(id=g, members=tuple(draw(st.lists(st.sampled_from(CURRENT), unique=True)))) for g in GROUP_POOL
    )
    return PolicyContext(participants=CURRENT, sharing_groups=groups)


principals = st.builds(
    Principal,
    participant=st.sampled_from((*POOL, "ZZZ")),
    sharing_groups=st.lists(st.sampled_from(GROUP_POOL), unique=True).map(tuple),
)


@pytest.fixture(scope="module")
def scratch() -> Iterator[PostgresStore]:
    """A store each generated example adds to; an example reads back only what it added."""
    with fresh_postgres_database() as url:
        store = PostgresStore(url, clock=FixedClock(NOW), key=LedgerKey.generate())
        yield store
        store.close()


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow], database=None)
@given(
    context=contexts(),
    markings=st.lists(generated_markings(), min_size=1, max_size=15),
    who=st.lists(principals, min_size=1, max_size=4),
)
def test_generated_markings_rls_equals_participant_sees(
    scratch: PostgresStore, context: PolicyContext, markings: list[Markings], who: list[Principal]
) -> None:
    store = scratch
    batch = uuid.uuid4().hex[:10]
    first_obs = store.max_seq()
    keys = [f"gen-{batch}-{i}" for i in range(len(markings))]
    store.add_observations([prepared(k, m) for k, m in zip(keys, markings, strict=True)])
    before = store.put_record(incident(f"mark-{batch}", markings[0])).seq  # a record before this batch's
    ids = [f"gen-{batch}-{i}" for i in range(len(markings))]
    store.put_records([incident(rid, m) for rid, m in zip(ids, markings, strict=True)])
    policy = Policy(context)
    for principal in who:
        with reading_as_requester(store, policy, principal):
            got_obs = [s.observation.key for s in store.observations(ObservationQuery(after_seq=first_obs))]
            got_inc = [r.id for r in store.records("incident", after_seq=before)]
        expected = [i for i, m in enumerate(markings) if sees(context, principal, m)]
        assert got_obs == [keys[i] for i in expected]
        assert got_inc == [ids[i] for i in expected]


# --- a non-superuser owner -----------------------------------------------------------------------
@pytest.fixture
def owned_by_a_plain_role() -> Iterator[tuple[str, str]]:
    """A database owned by a role that is not a superuser (superusers bypass row-level security,
    so only such an owner shows that the owner's policy lets the writers write under FORCE)."""
    role = f"tl_owner_{uuid.uuid4().hex[:8]}"
    other = f"tl_other_{uuid.uuid4().hex[:8]}"
    with psycopg.connect(POSTGRES_ADMIN_URL, autocommit=True) as admin:
        admin.execute(f"CREATE ROLE {role} LOGIN NOSUPERUSER NOCREATEROLE")
        admin.execute(f"CREATE ROLE {other} LOGIN NOSUPERUSER")
        # What an administrator does once per cluster, since the owner may not create roles.
        admin.execute(
            "DO $$ BEGIN IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = 'truceline_reader') "
            "THEN CREATE ROLE truceline_reader NOLOGIN; END IF; END $$"
        )
        admin.execute(f"GRANT truceline_reader TO {role}")
    try:
        with fresh_postgres_database() as url:
            name = url.rsplit("/", 1)[1]
            with psycopg.connect(url, autocommit=True) as admin:
                admin.execute("CREATE EXTENSION postgis")  # not a trusted extension: the administrator's
                admin.execute(f"ALTER DATABASE {name} OWNER TO {role}")
            base = POSTGRES_ADMIN_URL.split("://", 1)[1].split("@", 1)[1].rsplit("/", 1)[0]
            yield f"postgresql://{role}@{base}/{name}", f"postgresql://{other}@{base}/{name}"
    finally:
        with psycopg.connect(POSTGRES_ADMIN_URL, autocommit=True) as admin:
            admin.execute(f"DROP ROLE IF EXISTS {role}")
            admin.execute(f"DROP ROLE IF EXISTS {other}")


def test_a_plain_owner_writes_and_reads_everything_and_its_readers_only_theirs(
    owned_by_a_plain_role: tuple[str, str],
) -> None:
    url, other_url = owned_by_a_plain_role
    store = PostgresStore(url, clock=FixedClock(NOW), key=LedgerKey.generate())
    try:
        with psycopg.connect(url) as conn:
            assert conn.execute("SELECT rolsuper FROM pg_roles WHERE rolname = current_user").fetchone() == (False,)
        all_m = every_markings()
        items = {f"obs-{i:04d}": m for i, m in enumerate(all_m)}
        assert store.add_observations([prepared(k, m) for k, m in items.items()]).inserted == len(items)
        store.put_records([incident(f"INC-{i:04d}", m) for i, m in enumerate(all_m)])
        assert store.count_observations() == len(items)  # FORCE: the owner too is under a policy, its own
        assert len(list(store.records("incident"))) == len(all_m)
        policy = Policy(CONTEXT)
        usa = Principal(participant="USA", sharing_groups=("G1",))
        with reading_as_requester(store, policy, usa):
            got = {s.observation.key for s in store.observations()}
            incidents = {r.id for r in store.records("incident")}
        assert got == {k for k, m in items.items() if sees(CONTEXT, usa, m)}
        assert incidents == {f"INC-{i:04d}" for i, m in enumerate(all_m) if sees(CONTEXT, usa, m)}
        assert store.verify_ledger().ok
        # Another role given SELECT sees nothing: no policy names it.
        with psycopg.connect(url, autocommit=True) as conn:
            conn.execute(f"GRANT SELECT ON observations TO {other_url.split('://', 1)[1].split('@', 1)[0]}")
        with psycopg.connect(other_url) as conn:
            assert conn.execute("SELECT count(*) FROM observations").fetchone() == (0,)
    finally:
        store.close()
