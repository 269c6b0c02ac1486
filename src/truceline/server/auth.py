"""Who is asking: the bearer token (or, for TAXII clients, HTTP Basic with the token as password).

Every failure — no header, a malformed, forged, revoked or expired token — gives the same 401 with
the same words, so a caller learns nothing about which tokens exist.

The rate limiter (:mod:`truceline.server.security`) has usually checked the token already, for
this very request: its answer is reused, so each request costs one lookup and both see the same.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, HTTPException, Request
from fastapi.security import HTTPAuthorizationCredentials, HTTPBasic, HTTPBasicCredentials, HTTPBearer

from truceline.policy import Principal
from truceline.server.security import AUTH_STATE
from truceline.server.tokens import TokenRegistry

UNAUTHORISED = "missing, invalid, expired or revoked token"

_bearer = HTTPBearer(auto_error=False, description="An API token issued by `truceline serve token issue`.")
_basic = HTTPBasic(auto_error=False, description="For TAXII clients: any user name, the API token as password.")


def unauthorised() -> HTTPException:
    return HTTPException(status_code=401, detail=UNAUTHORISED, headers={"WWW-Authenticate": "Bearer"})


def _authenticate(request: Request, token: str) -> Principal | None:
    found = request.scope.get("state", {}).get(AUTH_STATE)
    if found is not None and found[0] == token:
        principal: Principal | None = found[1]
        return principal
    tokens: TokenRegistry = request.app.state.tokens
    return tokens.authenticate(token)


def current_principal(
    request: Request,
    bearer: Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)],
) -> Principal:
    """The authenticated principal, or 401."""
    principal = _authenticate(request, bearer.credentials) if bearer is not None else None
    if principal is None:
        raise unauthorised()
    return principal


def taxii_principal(
    request: Request,
    bearer: Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)],
    basic: Annotated[HTTPBasicCredentials | None, Depends(_basic)],
) -> Principal:
    """As :func:`current_principal`, also accepting HTTP Basic (TAXII clients speak it)."""
    token = bearer.credentials if bearer is not None else basic.password if basic is not None else None
    principal = _authenticate(request, token) if token is not None else None
    if principal is None:
        raise unauthorised()
    return principal


PrincipalDep = Annotated[Principal, Depends(current_principal)]
TaxiiPrincipalDep = Annotated[Principal, Depends(taxii_principal)]
