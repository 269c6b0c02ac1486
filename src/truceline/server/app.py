"""``create_app(settings, store)``: the HTTP API, with every read path through the policy layer.

Nothing is opened at import: the app is built from a store and :class:`ServerSettings` that the
caller owns (and closes). Routes are thin: they authenticate, call one function of
:mod:`truceline.server.reads` or :mod:`truceline.server.ingest`, and map refusals to status codes
with messages that name only what the requester sent.
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import FastAPI, HTTPException, Query, Request
from fastapi.responses import JSONResponse
from starlette.concurrency import run_in_threadpool
from starlette.middleware.base import BaseHTTPMiddleware, RequestResponseEndpoint
from starlette.responses import Response
from starlette.types import ASGIApp

from truceline.dashboard import mount_dashboard
from truceline.ingest import ContextChecks
from truceline.interop.taxii import add_taxii_routes
from truceline.model import OBSERVATION_KINDS, Markings, ParticipantId
from truceline.policy import AccessDenied, ExportRefused, InMemoryAuditLog, NotFoundOrHidden, Policy
from truceline.server.audit import SQLiteAuditLog
from truceline.server.auth import PrincipalDep, current_principal, taxii_principal
from truceline.server.ingest import JSON_TYPES, NDJSON_TYPES, IngestRefused, split_body, store_reports, validate_reports
from truceline.server.reads import (
    RECORD_COLLECTIONS,
    BadCursor,
    CursorCodec,
    list_observations,
    list_records,
    read_observation,
    read_record,
)
from truceline.server.report_route import add_report_route
from truceline.server.schemas import (
    AuditEntry,
    AuditPage,
    ErrorBody,
    GroupView,
    Health,
    IngestRefusal,
    IngestResult,
    Me,
    ObservationPage,
    RecordPage,
    RecordProblem,
)
from truceline.server.security import RateLimit, SecurityHeaders
from truceline.server.settings import DEFAULT_PAGE, MAX_PAGE, ServerSettings
from truceline.store import Store

API = "/v1"
_ERRORS: dict[int | str, dict[str, Any]] = {
    401: {"model": ErrorBody, "description": "missing, invalid, expired or revoked token"},
}
_NOT_FOUND: dict[int | str, dict[str, Any]] = {
    404: {"model": ErrorBody, "description": "not found, or not visible to you (the same answer)"}
}
_BAD_QUERY: dict[int | str, dict[str, Any]] = {400: {"model": ErrorBody, "description": "unusable query"}}
_TOO_MANY: dict[int | str, dict[str, Any]] = {
    429: {
        "model": ErrorBody,
        "description": "a rate limit was reached (per token, per address, or of failed authentications); "
        "`Retry-After` gives the seconds to wait",
    }
}
_INGEST_BODY = {
    "requestBody": {
        "required": True,
        "description": "Reports in the format `truceline ingest` reads (docs/ingest.md): NDJSON, one per line, "
        "or JSON, one object or an array of them.",
        "content": {
            "application/x-ndjson": {"schema": {"type": "string"}},
            "application/json": {
                "schema": {"oneOf": [{"type": "object"}, {"type": "array", "items": {"type": "object"}}]}
            },
        },
    }
}


class _BodyLimit(BaseHTTPMiddleware):
    """Refuse a request whose declared size exceeds the limit before reading any of it."""

    def __init__(self, app: Any, limit: int) -> None:
        super().__init__(app)
        self.limit = limit

    async def dispatch(self, request: Request, call_next: RequestResponseEndpoint) -> Response:
        declared = request.headers.get("content-length")
        if declared is not None and (not declared.isdigit() or int(declared) > self.limit):
            return JSONResponse({"detail": f"request larger than {self.limit} bytes"}, status_code=413)
        return await call_next(request)


async def _read_capped(request: Request, limit: int) -> bytes:
    # Chunked uploads declare no length: count as we read and stop at the limit.
    body = bytearray()
    async for chunk in request.stream():
        body.extend(chunk)
        if len(body) > limit:
            raise HTTPException(status_code=413, detail=f"request larger than {limit} bytes")
    return bytes(body)


class _Server(FastAPI):
    """FastAPI with the security headers outside everything, Starlette's error handler included."""

    def build_middleware_stack(self) -> ASGIApp:
        # User middleware sits inside ServerErrorMiddleware, whose 500 would leave without headers.
        return SecurityHeaders(super().build_middleware_stack())


def create_app(settings: ServerSettings, store: Store) -> FastAPI:
    """The API over ``store``; the caller keeps ownership of the store and the settings' files."""
    app = _Server(
        # No Swagger/ReDoc pages: they load scripts from a CDN, and servers may be offline.
        docs_url=None,
        redoc_url=None,
        title=settings.title,
        version="1",
        description="Cease-fire monitoring: ingest reports and read incidents, findings, assessments, alerts and "
        "observations, each as far as its markings (TLP 2.0, releasability, sharing groups) allow.",
        responses=_TOO_MANY,
    )
    policy = Policy(settings.context, audit=settings.audit, clock=settings.clock)
    codec = CursorCodec(settings.cursor_key)
    app.state.store = store
    app.state.policy = policy
    app.state.tokens = settings.tokens
    app.state.settings = settings
    app.add_middleware(_BodyLimit, limit=settings.max_request_bytes)
    # Added last, so outermost of the two: a request over its rate is refused before anything is read.
    app.add_middleware(RateLimit, limits=settings.rate_limits, tokens=settings.tokens, now=settings.monotonic)
    _install_error_handlers(app)

    @app.get("/health", response_model=Health, tags=["service"])
    def health() -> Health:
        """Liveness; says nothing about the data (no counts: a count could leak)."""
        return Health(status="ok")

    @app.get(f"{API}/me", response_model=Me, responses=_ERRORS, tags=["service"])
    def me(principal: PrincipalDep) -> Me:
        """Who the token stands for and the sharing groups it acts in."""
        groups = [
            GroupView(id=g.id, members=list(g.members), description=g.description)
            for g in policy.groups_visible_to(principal)
        ]
        return Me(
            participant=principal.participant, roles=list(principal.roles), subject=principal.subject, groups=groups
        )

    @app.post(
        f"{API}/observations",
        response_model=IngestResult,
        tags=["ingest"],
        openapi_extra=_INGEST_BODY,
        responses={
            **_ERRORS,
            400: {"model": ErrorBody, "description": "unreadable body"},
            403: {"model": ErrorBody, "description": "writing needs the analyst role"},
            413: {"model": ErrorBody, "description": "request too large"},
            415: {"model": ErrorBody, "description": "unsupported content type"},
            422: {"model": IngestRefusal, "description": "some report is invalid; nothing was stored"},
        },
    )
    async def ingest(request: Request, principal: PrincipalDep) -> IngestResult:
        """Validate reports as `truceline ingest` does and store them all, or none."""
        if not policy.may(principal, "write"):
            # Refused (and audited) before the body is read: the markings are a stand-in.
            policy.check_create(principal, "observations", Markings(tlp="green", originator=principal.participant))
        media_type = request.headers.get("content-type", "").split(";")[0].strip().lower()
        if media_type not in NDJSON_TYPES | JSON_TYPES:
            raise HTTPException(415, "send application/x-ndjson (one report per line) or application/json")
        body = await _read_capped(request, settings.max_request_bytes)
        parts = split_body(body, media_type)
        checks = ContextChecks(
            participants=frozenset(settings.context.participants),
            now=settings.clock.now(),
            future_tolerance=settings.future_tolerance,
        )
        # Validation and the durable commit block: run them off the event loop.
        rows = await run_in_threadpool(validate_reports, parts, checks, policy, principal)
        outcome = await run_in_threadpool(store_reports, store, rows)
        return IngestResult(
            received=outcome.received,
            stored=outcome.stored,
            duplicates=outcome.duplicates,
            conflicts=[_problem(e) for e in outcome.conflicts],
        )

    @app.get(
        f"{API}/observations",
        response_model=ObservationPage,
        responses={**_ERRORS, **_BAD_QUERY},
        tags=["observations"],
    )
    def observations(
        principal: PrincipalDep,
        cursor: Annotated[str | None, Query(max_length=1_000, description="`next` of the previous page")] = None,
        limit: Annotated[int, Query(ge=1, le=MAX_PAGE)] = DEFAULT_PAGE,
        kind: Annotated[list[str] | None, Query(description="observation kinds to include")] = None,
        participant: Annotated[list[ParticipantId] | None, Query(description="reporting participants")] = None,
    ) -> ObservationPage:
        """Observations you may see, in arrival order."""
        unknown = sorted(set(kind or ()) - set(OBSERVATION_KINDS))
        if unknown:
            raise HTTPException(
                400, f"unknown observation kind(s) {unknown}; expected some of {list(OBSERVATION_KINDS)}"
            )
        return list_observations(
            store, policy, principal, codec, cursor=cursor, limit=limit, kinds=kind, participants=participant
        )

    @app.get(
        f"{API}/observation", response_model=dict[str, Any], responses={**_ERRORS, **_NOT_FOUND}, tags=["observations"]
    )
    def observation(
        principal: PrincipalDep,
        participant: Annotated[str, Query(max_length=200)],
        source: Annotated[str, Query(max_length=200)],
        key: Annotated[str, Query(max_length=200)],
    ) -> dict[str, Any]:
        """One observation by its permanent identity (participant, source, key)."""
        return read_observation(store, policy, principal, participant, source, key)

    for collection in RECORD_COLLECTIONS:
        _add_record_routes(app, store, policy, collection)

    @app.get(
        f"{API}/audit", response_model=AuditPage, responses={**_ERRORS, 403: {"model": ErrorBody}}, tags=["service"]
    )
    def audit(
        principal: PrincipalDep,
        after: Annotated[int, Query(ge=0, le=2**62)] = 0,
        limit: Annotated[int, Query(ge=1, le=MAX_PAGE)] = DEFAULT_PAGE,
    ) -> AuditPage:
        """Your own participant's audit events (administrators only)."""
        policy.check_administer(principal, "audit")
        log = settings.audit
        if isinstance(log, SQLiteAuditLog):
            events = log.events(principal.participant, after=after, limit=limit)
        elif isinstance(log, InMemoryAuditLog):
            mine = [(n, e) for n, e in enumerate(log.events, start=1) if e.participant == principal.participant]
            events = [(n, e) for n, e in mine if n > after][:limit]
        else:
            events = []  # a log this server cannot read back
        return AuditPage(
            items=[
                AuditEntry(
                    position=n,
                    time=e.time.isoformat(),
                    participant=e.participant,
                    subject=e.subject,
                    action=e.action,
                    ref=e.ref,
                    allowed=e.allowed,
                    returned=e.returned,
                )
                for n, e in events
            ]
        )

    add_report_route(app, store, policy, lambda: settings.agreement, settings.clock)
    add_taxii_routes(app, store, policy, taxii_principal, clock=settings.clock, max_content=settings.max_request_bytes)
    mount_dashboard(
        app,
        store,
        policy,
        current_principal,
        clock=settings.clock,
        agreement=settings.agreement,
        coalition=settings.coalition,
    )
    return app


def _add_record_routes(app: FastAPI, store: Store, policy: Policy, collection: str) -> None:
    singular = RECORD_COLLECTIONS[collection]

    def list_route(
        principal: PrincipalDep,
        offset: Annotated[int, Query(ge=0, le=10_000_000)] = 0,
        limit: Annotated[int, Query(ge=1, le=MAX_PAGE)] = DEFAULT_PAGE,
        sector: Annotated[str | None, Query(max_length=200)] = None,
    ) -> RecordPage:
        return list_records(store, policy, principal, collection, offset=offset, limit=limit, sector=sector)

    def one_route(principal: PrincipalDep, record_id: str) -> dict[str, Any]:
        return read_record(store, policy, principal, collection, record_id)

    app.get(
        f"{API}/{collection}",
        response_model=RecordPage,
        responses=_ERRORS,
        tags=["records"],
        summary=f"List {collection}",
        description=f"The latest version of every {singular} you may see; `total` counts only those.",
        operation_id=f"list_{collection}",
    )(list_route)
    app.get(
        f"{API}/{collection}/{{record_id}}",
        response_model=dict[str, Any],
        responses={**_ERRORS, **_NOT_FOUND},
        tags=["records"],
        summary=f"Get one {singular}",
        description=f"The latest version of one {singular}; a missing and a hidden one give the same 404.",
        operation_id=f"get_{singular}",
    )(one_route)


def _problem(error: Any) -> RecordProblem:
    return RecordProblem(record=error.record, field=error.field, reason=error.reason)


def _install_error_handlers(app: FastAPI) -> None:
    async def hidden(_: Request, exc: Exception) -> JSONResponse:
        return JSONResponse({"detail": str(exc)}, status_code=404)

    async def denied(_: Request, exc: Exception) -> JSONResponse:
        return JSONResponse({"detail": str(exc)}, status_code=403)

    async def refused(_: Request, exc: Exception) -> JSONResponse:
        assert isinstance(exc, IngestRefused)
        return JSONResponse(
            {"detail": exc.message, "errors": [_problem(e).model_dump() for e in exc.errors]}, status_code=422
        )

    async def bad_cursor(_: Request, exc: Exception) -> JSONResponse:
        return JSONResponse({"detail": str(exc)}, status_code=400)

    app.add_exception_handler(NotFoundOrHidden, hidden)
    app.add_exception_handler(AccessDenied, denied)
    app.add_exception_handler(ExportRefused, denied)
    app.add_exception_handler(IngestRefused, refused)
    app.add_exception_handler(BadCursor, bad_cursor)
