"""``GET /v1/reports/{day}``: the daily report as the requester may read it, HTML or PDF.

The report is built for the requester exactly as ``truceline report --for PARTICIPANT`` builds it
(:class:`truceline.report.Viewer`: every list through the policy, its counts counting only visible
records), and on PostgreSQL its reads also run under row-level security. The operator's full view
is never served over HTTP: it is not for release.

The page is self-contained (inline style, figures as ``data:`` images, no script), so it gets its
own content security policy: styles and images inline, nothing else.
"""

from __future__ import annotations

import tempfile
from collections.abc import Callable
from datetime import date
from pathlib import Path
from typing import Annotated, Any, Literal

from fastapi import FastAPI, HTTPException, Query
from fastapi import Path as PathParam
from starlette.concurrency import run_in_threadpool
from starlette.responses import Response

from truceline.agreement import Agreement, default_agreement
from truceline.model import Clock, UsageError
from truceline.policy import AuditEvent, Policy, Principal, reading_as_requester
from truceline.report import Viewer, build_report, html_to_pdf, render_html
from truceline.server.auth import PrincipalDep
from truceline.server.schemas import ErrorBody
from truceline.store import Store

REPORT_CSP = (
    "default-src 'none'; style-src 'unsafe-inline'; img-src data:; "
    "frame-ancestors 'none'; base-uri 'none'; form-action 'none'"
)
"""The report page's policy: its inline stylesheet and ``data:`` figures, and nothing to run."""

_FIRST_DAY = date(2014, 1, 1)
_LAST_DAY = date(2100, 12, 31)


def _render(
    store: Store, policy: Policy, principal: Principal, agreement: Agreement, day: date, clock: Clock, fmt: str
) -> bytes:
    viewer = Viewer(principal=principal, policy=policy)
    with reading_as_requester(store, policy, principal):
        report = build_report(store, agreement, day, viewer=viewer, clock=clock)
    html = render_html(report)
    policy.audit.record(
        AuditEvent(clock.now(), principal.participant, principal.subject, "read", f"reports/{day}", True, 1)
    )
    if fmt == "html":
        return html.encode("utf-8")
    with tempfile.TemporaryDirectory(prefix="truceline-report-") as tmp:
        out = Path(tmp) / f"report-{day}.pdf"
        html_to_pdf(html, out)
        return out.read_bytes()


def add_report_route(
    app: FastAPI, store: Store, policy: Policy, agreement: Callable[[], Agreement | None], clock: Clock
) -> None:
    """Mount the daily report on ``app`` (``agreement()`` gives the served one, ``None``: the shipped)."""
    responses: dict[int | str, dict[str, Any]] = {
        200: {"content": {"text/html": {}, "application/pdf": {}}, "description": "the report"},
        400: {"model": ErrorBody, "description": "a day outside the mechanism's span"},
        401: {"model": ErrorBody, "description": "missing, invalid, expired or revoked token"},
        503: {"model": ErrorBody, "description": "PDF asked for, but no Chromium to print it"},
    }

    @app.get("/v1/reports/{day}", response_class=Response, responses=responses, tags=["reports"])
    async def daily_report(
        principal: PrincipalDep,
        day: Annotated[
            str, PathParam(pattern=r"^\d{4}-\d{2}-\d{2}$", description="the report's day, YYYY-MM-DD (UTC)")
        ],
        format: Annotated[Literal["html", "pdf"], Query(description="html (default) or pdf")] = "html",
    ) -> Response:
        """The daily report for `day`, with only what your markings let you read; its counts count only that."""
        try:
            when = date.fromisoformat(day)
        except ValueError:
            raise HTTPException(400, f"{day} is not a calendar day; give YYYY-MM-DD") from None
        if not _FIRST_DAY <= when <= _LAST_DAY:
            raise HTTPException(400, f"day must lie between {_FIRST_DAY} and {_LAST_DAY}")
        served = agreement() or default_agreement()
        try:
            body = await run_in_threadpool(_render, store, policy, principal, served, when, clock, format)
        except UsageError as exc:  # no Chromium for the PDF: say what to do, not a stack trace
            raise HTTPException(503, f"cannot print the report as PDF here: {exc}; ask for format=html") from None
        if format == "pdf":
            return Response(
                body,
                media_type="application/pdf",
                headers={"content-disposition": f'inline; filename="truceline-report-{day}.pdf"'},
            )
        return Response(body, media_type="text/html; charset=utf-8", headers={"content-security-policy": REPORT_CSP})


__all__ = ["REPORT_CSP", "add_report_route"]
