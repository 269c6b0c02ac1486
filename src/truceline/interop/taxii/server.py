"""A TAXII 2.1 server on the FastAPI app: discovery, one API root, a collection per sharing group.

Collections are the principal's view: ``mechanism`` holds the records outside any sharing group
and each group the principal acts in has its own; a group it does not act in answers 404 exactly
like a collection that does not exist, and its name, id and members are never shown. Objects and
manifests are built from the records the policy releases to the requester (``Policy.read_many``),
converted to STIX after redaction, so a withheld field never reaches a STIX property.

Writes (``POST .../objects/``) import Truceline STIX (see :mod:`truceline.interop.stix.reader`):
every record must be created by the writer (originator = its participant, checked by
``Policy.check_create``) under an id prefixed ``<participant>:`` so that no import can replace
another participant's record. The whole envelope is checked before anything is stored.
"""

import threading
import uuid
from collections.abc import Callable, Sequence
from datetime import datetime
from enum import Enum
from typing import Annotated, Any

from fastapi import Depends, FastAPI, HTTPException, Path, Query, Request
from fastapi.responses import JSONResponse
from starlette.concurrency import run_in_threadpool

from truceline.interop.stix import StixError, read_bundle, stix_time
from truceline.interop.taxii._objects import collection_objects
from truceline.model import Clock, Record, SystemClock
from truceline.policy import AccessDenied, Policy, Principal
from truceline.store import Store

TAXII_MEDIA = "application/taxii+json;version=2.1"
STIX_MEDIA = "application/stix+json;version=2.1"
ROOT = "/taxii2"
API_ROOT = f"{ROOT}/api"
MAX_CONTENT = 10_000_000
MAX_PAGE = 1_000
MECHANISM = "mechanism"
_UUID_NS = uuid.UUID("7a1d2c8e-51b7-4f0e-9d65-2b1f4a3e9c10")
_NOT_FOUND = "the collection was not found or is not visible to you"


_REFUSALS: dict[int | str, dict[str, Any]] = {
    400: {"description": "unusable query parameter"},
    401: {"description": "missing, invalid, expired or revoked token"},
    403: {"description": "the token may not write this record"},
    404: {"description": "not found, or not visible to you (the same answer)"},
    406: {"description": "the Accept header asks for something other than TAXII 2.1"},
    413: {"description": "request too large"},
    415: {"description": "unsupported content type"},
    422: {"description": "malformed request or STIX"},
}


class TaxiiResponse(JSONResponse):
    media_type = TAXII_MEDIA


def collection_id(group: str | None) -> str:
    """The collection's UUID: derived from the group id, so it is stable across restarts."""
    return str(uuid.uuid5(_UUID_NS, group or MECHANISM))


def _error(status: int, title: str) -> TaxiiResponse:
    return TaxiiResponse({"title": title, "http_status": str(status)}, status_code=status)


def _check_accept(request: Request) -> None:
    accept = request.headers.get("accept", "*/*").replace(" ", "").lower()
    if not any(part.startswith(("application/taxii+json", "*/*", "application/*")) for part in accept.split(",")):
        raise HTTPException(406, f"this server speaks {TAXII_MEDIA}")


class _Statuses:
    """Status resources of writes, visible only to the participant that wrote."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._by_id: dict[str, tuple[str, dict[str, Any]]] = {}

    def add(self, participant: str, status: dict[str, Any]) -> None:
        with self._lock:
            self._by_id[status["id"]] = (participant, status)

    def get(self, participant: str, status_id: str) -> dict[str, Any] | None:
        with self._lock:
            found = self._by_id.get(status_id)
        return found[1] if found is not None and found[0] == participant else None


def add_taxii_routes(
    app: FastAPI,
    store: Store,
    policy: Policy,
    principal_dependency: Callable[..., Principal],
    *,
    clock: Clock | None = None,
    max_content: int = MAX_CONTENT,
) -> None:
    """Mount the TAXII 2.1 endpoints under ``/taxii2/`` on ``app``; writes of more than
    ``max_content`` bytes are refused (413), and the API root says so."""
    now = (clock or SystemClock()).now
    statuses = _Statuses()
    Who = Annotated[Principal, Depends(principal_dependency)]
    CollectionId = Annotated[str, Path(max_length=64)]

    def visible_groups(principal: Principal) -> dict[str, str | None]:
        groups: dict[str, str | None] = {collection_id(None): None}
        for group in policy.groups_visible_to(principal):
            groups[collection_id(group.id)] = group.id
        return groups

    def resolve(principal: Principal, cid: str) -> str | None:
        groups = visible_groups(principal)
        if cid not in groups:
            policy.read(principal, f"taxii/collections/{cid}", None)  # audited like any hidden read
        return groups[cid]

    def collection_resource(group: str | None) -> dict[str, Any]:
        return {
            "id": collection_id(group),
            "title": f"Sharing group {group}" if group else "Mechanism",
            "description": (
                f"Records of sharing group {group}, as your markings allow."
                if group
                else "Records outside any sharing group, as your markings allow."
            ),
            "can_read": True,
            "can_write": True,
            "media_types": [STIX_MEDIA],
        }

    tags: list[str | Enum] = ["taxii"]

    @app.get(f"{ROOT}/", tags=tags, response_class=TaxiiResponse, responses=_REFUSALS)
    def discovery(request: Request, principal: Who) -> TaxiiResponse:
        """TAXII discovery: this server's one API root."""
        _check_accept(request)
        return TaxiiResponse(
            {
                "title": "Truceline TAXII 2.1",
                "description": "Incidents and findings of the cease-fire monitoring mechanism, per sharing group.",
                "default": f"{API_ROOT}/",
                "api_roots": [f"{API_ROOT}/"],
            }
        )

    @app.get(f"{API_ROOT}/", tags=tags, response_class=TaxiiResponse, responses=_REFUSALS)
    def api_root(request: Request, principal: Who) -> TaxiiResponse:
        _check_accept(request)
        return TaxiiResponse({"title": "Truceline", "versions": [TAXII_MEDIA], "max_content_length": max_content})

    @app.get(f"{API_ROOT}/collections/", tags=tags, response_class=TaxiiResponse, responses=_REFUSALS)
    def collections(request: Request, principal: Who) -> TaxiiResponse:
        _check_accept(request)
        groups = visible_groups(principal)
        return TaxiiResponse({"collections": [collection_resource(g) for g in groups.values()]})

    @app.get(f"{API_ROOT}/collections/{{cid}}/", tags=tags, response_class=TaxiiResponse, responses=_REFUSALS)
    def collection(request: Request, principal: Who, cid: CollectionId) -> TaxiiResponse:
        _check_accept(request)
        return TaxiiResponse(collection_resource(resolve(principal, cid)))

    def page(
        principal: Principal,
        cid: str,
        added_after: str | None,
        limit: int,
        next_: str | None,
        match_id: Sequence[str],
        match_type: Sequence[str],
    ) -> tuple[list[tuple[datetime, dict[str, Any]]], bool, int]:
        group = resolve(principal, cid)
        entries = collection_objects(store, policy, principal, group, f"taxii/collections/{cid}")
        if added_after is not None:
            try:
                after = datetime.fromisoformat(added_after.replace("Z", "+00:00"))
            except ValueError:
                raise HTTPException(400, "added_after must be a timestamp such as 2026-03-01T00:00:00.000Z") from None
            if after.tzinfo is None:
                raise HTTPException(400, "added_after needs a UTC offset or Z")
            entries = [e for e in entries if e[0] > after]
        if match_id:
            entries = [e for e in entries if e[1]["id"] in set(match_id)]
        if match_type:
            entries = [e for e in entries if e[1]["type"] in set(match_type)]
        start = 0
        if next_ is not None:
            if not next_.isdigit() or int(next_) > len(entries):
                raise HTTPException(400, "next is not a value this server gave")
            start = int(next_)
        end = min(start + limit, len(entries))
        return entries[start:end], end < len(entries), end

    def envelope(rows: list[tuple[datetime, dict[str, Any]]], more: bool, end: int, *, manifest: bool) -> TaxiiResponse:
        headers = {}
        if rows:
            headers["X-TAXII-Date-Added-First"] = stix_time(rows[0][0])
            headers["X-TAXII-Date-Added-Last"] = stix_time(rows[-1][0])
        body: dict[str, Any] = {"more": more}
        if more:
            body["next"] = str(end)
        if manifest:
            body["objects"] = [
                {
                    "id": o["id"],
                    "date_added": stix_time(added),
                    "version": o.get("modified", o.get("created")),
                    "media_type": STIX_MEDIA,
                }
                for added, o in rows
            ]
        else:
            body["objects"] = [o for _, o in rows]
        return TaxiiResponse(body, headers=headers)

    Limit = Annotated[int, Query(ge=1, le=MAX_PAGE)]
    MatchId = Annotated[list[str] | None, Query(alias="match[id]", max_length=300)]
    MatchType = Annotated[list[str] | None, Query(alias="match[type]", max_length=300)]
    Text = Annotated[str | None, Query(max_length=64)]

    def listing(*, manifest: bool) -> Callable[..., TaxiiResponse]:
        """The objects or the manifest endpoint: the same filters and paging, two shapes of answer."""

        def route(
            request: Request,
            principal: Who,
            cid: CollectionId,
            added_after: Text = None,
            limit: Limit = 100,
            next: Text = None,
            match_id: MatchId = None,
            match_type: MatchType = None,
        ) -> TaxiiResponse:
            _check_accept(request)
            rows, more, end = page(principal, cid, added_after, limit, next, match_id or (), match_type or ())
            return envelope(rows, more, end, manifest=manifest)

        return route

    app.get(
        f"{API_ROOT}/collections/{{cid}}/objects/",
        tags=tags,
        response_class=TaxiiResponse,
        responses=_REFUSALS,
        name="get_objects",
    )(listing(manifest=False))
    app.get(
        f"{API_ROOT}/collections/{{cid}}/manifest/",
        tags=tags,
        response_class=TaxiiResponse,
        responses=_REFUSALS,
        name="get_manifest",
    )(listing(manifest=True))

    @app.get(
        f"{API_ROOT}/collections/{{cid}}/objects/{{object_id}}/",
        tags=tags,
        response_class=TaxiiResponse,
        responses=_REFUSALS,
    )
    def get_object(
        request: Request, principal: Who, cid: CollectionId, object_id: Annotated[str, Path(max_length=300)]
    ) -> TaxiiResponse:
        _check_accept(request)
        rows, more, end = page(principal, cid, None, MAX_PAGE, None, (object_id,), ())
        if not rows:
            raise HTTPException(404, "the object was not found or is not visible to you")
        return envelope(rows, more, end, manifest=False)

    @app.post(
        f"{API_ROOT}/collections/{{cid}}/objects/",
        tags=tags,
        response_class=TaxiiResponse,
        responses=_REFUSALS,
        status_code=202,
    )
    async def add_objects(request: Request, principal: Who, cid: CollectionId) -> TaxiiResponse:
        _check_accept(request)
        group = resolve(principal, cid)
        media = request.headers.get("content-type", "").replace(" ", "").lower()
        if not media.startswith("application/taxii+json"):
            raise HTTPException(415, f"send {TAXII_MEDIA}")
        body = bytearray()
        async for chunk in request.stream():
            body.extend(chunk)
            if len(body) > max_content:
                raise HTTPException(413, f"request larger than {max_content} bytes")
        try:
            imported = read_bundle(bytes(body))
        except StixError as exc:
            raise HTTPException(422, str(exc)) from None
        records = imported.records
        for record in records:
            _check_import(policy, principal, group, record)
        if records:
            await run_in_threadpool(store.put_records, records)
        status = {
            "id": str(uuid.uuid4()),
            "status": "complete",
            "request_timestamp": stix_time(now()),
            "total_count": len(records) + len(imported.skipped),
            "success_count": len(records),
            "failure_count": len(imported.skipped),
            "pending_count": 0,
            "successes": [{"id": _stix_of(r), "message": "stored"} for r in records],
            "failures": [{"id": sid, "message": why} for sid, why in imported.skipped],
        }
        statuses.add(principal.participant, status)
        return TaxiiResponse(status, status_code=202)

    @app.get(f"{API_ROOT}/status/{{status_id}}/", tags=tags, response_class=TaxiiResponse, responses=_REFUSALS)
    def get_status(request: Request, principal: Who, status_id: Annotated[str, Path(max_length=64)]) -> TaxiiResponse:
        _check_accept(request)
        status = statuses.get(principal.participant, status_id)
        if status is None:
            raise HTTPException(404, "the status was not found or is not visible to you")
        return TaxiiResponse(status)


def _stix_of(record: Record) -> str:
    from truceline.interop.stix import stix_id

    kind = "incident" if type(record).__name__ == "Incident" else "note"
    key = str(record.id) if kind == "incident" else f"finding/{record.id}"  # type: ignore[attr-defined]
    return stix_id(kind, key)


def _check_import(policy: Policy, principal: Principal, group: str | None, record: Record) -> None:
    record_id = str(record.id)  # type: ignore[attr-defined]
    markings = record.markings  # type: ignore[attr-defined]
    ref = f"{type(record).__name__.lower()}/{record_id}"
    if not record_id.startswith(f"{principal.participant}:"):
        raise AccessDenied(
            principal.participant, "write", ref, f"imported ids must start with '{principal.participant}:'"
        )
    if markings.sharing_group != group:
        raise AccessDenied(principal.participant, "write", ref, "the record's sharing group is not this collection's")
    policy.check_create(principal, ref, markings)
