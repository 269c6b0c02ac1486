"""Hypothesis: for random markings and random requesters, every API read path — list, total, single
read, observation listing and TAXII objects — answers exactly what the reference policy allows."""

from __future__ import annotations

import json
import os

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.conftest import observation_dict
from tests.unit.policy import reference as ref
from tests.unit.server.conftest import CONTEXT, NOW, Mechanism, incident
from truceline.interop.stix import stix_id
from truceline.interop.taxii import collection_id
from truceline.model import FixedClock, Markings, observation_adapter
from truceline.store import MemoryStore, observation_row

PEOPLE = ("UKR", "USA", "GBR", "FRA", "OSCE")
OUTSIDER = "NZL"  # authenticated, but not a participant of the mechanism
GROUPS = ("G-AIR", "G-SIGINT", "G-GHOST")  # G-GHOST is defined nowhere: it admits nobody
WORLD = ref.World(frozenset(CONTEXT.participants), {g.id: frozenset(g.members) for g in CONTEXT.sharing_groups})


@st.composite
def markings(draw: st.DrawFn) -> Markings:
    tlp = draw(st.sampled_from(["clear", "green", "amber", "amber+strict", "red"]))
    originator = draw(st.sampled_from(PEOPLE))
    to = draw(st.lists(st.sampled_from(PEOPLE), unique=True, min_size=1 if tlp == "red" else 0, max_size=3))
    group = draw(st.none() | st.sampled_from(GROUPS))
    return Markings(tlp=tlp, originator=originator, releasable_to=tuple(to), sharing_group=group)  # type: ignore[arg-type]


requesters = st.tuples(
    st.sampled_from((*PEOPLE, OUTSIDER)), st.lists(st.sampled_from(GROUPS), unique=True, max_size=3).map(tuple)
)


def mechanism_holding(marks: list[Markings]) -> Mechanism:
    """Incident ``INC-i`` and observation ``acoustic_arrival-000000i`` carry ``marks[i]``."""
    store = MemoryStore(clock=FixedClock(NOW))
    store.put_records([incident(f"INC-{i}", m, m.originator) for i, m in enumerate(marks)])
    rows = []
    for i, m in enumerate(marks):
        record = observation_dict(i, participant=m.originator, markings=m.model_dump(mode="json"))
        body = json.dumps(record).encode()
        rows.append(observation_row(observation_adapter.validate_json(body), body))
    store.add_rows(rows)
    return Mechanism(store=store, seeded=False)


EXAMPLES = int(os.environ.get("TRUCELINE_API_CASES", "60"))


@settings(max_examples=EXAMPLES, deadline=None, suppress_health_check=list(HealthCheck), database=None)
@given(marks=st.lists(markings(), min_size=1, max_size=8), who=requesters)
def test_every_read_path_matches_the_reference(marks: list[Markings], who: tuple[str, tuple[str, ...]]) -> None:
    participant, groups = who
    asker = ref.Asker(participant, frozenset(), frozenset(groups))
    allowed = [i for i, m in enumerate(marks) if ref.may_read(WORLD, asker, m.model_dump())]
    mech = mechanism_holding(marks)
    try:
        page = mech.get("/v1/incidents", participant, groups=groups).json()
        assert sorted(item["id"] for item in page["items"]) == sorted(f"INC-{i}" for i in allowed)
        assert page["total"] == len(allowed)
        for i in range(len(marks)):
            response = mech.get(f"/v1/incidents/INC-{i}", participant, groups=groups)
            assert response.status_code == (200 if i in allowed else 404)

        observations = mech.get("/v1/observations", participant, groups=groups, limit=1000).json()["items"]
        assert sorted(o["key"] for o in observations) == sorted(f"acoustic_arrival-{i:07d}" for i in allowed)

        acting = {g for g in groups if participant in WORLD.groups.get(g, frozenset())}
        for group in (None, *GROUPS):
            url = f"/taxii2/api/collections/{collection_id(group)}/objects/"
            response = mech.client.get(url, headers=mech.headers(participant, groups=groups))
            if group is not None and group not in acting:
                assert response.status_code == 404
                continue
            shown = {o["id"] for o in response.json()["objects"] if o["type"] == "incident"}
            assert shown == {stix_id("incident", f"INC-{i}") for i in allowed if marks[i].sharing_group == group}
    finally:
        mech.client.close()
        mech.tokens.close()
