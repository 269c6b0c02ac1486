"""Security headers on every response, no-store on the API, and the rate limits (per token, per
address, and of failed authentications), with a clock the tests move by hand."""

from __future__ import annotations

import logging
from dataclasses import replace
from typing import Any

import pytest
from fastapi.routing import APIRoute
from fastapi.testclient import TestClient

from tests.unit.server.conftest import Mechanism
from truceline.policy import Principal
from truceline.server import create_app
from truceline.server.auth import UNAUTHORISED
from truceline.server.security import API_CSP, TokenBuckets, client_key
from truceline.server.settings import Bucket, RateLimits

PAGE = "/dashboard/"
STATIC = "/dashboard/js/api.js"
VENDOR = "/dashboard/vendor/leaflet/leaflet.js"
JSON = "application/json"


class Ticks:
    """A monotonic clock that moves only when told."""

    def __init__(self) -> None:
        self.t = 1_000.0

    def __call__(self) -> float:
        return self.t

    def advance(self, seconds: float) -> None:
        self.t += seconds


def build(limits: RateLimits, ticks: Ticks, client: tuple[str, int] = ("192.0.2.10", 4000)) -> Mechanism:
    mech = Mechanism()
    settings = replace(mech.settings, rate_limits=limits, monotonic=ticks)
    mech.settings = settings
    mech.app = create_app(settings, mech.store)
    mech.client = TestClient(mech.app, client=client, raise_server_exceptions=False)
    return mech


@pytest.fixture
def ticks() -> Ticks:
    return Ticks()


def settle(client: TestClient, headers: dict[str, str]) -> None:
    """Wait (bounded by the server's own first-build wait) for the builds a page request started.

    Opening a page warms the dashboard's caches in background threads; FastAPI builds routes
    under ``warnings.catch_warnings``, which is process-wide, so no such thread may outlive the
    test that started it.
    """
    assert client.get("/v1/dashboard/geography", headers=headers).status_code == 200
    assert client.get("/v1/dashboard/day", headers=headers).status_code == 200


def _assert_security_headers(response: Any, csp: str | None = API_CSP) -> None:
    h = response.headers
    assert h["x-content-type-options"] == "nosniff"
    assert h["referrer-policy"] == "no-referrer"
    assert h["x-frame-options"] == "DENY"
    assert h["permissions-policy"].startswith("accelerometer=()")
    assert "camera=()" in h["permissions-policy"] and "geolocation=()" in h["permissions-policy"]
    assert h["cross-origin-opener-policy"] == "same-origin"
    assert "frame-ancestors 'none'" in h["content-security-policy"]
    if csp is not None:
        assert h["content-security-policy"] == csp
    # Each header once: the dashboard's own and the server's must not both be sent.
    for name in ("x-content-type-options", "content-security-policy", "cache-control", "x-frame-options"):
        assert len(h.get_list(name)) == 1, name


def test_every_kind_of_response_carries_the_security_headers(mech: Mechanism) -> None:
    @mech.app.get("/boom", include_in_schema=False)
    def boom() -> None:
        raise RuntimeError("a bug")

    client = TestClient(mech.app, raise_server_exceptions=False)
    usa = mech.headers("USA", "analyst")
    responses = {
        "health": client.get("/health"),
        "openapi": client.get("/openapi.json"),
        "401": client.get("/v1/incidents"),
        "200": client.get("/v1/incidents", headers=usa),
        "404": client.get("/v1/incidents/nope", headers=usa),
        "422": client.get("/v1/incidents", params={"limit": 0}, headers=usa),
        "413": client.post(
            "/v1/observations", content=b"x" * 300_000, headers={**usa, "content-type": "application/json"}
        ),
        "415": client.post("/v1/observations", content=b"x", headers={**usa, "content-type": "text/csv"}),
        "taxii": client.get("/taxii2/", headers=usa),
        "no route": client.get("/no/such/route"),
        "500": client.get("/boom"),
    }
    assert responses["500"].status_code == 500
    assert responses["413"].status_code == 413
    for name, response in responses.items():
        _assert_security_headers(response)
        assert response.headers["cache-control"] == "no-store", name
    page = client.get(PAGE)
    _assert_security_headers(page, csp=None)
    csp = page.headers["content-security-policy"]
    assert "script-src 'self'" in csp and "style-src 'self'" in csp and "unsafe" not in csp
    assert "default-src 'self'" in csp and "img-src 'self' data:" in csp
    missing = client.get("/dashboard/nope.js")
    assert missing.status_code == 404
    _assert_security_headers(missing, csp=None)
    settle(client, usa)


def _api_paths(mech: Mechanism) -> list[str]:
    paths = []
    for route in mech.app.routes:
        if isinstance(route, APIRoute) and "GET" in route.methods and route.path.startswith(("/v1/", "/taxii2")):
            paths.append(route.path.replace("{record_id}", "x").replace("{", "").replace("}", ""))
    return paths


def test_every_api_answer_is_no_store_and_static_files_are_cacheable(mech: Mechanism) -> None:
    headers = mech.headers("USA", "analyst", "administrator", groups=("G-AIR",))
    paths = _api_paths(mech)
    assert {
        "/v1/me",
        "/v1/incidents",
        "/v1/dashboard/day",
        "/v1/dashboard/geography",
        "/v1/dashboard/coalition",
    } <= set(paths)
    for path in paths:
        response = mech.client.get(path, headers=headers, params={"day": "2026-03-01"} if "sensors" in path else {})
        assert response.headers["cache-control"] == "no-store", (path, response.status_code)
    assert mech.client.get(STATIC).headers["cache-control"] == "no-cache"
    vendor = mech.client.get(VENDOR)
    assert vendor.headers["cache-control"] == "public, max-age=86400"
    # Cacheable, and revalidated cheaply: the file's ETag gives a 304 with no body.
    again = mech.client.get(VENDOR, headers={"if-none-match": vendor.headers["etag"]})
    assert again.status_code == 304 and again.content == b""
    settle(mech.client, headers)


def test_openapi_documents_the_429_on_every_operation(mech: Mechanism) -> None:
    operations = [op for item in mech.app.openapi()["paths"].values() for op in item.values()]
    assert operations and all("429" in op["responses"] for op in operations)


def test_a_token_over_its_rate_gets_429_with_retry_after_and_others_are_untouched(ticks: Ticks) -> None:
    mech = build(RateLimits(per_token=Bucket(per_second=0.5, burst=3)), ticks)
    usa, gbr = mech.headers("USA"), mech.headers("GBR")
    assert [mech.client.get("/v1/me", headers=usa).status_code for _ in range(3)] == [200, 200, 200]
    refused = mech.client.get("/v1/me", headers=usa)
    assert refused.status_code == 429
    assert refused.headers["retry-after"] == "2"
    assert refused.json() == {"detail": "too many requests with this token; retry in 2 s"}
    assert mech.token("USA") not in refused.text
    _assert_security_headers(refused)
    assert refused.headers["cache-control"] == "no-store"
    assert mech.client.get("/v1/me", headers=gbr).status_code == 200  # another token, another budget
    ticks.advance(2.0)
    assert mech.client.get("/v1/me", headers=usa).status_code == 200
    assert mech.client.get("/v1/me", headers=usa).status_code == 429


def test_repeated_failed_authentications_from_one_address_lock_it_out_whatever_it_sends_next(
    ticks: Ticks, caplog: pytest.LogCaptureFixture
) -> None:
    mech = build(RateLimits(failures=Bucket(per_second=0.1, burst=4)), ticks)
    good = mech.headers("USA")
    forged = {"Authorization": f"Bearer tl_{mech.token('USA').split('_')[1]}_{'A' * 43}"}
    attempts = [forged, {"Authorization": "Bearer nope"}, {"Authorization": "Token abc"}, {"Authorization": "Basic !!"}]
    with caplog.at_level(logging.WARNING, logger="truceline.server.security"):
        for headers in attempts:
            # A client that sends no credentials is not guessing: its 401s do not count.
            assert mech.client.get("/v1/incidents").status_code == 401
            response = mech.client.get("/v1/incidents", headers=headers)
            assert response.status_code == 401
            assert response.json() == {"detail": UNAUTHORISED}
    assert any("failed authentications from 192.0.2.10" in r.getMessage() for r in caplog.records)
    # Locked out: a valid token and a forged one get the same refusal, so a guess cannot be confirmed.
    with_good = mech.client.get("/v1/incidents", headers=good)
    with_forged = mech.client.get("/v1/incidents", headers=forged)
    for response in (with_good, with_forged):
        assert response.status_code == 429
        assert response.headers["retry-after"] == "10"
        assert "www-authenticate" not in response.headers
    assert with_good.content == with_forged.content
    assert with_good.json() == {"detail": "too many failed authentications from your address; retry in 10 s"}
    assert mech.client.get("/health").status_code == 429
    taxii = mech.client.get("/taxii2/", headers=good)  # a TAXII client gets TAXII's error message
    assert taxii.status_code == 429 and taxii.headers["content-type"] == "application/taxii+json;version=2.1"
    assert taxii.json()["title"] == taxii.json()["detail"] and taxii.json()["http_status"] == "429"
    # Another address is not affected.
    other = TestClient(mech.app, client=("192.0.2.99", 4000))
    assert other.get("/v1/incidents", headers=good).status_code == 200
    # The budget refills: one failure's worth after ten seconds.
    ticks.advance(10.0)
    assert mech.client.get("/v1/incidents", headers=good).status_code == 200
    assert mech.client.get("/v1/incidents", headers=forged).status_code == 401
    assert mech.client.get("/v1/incidents", headers=good).status_code == 429


def test_failed_authentication_on_a_route_without_authentication_counts_too(ticks: Ticks) -> None:
    mech = build(RateLimits(failures=Bucket(per_second=0.1, burst=2)), ticks)
    bad = {"Authorization": "Bearer tl_000000000000_" + "B" * 43}
    assert mech.client.get("/health", headers=bad).status_code == 200
    assert mech.client.get(PAGE, headers=bad).status_code == 200
    assert mech.client.get("/health").status_code == 429
    settle(TestClient(mech.app, client=("192.0.2.11", 4000)), mech.headers("USA"))


def test_requests_without_credentials_are_limited_per_address(ticks: Ticks) -> None:
    mech = build(RateLimits(per_address=Bucket(per_second=1.0, burst=2)), ticks)
    assert [mech.client.get("/health").status_code for _ in range(2)] == [200, 200]
    refused = mech.client.get(STATIC)
    assert refused.status_code == 429 and refused.headers["retry-after"] == "1"
    assert refused.json()["detail"] == "too many requests from your address; retry in 1 s"
    assert mech.client.get("/v1/me", headers=mech.headers("USA")).status_code == 200  # a token has its own
    ticks.advance(1.0)
    assert mech.client.get("/health").status_code == 200


def test_limits_can_be_switched_off(ticks: Ticks) -> None:
    mech = build(RateLimits(per_token=None, per_address=None, failures=None), ticks)
    assert {mech.client.get("/v1/incidents").status_code for _ in range(50)} == {401}
    assert {mech.client.get("/v1/me", headers=mech.headers("USA")).status_code for _ in range(50)} == {200}


def test_the_default_limits_leave_a_busy_client_alone(mech: Mechanism) -> None:
    headers = mech.headers("USA")
    assert {mech.client.get("/v1/incidents", headers=headers).status_code for _ in range(300)} == {200}
    assert {mech.client.get("/health").status_code for _ in range(250)} == {200}


def test_a_request_is_authenticated_once(mech: Mechanism, monkeypatch: pytest.MonkeyPatch) -> None:
    calls: list[str] = []
    real = mech.tokens.authenticate

    def counting(token: str) -> Principal | None:
        calls.append(token)
        return real(token)

    headers = mech.headers("USA")
    monkeypatch.setattr(mech.tokens, "authenticate", counting)
    assert mech.client.get("/v1/me", headers=headers).status_code == 200
    assert mech.client.get("/taxii2/", auth=("anyone", mech.token("USA"))).status_code == 200
    assert len(calls) == 2


def test_buckets_are_bounded_and_refill() -> None:
    ticks = Ticks()
    buckets = TokenBuckets(Bucket(per_second=1.0, burst=2), ticks, max_keys=3)
    assert buckets.take("a") == 0.0 and buckets.take("a") == 0.0
    assert buckets.take("a") == pytest.approx(1.0)
    ticks.advance(0.5)
    assert buckets.wait("a") == pytest.approx(0.5)
    for key in ("b", "c", "d"):
        buckets.take(key)
    assert len(buckets) == 3  # "a", the least recently used, is gone: a full bucket is a fresh one
    assert buckets.wait("a") == 0.0


@pytest.mark.parametrize(
    ("host", "key"),
    [
        ("192.0.2.7", "192.0.2.7"),
        ("2001:db8:1:2:3:4:5:6", "2001:db8:1:2::/64"),
        ("2001:db8:1:2:ffff::9", "2001:db8:1:2::/64"),
        ("::ffff:192.0.2.7", "192.0.2.7"),
        ("testclient", "testclient"),
    ],
)
def test_an_ipv6_client_is_counted_by_its_64(host: str, key: str) -> None:
    assert client_key({"client": (host, 1)}) == key
