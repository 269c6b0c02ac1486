"""Schemathesis against the OpenAPI document: no server errors and no response outside its schema.

Every operation is fuzzed with a bounded number of generated requests (``TRUCELINE_FUZZ_EXAMPLES``,
25 by default), authenticated as a participant in a sharing group, plus one unauthenticated pass.
"""

from __future__ import annotations

import os
import warnings

import pytest
from hypothesis import HealthCheck, settings

with warnings.catch_warnings():
    warnings.simplefilter("ignore", DeprecationWarning)
    import schemathesis
    from schemathesis.checks import (
        content_type_conformance,
        not_a_server_error,
        response_schema_conformance,
        status_code_conformance,
    )

from tests.unit.server.conftest import Mechanism

EXAMPLES = int(os.environ.get("TRUCELINE_FUZZ_EXAMPLES", "25"))
MECH = Mechanism()
TOKEN = MECH.token("USA", "analyst", "administrator", groups=("G-AIR", "G-SIGINT"))
schema = schemathesis.openapi.from_asgi("/openapi.json", MECH.app)


@schemathesis.serializer("application/x-ndjson")
def _ndjson(_: object, value: object) -> bytes:
    return value.encode("utf-8", "surrogatepass") if isinstance(value, str) else str(value).encode()


CHECKS = [not_a_server_error, response_schema_conformance, status_code_conformance, content_type_conformance]


@schema.parametrize()
@settings(max_examples=EXAMPLES, deadline=None, suppress_health_check=list(HealthCheck), database=None)
def test_no_server_error_and_no_schema_violation(case: schemathesis.Case) -> None:
    case.call_and_validate(headers={"Authorization": f"Bearer {TOKEN}"}, checks=CHECKS)


@pytest.mark.parametrize("path", ["/v1/incidents", "/v1/observations", "/v1/me", "/v1/audit"])
def test_openapi_documents_the_401(path: str) -> None:
    assert "401" in MECH.app.openapi()["paths"][path]["get"]["responses"]
