"""``mount_dashboard``: the dashboard's pages at ``/dashboard/`` and its JSON at ``/v1/dashboard/``.

The pages are static files (HTML, JS, CSS and the vendored Leaflet) that hold no data: once a
participant has pasted its token on the login page, the scripts read everything through the JSON
routes below, which authenticate with the server's own bearer-token dependency and pass every row
through the policy layer (:mod:`truceline.dashboard.views`). The server hands in its dependency
and policy, so this package never imports the server (it sits below it in the layer order).
"""

from __future__ import annotations

import gzip
import json
import threading
from collections import OrderedDict
from collections.abc import Callable
from pathlib import Path
from typing import Annotated, Any

from fastapi import Depends, FastAPI, Query, Request
from fastapi import Path as PathParam
from fastapi.responses import JSONResponse, RedirectResponse
from starlette.concurrency import run_in_threadpool
from starlette.responses import Response
from starlette.staticfiles import StaticFiles
from starlette.types import Message, Receive, Scope, Send

from truceline.act import register_records
from truceline.agreement import Agreement, default_agreement
from truceline.dashboard.coalition import CoalitionCache, NoCoalition, visible_units
from truceline.dashboard.directives import AcknowledgeConflict, AcknowledgeRequest, acknowledge_directive
from truceline.dashboard.geography import GeographyCache
from truceline.dashboard.review import ReviewConflict, ReviewInvalid, ReviewRequest, review_incident
from truceline.dashboard.snapshot import DashboardIndex, SnapshotUnavailable
from truceline.dashboard.views import (
    BadQuery,
    SensorCache,
    audit_read,
    day_view,
    feed_view,
    incident_view,
    parse_day,
    select_day,
    sensors_view,
)
from truceline.guarantee import EXAMPLE_COALITION, Coalition, load_coalition
from truceline.model import Clock, SystemClock
from truceline.policy import Policy, Principal
from truceline.store import Store

STATIC = Path(__file__).resolve().parent / "static"
PAGES = "/dashboard"
API = "/v1/dashboard"
GZIP_ABOVE = 2_048
DAY_CACHE = 8
"""Day views kept (about 0.7 MB each for a day of 10,000 incidents)."""
# Records are marked: nothing of them may linger in a shared cache or on disk.
_NO_STORE = {"Cache-Control": "no-store", "Vary": "Accept-Encoding, Authorization"}
RecordId = Annotated[str, PathParam(min_length=1, max_length=200)]

# Scripts and styles only from this server, nothing inline: a token kept in sessionStorage is as
# safe as the page's scripts. Leaflet and the pages set styles through the CSSOM (element.style),
# which a CSP does not govern; images from data: are Leaflet's and the favicon's.
PAGE_CSP = (
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self'; "
    "font-src 'self'; object-src 'none'; base-uri 'none'; frame-ancestors 'none'; form-action 'self'"
)
SECURITY_HEADERS = {
    "content-security-policy": PAGE_CSP,
    "x-content-type-options": "nosniff",
    "referrer-policy": "no-referrer",
    "x-frame-options": "DENY",
}
"""Set on every page here; the server adds the rest (``truceline.server.security``) to every response."""
VENDOR_CACHE = "public, max-age=86400"
"""Vendored libraries change only with their version: a browser may keep them for a day."""
PAGE_CACHE = "no-cache"
"""The dashboard's own pages, scripts and styles: kept, but checked (ETag) on every use, so an
upgraded server never runs with yesterday's scripts."""

Responses = dict[int | str, dict[str, Any]]
_JSON_200: Responses = {200: {"content": {"application/json": {"schema": {"type": "object"}}}}}
_ERROR_SCHEMA = {"type": "object", "properties": {"detail": {"type": "string"}}, "required": ["detail"]}
_ERR: dict[str, Any] = {"content": {"application/json": {"schema": _ERROR_SCHEMA}}}
_401: Responses = {401: {**_ERR, "description": "missing, invalid, expired or revoked token"}}
_400: Responses = {400: {**_ERR, "description": "a query parameter the dashboard cannot use"}}
_404: Responses = {404: {**_ERR, "description": "not found, or not visible to you (the same answer)"}}
_503: Responses = {503: {**_ERR, "description": "the dashboard is still reading the store; retry shortly"}}
_NO_COALITION: Responses = {404: {**_ERR, "description": "this server has no coalition to show (the reason is given)"}}


class _Pages:
    """The static files, with security headers, warming the caches whenever someone opens a page."""

    def __init__(self, warm: Callable[[], None]) -> None:
        self._files = StaticFiles(directory=STATIC, html=True)
        self._warm = warm

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http":
            self._warm()

        cache = VENDOR_CACHE if str(scope.get("path", "")).startswith(f"{PAGES}/vendor/") else PAGE_CACHE

        async def with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = list(message.get("headers", []))
                headers += [(k.encode(), v.encode()) for k, v in SECURITY_HEADERS.items()]
                if message.get("status", 200) in (200, 304):
                    headers.append((b"cache-control", cache.encode()))
                message["headers"] = headers
            await send(message)

        await self._files(scope, receive, with_headers)


def _json(request: Request, document: Any, status: int = 200) -> Response:
    raw = json.dumps(document, separators=(",", ":"), ensure_ascii=False).encode("utf-8")
    if len(raw) > GZIP_ABOVE:
        return _send(request, gzip.compress(raw, compresslevel=1, mtime=0), status)
    return Response(raw, status_code=status, media_type="application/json", headers=_NO_STORE)


def _gzip(document: Any) -> bytes:
    # Level 1: a day of 10,000 incidents is 3 MB of JSON; level 5 would add a tenth of a second.
    raw = json.dumps(document, separators=(",", ":"), ensure_ascii=False).encode("utf-8")
    return gzip.compress(raw, compresslevel=1, mtime=0)


def _send(request: Request, gzipped: bytes, status: int = 200) -> Response:
    if "gzip" in request.headers.get("accept-encoding", ""):
        return Response(gzipped, status_code=status, media_type="application/json",
                        headers={**_NO_STORE, "Content-Encoding": "gzip"})
    return Response(gzip.decompress(gzipped), status_code=status, media_type="application/json", headers=_NO_STORE)


class _DayCache:
    """The last few day views as sent, keyed by what they show (not by who asked).

    Two participants who see the same rows get the same bytes, so the key is the snapshot version
    and the digest of the rows selected by the policy; the policy still decides, and audits, on
    every request (:func:`select_day` runs first).
    """

    def __init__(self, size: int = DAY_CACHE) -> None:
        self._size = size
        self._lock = threading.Lock()
        self._items: OrderedDict[tuple[int, bool, bytes], bytes] = OrderedDict()

    def get(self, key: tuple[int, bool, bytes]) -> bytes | None:
        with self._lock:
            body = self._items.get(key)
            if body is not None:
                self._items.move_to_end(key)
            return body

    def put(self, key: tuple[int, bool, bytes], body: bytes) -> None:
        with self._lock:
            self._items[key] = body
            self._items.move_to_end(key)
            while len(self._items) > self._size:
                self._items.popitem(last=False)


def mount_dashboard(
    app: FastAPI,
    store: Store,
    policy: Policy,
    principal: Callable[..., Principal],
    *,
    clock: Clock | None = None,
    agreement: Agreement | None = None,
    coalition: Coalition | None = None,
) -> None:
    """Add the dashboard's pages and JSON routes to ``app``.

    ``principal`` is the server's authentication dependency (bearer token → :class:`Principal`);
    ``agreement`` defaults to the shipped one and is loaded on first use, not here. ``coalition``
    defaults to the shipped example, loaded against ``agreement`` when the coalition page first
    asks for it.
    """
    register_records()  # the act stage's activations and directive tasks feed the live feed
    clock = clock if clock is not None else SystemClock()
    index = DashboardIndex(store, clock.now)
    sensors = SensorCache(store)
    days = _DayCache()

    def served_agreement() -> Agreement:
        return agreement if agreement is not None else default_agreement()

    geography = GeographyCache(served_agreement)
    coalitions = CoalitionCache(
        lambda: coalition if coalition is not None else load_coalition(EXAMPLE_COALITION, served_agreement())
    )

    def warm() -> None:
        index.warm()
        geography.warm()
        coalitions.warm()

    app.state.dashboard = index
    # A default, not an Annotated alias: annotations are strings here, resolved in module scope.
    who_dep = Depends(principal)

    def refuse(exc: Exception, status: int) -> JSONResponse:
        headers = {"Retry-After": "2"} if status == 503 else None
        return JSONResponse({"detail": str(exc)}, status_code=status, headers=headers)

    async def bad_query(_: Request, exc: Exception) -> JSONResponse:
        return refuse(exc, 400)

    async def unavailable(_: Request, exc: Exception) -> JSONResponse:
        return refuse(exc, 503)

    async def conflict(_: Request, exc: Exception) -> JSONResponse:
        return refuse(exc, 409)

    async def invalid(_: Request, exc: Exception) -> JSONResponse:
        # 400, not 422: FastAPI's 422 has its own body shape (a list of field errors).
        return refuse(exc, 400)

    async def no_coalition(_: Request, exc: Exception) -> JSONResponse:
        return refuse(exc, 404)

    app.add_exception_handler(BadQuery, bad_query)
    app.add_exception_handler(SnapshotUnavailable, unavailable)
    app.add_exception_handler(ReviewConflict, conflict)
    app.add_exception_handler(AcknowledgeConflict, conflict)
    app.add_exception_handler(ReviewInvalid, invalid)
    app.add_exception_handler(NoCoalition, no_coalition)

    @app.get(PAGES, include_in_schema=False)
    def pages_root() -> RedirectResponse:
        return RedirectResponse(f"{PAGES}/", status_code=308)

    app.mount(PAGES, _Pages(warm), name="dashboard")

    @app.get(f"{API}/geography", tags=["dashboard"], responses={**_JSON_200, **_401})
    async def geography_route(request: Request, who: Principal = who_dep) -> Response:
        """The map's fixed layers: base map and the agreement's geometry (GeoJSON; the same for everyone)."""

        def read() -> bytes:
            body = geography.gzipped()
            audit_read(policy, who, "dashboard/geography", geography.features(), clock.now())
            return body

        body = await run_in_threadpool(read)
        headers = dict(_NO_STORE)  # like every answer under /v1, though it holds no marked record
        if "gzip" in request.headers.get("accept-encoding", ""):
            headers["Content-Encoding"] = "gzip"
        else:
            body = gzip.decompress(body)
        return Response(body, media_type="application/json", headers=headers)

    @app.get(f"{API}/day", tags=["dashboard"], responses={**_JSON_200, **_400, **_401, **_503})
    def day_route(
        request: Request,
        day: Annotated[str | None, Query(max_length=100, description="UTC day, YYYY-MM-DD; default the latest")] = None,
        who: Principal = who_dep,
    ) -> Response:
        """One day's incidents, findings, warnings and the timeline around it, as far as you may see them."""
        wanted = parse_day(day)
        snapshot, stale = index.current()
        selection = select_day(snapshot, policy, who, wanted, clock.now())
        key = (snapshot.version, stale, selection.digest())
        body = days.get(key)
        if body is None:
            body = _gzip(day_view(snapshot, selection, stale))
            days.put(key, body)
        return _send(request, body)

    @app.get(f"{API}/feed", tags=["dashboard"], responses={**_JSON_200, **_401, **_503})
    def feed_route(
        request: Request,
        after: Annotated[int | None, Query(ge=0, le=2**40, description="only items after this Unix time")] = None,
        who: Principal = who_dep,
    ) -> Response:
        """The newest alerts, playbook activations and directive tasks you may see (poll it)."""
        snapshot, stale = index.current()
        return _json(request, feed_view(snapshot, stale, policy, who, after))

    @app.get(f"{API}/sensors", tags=["dashboard"], responses={**_JSON_200, **_400, **_401})
    def sensors_route(
        request: Request,
        day: Annotated[str, Query(max_length=100, description="UTC day, YYYY-MM-DD")],
        who: Principal = who_dep,
    ) -> Response:
        """Sensors heard on the day (probed hour by hour), as far as you may see their reports."""
        wanted = parse_day(day)
        if wanted is None:
            raise BadQuery("day is required, as YYYY-MM-DD")
        return _json(request, sensors_view(sensors, policy, who, wanted))

    @app.get(f"{API}/incidents/{{record_id}}", tags=["dashboard"], responses={**_JSON_200, **_401, **_404, **_503})
    def incident_route(request: Request, record_id: RecordId, who: Principal = who_dep) -> Response:
        """One incident with the reports, findings, checked claims and versions behind it that you may see."""
        snapshot, _ = index.current()
        return _json(request, incident_view(store, snapshot, policy, who, record_id))

    @app.post(
        f"{API}/incidents/{{record_id}}/review",
        tags=["dashboard"],
        responses={
            **_JSON_200,
            **_401,
            **_404,
            400: {**_ERR, "description": "names an origin or attribution the incident does not have"},
            403: {**_ERR, "description": "reviewing needs the reviewer role"},
            409: {**_ERR, "description": "the incident changed since it was opened, or takes no further review"},
        },
    )
    def review_route(
        request: Request, record_id: RecordId, decision: ReviewRequest, who: Principal = who_dep
    ) -> Response:
        """Review an incident: a new version with your status and preferred solutions (reviewer role)."""
        return _json(request, review_incident(store, policy, who, record_id, decision, clock.now()))

    @app.get(f"{API}/coalition", tags=["dashboard"], responses={**_JSON_200, **_401, **_NO_COALITION})
    def coalition_route(
        request: Request,
        level: Annotated[int, Query(ge=1, le=5, description="warning level under which pledges are counted")] = 1,
        ceasefire: Annotated[bool, Query(description="whether a cease-fire holds")] = True,
        ratified_only: Annotated[
            bool, Query(description="count only guarantors whose ratification is in force")
        ] = False,
        who: Principal = who_dep,
    ) -> Response:
        """The guarantee's coalition: pledges against requirements, unit posture and breaches, the force plan.

        Pledges are not secret between guarantors: every logged-in participant sees the same ones. Unit
        positions pass the policy layer, as on the map's force layer.
        """
        units = visible_units(policy, who, "dashboard/coalition/units", coalitions.units())
        document = coalitions.view(level, ceasefire, ratified_only, units)
        audit_read(policy, who, "dashboard/coalition", len(document["pledges"]), clock.now())
        return _json(request, document)

    @app.get(f"{API}/force", tags=["dashboard"], responses={**_JSON_200, **_401, **_NO_COALITION})
    def force_route(request: Request, who: Principal = who_dep) -> Response:
        """The reassurance force's posture for the map: unit positions you may read, their status, the rules.

        Each position carries the markings the verify stage gives a posture breach (TLP:GREEN, the
        contributing nation as originator): every current participant reads them.
        """
        return _json(request, coalitions.force(visible_units(policy, who, "dashboard/force", coalitions.units())))

    @app.post(
        f"{API}/directives/{{record_id}}/acknowledge",
        tags=["dashboard"],
        responses={
            **_JSON_200,
            **_401,
            **_404,
            400: {**_ERR, "description": "an unreadable body"},
            403: {**_ERR, "description": "only the task's owner, as reviewer or analyst, may acknowledge it"},
            409: {**_ERR, "description": "the task is already acknowledged or done, or blocked"},
        },
    )
    def acknowledge_route(
        request: Request, record_id: RecordId, body: AcknowledgeRequest, who: Principal = who_dep
    ) -> Response:
        """Acknowledge a directive task addressed to your participant: a new version of it (reviewer or analyst)."""
        return _json(request, acknowledge_directive(store, policy, who, record_id, body, clock.now()))
