"""``truceline serve`` and ``truceline token``: the HTTP API and the tokens that open it.

The lead registers them in ``truceline.cli``::

    app.command()(serve_cmd.serve)
    app.add_typer(serve_cmd.token_app, name="token")
"""

from __future__ import annotations

import json
import os
from datetime import timedelta
from typing import TYPE_CHECKING, Annotated, Any, cast

import typer

from truceline.cli._common import console, handle_errors, load_agreement_option
from truceline.model import SystemClock, UsageError

TOKENS_HELP = "SQLite file of API tokens (kept hashed); created if missing."
DEFAULT_TOKENS = "truceline.tokens.sqlite"
DEFAULT_AUDIT = "truceline.audit.sqlite"
AGREEMENT_HELP = "Agreement YAML served: its participants, the dashboard's map (default: the shipped one)."
COALITION_HELP = "Coalition YAML for the dashboard's coalition page (docs/guarantee.md; default: the shipped example)."
ROLE_HELP = "Role: analyst (write), reviewer (review), administrator (tokens, audit), observer (read only). Repeatable."

if TYPE_CHECKING:
    from truceline.policy import PrincipalRole

token_app = typer.Typer(help="Issue, list and revoke API tokens.", no_args_is_help=True)


def load_groups(path: str | None) -> tuple[Any, ...]:
    """Sharing groups from a JSON file: ``[{"id": "G-AIR", "members": ["USA", "GBR"], "description": "…"}]``."""
    from pydantic import ValidationError

    from truceline.policy import SharingGroup

    if path is None:
        return ()
    if not os.path.isfile(path):
        raise UsageError(f"{path}: no such sharing-group file")
    try:
        with open(path, encoding="utf-8") as f:
            items = json.load(f)
        if not isinstance(items, list):
            raise UsageError(f"{path}: expected a JSON list of sharing groups")
        # JSON mode: the strict record takes a JSON list for its tuple of members.
        return tuple(SharingGroup.model_validate_json(json.dumps(item)) for item in items)
    except ValidationError as exc:
        first = exc.errors(include_url=False)[0]
        where = ".".join(str(p) for p in first.get("loc", ()))
        raise UsageError(f"{path}: sharing group field {where or '?'}: {first['msg']}") from None
    except ValueError as exc:
        raise UsageError(f"{path}: not JSON: {exc}") from None


def load_coalition_option(path: str | None, agreement: Any) -> Any:
    """The coalition of ``--coalition``, loaded against the served agreement now (a bad file stops the start).

    Without the option: ``None``, and the dashboard loads the shipped example on first use.
    """
    if path is None:
        return None
    from truceline.guarantee import load_coalition

    if not os.path.isfile(path):
        raise UsageError(f"{path}: no such coalition file")
    return load_coalition(path, agreement)


def build_settings(
    agreement: str | None,
    groups: str | None,
    tokens: str,
    audit: str,
    max_request_bytes: int,
    coalition: str | None = None,
) -> Any:
    """The server's settings from the command's options (opens the token and audit files)."""
    from truceline.policy import PolicyContext
    from truceline.server import ServerSettings, SQLiteAuditLog, TokenRegistry

    ag = load_agreement_option(agreement)
    try:
        context = PolicyContext.of(sorted(ag.participant_ids()), load_groups(groups))
    except ValueError as exc:
        raise UsageError(f"sharing groups: {exc}") from None
    loaded = load_coalition_option(coalition, ag)
    return ServerSettings(
        context=context,
        tokens=TokenRegistry(tokens),
        audit=SQLiteAuditLog(audit),
        max_request_bytes=max_request_bytes,
        agreement=ag,
        coalition=loaded,
    )


@handle_errors
def serve(
    database: Annotated[
        str,
        typer.Option(
            "--database",
            "--db",
            envvar="TRUCELINE_DB",
            help="SQLite file of the embedded store, or postgresql://… for server mode.",
        ),
    ] = "truceline.db",
    host: Annotated[str, typer.Option(help="Address to listen on.")] = "127.0.0.1",
    port: Annotated[int, typer.Option(min=0, max=65535, help="Port to listen on.")] = 8000,
    agreement: Annotated[str | None, typer.Option(help=AGREEMENT_HELP)] = None,
    coalition: Annotated[str | None, typer.Option(help=COALITION_HELP)] = None,
    groups: Annotated[str | None, typer.Option(help="JSON file of sharing groups (id, members, description).")] = None,
    tokens: Annotated[str, typer.Option(envvar="TRUCELINE_TOKENS", help=TOKENS_HELP)] = DEFAULT_TOKENS,
    audit: Annotated[
        str, typer.Option(envvar="TRUCELINE_AUDIT", help="SQLite file the audit log of reads and writes goes to.")
    ] = DEFAULT_AUDIT,
    max_request_bytes: Annotated[int, typer.Option(min=1_000, help="Largest request body accepted.")] = 10_000_000,
) -> None:
    """Serve the HTTP API (its OpenAPI document at /openapi.json) and TAXII 2.1 (at /taxii2/) over the store.

    Every read goes through the policy layer: each participant sees what the markings allow it
    and nothing else. Give participants tokens with 'truceline token issue'.
    """
    import uvicorn

    from truceline.server import create_app
    from truceline.store import open_store

    settings = build_settings(agreement, groups, tokens, audit, max_request_bytes, coalition)
    store = open_store(database)
    try:
        # Idle connections are kept 30 s, not uvicorn's 5: a client that also drops them after 5 s
        # (httpx's default) otherwise races the server's close and its next request fails with a
        # reset connection — 4 of 1,800 requests in 90 s at 5,000 reports/s.
        uvicorn.run(create_app(settings, store), host=host, port=port, log_level="info", timeout_keep_alive=30)
    finally:
        store.close()
        settings.tokens.close()
        settings.audit.close()


@token_app.command("issue")
@handle_errors
def token_issue(
    participant: Annotated[str, typer.Argument(help="Participant code the token acts for (e.g. USA).")],
    role: Annotated[list[str], typer.Option("--role", help=ROLE_HELP)],
    subject: Annotated[str, typer.Option(help="Who holds the token (a person or a system), for the audit log.")],
    group: Annotated[
        list[str] | None, typer.Option("--group", help="Sharing group the token acts in. Repeatable.")
    ] = None,
    expires_days: Annotated[
        float | None, typer.Option(min=0.001, help="Days until the token expires (default: never).")
    ] = None,
    tokens: Annotated[str, typer.Option(envvar="TRUCELINE_TOKENS", help=TOKENS_HELP)] = DEFAULT_TOKENS,
) -> None:
    """Issue a token and print it once; only its SHA-256 digest is kept."""
    from truceline.server import TokenRegistry

    registry = TokenRegistry(tokens)
    try:
        expires = SystemClock().now() + timedelta(days=expires_days) if expires_days else None
        try:
            # The registry checks each role against the four the policy knows.
            roles = cast("list[PrincipalRole]", role)
            secret, info = registry.issue(
                participant, roles, subject=subject, sharing_groups=group or (), expires=expires
            )
        except ValueError as exc:  # pydantic's ValidationError: a malformed participant or group
            raise UsageError(f"cannot issue: {str(exc).splitlines()[0]}") from None
    finally:
        registry.close()
    console.print(f"token {info.id} for {info.participant} ({', '.join(info.roles)}); shown once, keep it safe:")
    console.print(secret, markup=False)


@token_app.command("revoke")
@handle_errors
def token_revoke(
    token_id: Annotated[str, typer.Argument(help="The token's id (the 12 hex digits after 'tl_').")],
    tokens: Annotated[str, typer.Option(envvar="TRUCELINE_TOKENS", help=TOKENS_HELP)] = DEFAULT_TOKENS,
) -> None:
    """Revoke a token at once; requests with it get 401 from then on."""
    from truceline.server import TokenRegistry

    registry = TokenRegistry(tokens)
    try:
        if not registry.revoke(token_id):
            raise UsageError(f"no live token with id {token_id!r}")
    finally:
        registry.close()
    console.print(f"token {token_id} revoked")


@token_app.command("list")
@handle_errors
def token_list(
    tokens: Annotated[str, typer.Option(envvar="TRUCELINE_TOKENS", help=TOKENS_HELP)] = DEFAULT_TOKENS,
) -> None:
    """List tokens (never their secrets): id, participant, roles, groups, holder, state."""
    from truceline.server import TokenRegistry

    registry = TokenRegistry(tokens)
    try:
        infos = registry.tokens()
    finally:
        registry.close()
    for info in infos:
        state = "revoked" if info.revoked else f"expires {info.expires.isoformat()}" if info.expires else "live"
        groups = ",".join(info.sharing_groups) or "-"
        console.print(
            f"{info.id}  {info.participant}  {','.join(info.roles)}  groups {groups}  {info.subject}  {state}",
            markup=False,
        )
