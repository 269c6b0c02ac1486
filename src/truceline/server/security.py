"""Security response headers and rate limits, for every response the server sends.

Two ASGI middlewares, both outside the routes:

* :class:`SecurityHeaders` puts the headers of :data:`COMMON_HEADERS` on every response, a
  ``Content-Security-Policy`` on every response that has none (the dashboard's pages set their
  own, :data:`truceline.dashboard.mount.PAGE_CSP`; everything else is JSON and gets
  :data:`API_CSP`), and ``Cache-Control: no-store`` on everything under ``/v1/`` and ``/taxii2/``
  (they hold marked records) and on any other response that does not say how to cache it.
  ``create_app`` builds it *outside* Starlette's error middleware, so a 500 has the headers too.
* :class:`RateLimit` keeps token buckets in process memory (:class:`~truceline.server.settings.RateLimits`):
  per valid token, per address for requests without credentials, and per address for failed
  authentications (refused credentials; a request with none is not a guess). It authenticates
  the presented token once and leaves the result in the request's state, where
  :mod:`truceline.server.auth` picks it up.

A refusal is ``429`` with ``Retry-After`` (whole seconds) and a body that names which limit was
reached and nothing else: no token, no count, and the same words whether or not a token exists.
"""

from __future__ import annotations

import base64
import binascii
import ipaddress
import json
import logging
import math
import threading
from collections import OrderedDict
from collections.abc import Callable

from starlette.concurrency import run_in_threadpool
from starlette.datastructures import Headers, MutableHeaders
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from truceline.policy import Principal
from truceline.server.settings import Bucket, RateLimits
from truceline.server.tokens import TokenRegistry

log = logging.getLogger(__name__)

API_CSP = "default-src 'none'; frame-ancestors 'none'; base-uri 'none'; form-action 'none'"
"""For JSON: nothing may load, nothing may frame it (OWASP's advice for APIs)."""
PERMISSIONS_POLICY = (
    "accelerometer=(), camera=(), geolocation=(), gyroscope=(), magnetometer=(), microphone=(), payment=(), usb=()"
)
COMMON_HEADERS: dict[str, str] = {
    "x-content-type-options": "nosniff",
    "referrer-policy": "no-referrer",
    "x-frame-options": "DENY",
    "permissions-policy": PERMISSIONS_POLICY,
    "cross-origin-opener-policy": "same-origin",
    "cross-origin-resource-policy": "same-origin",
}
TAXII_PREFIX = "/taxii2"
TAXII_MEDIA = "application/taxii+json;version=2.1"
NO_STORE_PREFIXES = ("/v1/", TAXII_PREFIX)
"""Paths whose answers hold (or may hold) marked records: never stored by a browser or a proxy."""
AUTH_STATE = "truceline.authenticated"
"""Key in the request's state: ``(presented token, Principal | None)`` as the rate limiter found it."""


class SecurityHeaders:
    """Add the security headers to every HTTP response (see the module's docstring)."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        path: str = scope.get("path", "")
        api = path.startswith(NO_STORE_PREFIXES)

        async def with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = MutableHeaders(scope=message)
                for name, value in COMMON_HEADERS.items():
                    headers[name] = value
                if "content-security-policy" not in headers:
                    headers["content-security-policy"] = API_CSP
                if api or "cache-control" not in headers:
                    headers["cache-control"] = "no-store"
            await send(message)

        await self.app(scope, receive, with_headers)


class TokenBuckets:
    """Token buckets by key, thread-safe, at most ``max_keys`` of them (least recently used go)."""

    def __init__(self, bucket: Bucket, now: Callable[[], float], max_keys: int) -> None:
        self.bucket = bucket
        self._now = now
        self._max = max(1, max_keys)
        self._lock = threading.Lock()
        self._state: OrderedDict[str, tuple[float, float]] = OrderedDict()  # key → (tokens, when)

    def _level(self, key: str, now: float) -> float:
        tokens, when = self._state.get(key, (float(self.bucket.burst), now))
        return min(float(self.bucket.burst), tokens + max(now - when, 0.0) * self.bucket.per_second)

    def _wait(self, level: float) -> float:
        return (1.0 - level) / self.bucket.per_second

    def take(self, key: str) -> float:
        """Take one token: 0.0 when there was one, else the seconds until there will be (nothing taken)."""
        now = self._now()
        with self._lock:
            level = self._level(key, now)
            if level < 1.0:
                self._state[key] = (level, now)
                self._state.move_to_end(key)
                return self._wait(level)
            self._state[key] = (level - 1.0, now)
            self._state.move_to_end(key)
            while len(self._state) > self._max:
                self._state.popitem(last=False)
            return 0.0

    def spend(self, key: str) -> bool:
        """Take one token if there is one; ``True`` when this emptied the bucket (or it was empty)."""
        return self.take(key) > 0.0 or self.wait(key) > 0.0

    def wait(self, key: str) -> float:
        """Seconds until ``key`` has a token (0.0 when it has one now); takes nothing."""
        now = self._now()
        with self._lock:
            if key not in self._state:
                return 0.0
            level = self._level(key, now)
        return 0.0 if level >= 1.0 else self._wait(level)

    def __len__(self) -> int:
        return len(self._state)


def client_key(scope: Scope) -> str:
    """The client's address as the limits count it: an IPv4 address, or an IPv6 address's /64.

    >>> client_key({"client": ("2001:db8::1", 5000)}), client_key({"client": ("192.0.2.7", 80)})
    ('2001:db8::/64', '192.0.2.7')
    """
    client = scope.get("client")
    host = str(client[0]) if client else "unknown"
    try:
        address = ipaddress.ip_address(host)
    except ValueError:
        return host  # a name (the test client's "testclient"), or a Unix socket's peer
    if isinstance(address, ipaddress.IPv6Address):
        if address.ipv4_mapped is not None:
            return str(address.ipv4_mapped)
        # One host usually holds a whole /64: counting its addresses apart would be no limit at all.
        return str(ipaddress.ip_network(f"{address}/64", strict=False))
    return str(address)


def presented_token(headers: Headers) -> str | None:
    """The token a request presents (Bearer, or HTTP Basic's password), ``""`` for unreadable Basic, else None."""
    value = headers.get("authorization")
    if not value:
        return None
    scheme, _, credentials = value.partition(" ")
    scheme = scheme.lower()
    if scheme == "bearer":
        return credentials  # as HTTPBearer reads it, so that both see the same token
    if scheme == "basic":
        try:
            decoded = base64.b64decode(credentials.strip(), validate=True).decode("utf-8")
        except (binascii.Error, UnicodeDecodeError):
            return ""
        return decoded.partition(":")[2]
    return None


def _token_id(token: str) -> str:
    # Called only for a token the registry accepted, so it reads tl_<id>_<secret>.
    return token.split("_", 2)[1]


def too_many(detail: str, wait_s: float, path: str = "") -> tuple[int, list[tuple[bytes, bytes]], bytes]:
    """The 429 response's status, headers and body (a TAXII error message under ``/taxii2``)."""
    seconds = max(1, math.ceil(wait_s))
    sentence = f"{detail}; retry in {seconds} s"
    document: dict[str, str] = {"detail": sentence}
    media = "application/json"
    if path.startswith(TAXII_PREFIX):
        # TAXII 2.1's error message (title, http_status) in its media type; ``detail`` as everywhere else.
        document = {"title": sentence, "http_status": "429", "detail": sentence}
        media = TAXII_MEDIA
    body = json.dumps(document).encode("utf-8")
    headers = [
        (b"content-type", media.encode()),
        (b"content-length", str(len(body)).encode()),
        (b"retry-after", str(seconds).encode()),
    ]
    return 429, headers, body


class RateLimit:
    """Refuse requests over the limits of :class:`RateLimits` with ``429`` and ``Retry-After``."""

    def __init__(self, app: ASGIApp, limits: RateLimits, tokens: TokenRegistry, now: Callable[[], float]) -> None:
        self.app = app
        self.tokens = tokens

        def buckets(bucket: Bucket | None) -> TokenBuckets | None:
            return None if bucket is None else TokenBuckets(bucket, now, limits.max_tracked)

        self.per_token = buckets(limits.per_token)
        self.per_address = buckets(limits.per_address)
        self.failures = buckets(limits.failures)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        address = client_key(scope)
        path: str = scope.get("path", "")
        if self.failures is not None:
            wait = self.failures.wait(address)
            if wait > 0:
                # Before the token is even looked at: a guess made now cannot be confirmed.
                await _refuse(send, "too many failed authentications from your address", wait, path)
                return
        headers = Headers(scope=scope)
        token = presented_token(headers)
        # Credentials in a scheme no route takes are a failed authentication when a route says 401.
        # A request with none is a client not logged in: limited per address, not a guess.
        count_401 = token is None and "authorization" in headers
        if token is not None:
            principal: Principal | None = await run_in_threadpool(self.tokens.authenticate, token)
            scope.setdefault("state", {})[AUTH_STATE] = (token, principal)
            if principal is None:
                self._failed(address)
            elif self.per_token is not None:
                wait = self.per_token.take(_token_id(token))
                if wait > 0:
                    await _refuse(send, "too many requests with this token", wait, path)
                    return
        elif self.per_address is not None:
            wait = self.per_address.take(address)
            if wait > 0:
                await _refuse(send, "too many requests from your address", wait, path)
                return

        async def watch(message: Message) -> None:
            if count_401 and message["type"] == "http.response.start" and message["status"] == 401:
                self._failed(address)
            await send(message)

        await self.app(scope, receive, watch)

    def _failed(self, address: str) -> None:
        if self.failures is not None and self.failures.spend(address):
            log.warning(
                "failed authentications from %s exceed %s; refusing its requests until the budget refills",
                address,
                self.failures.bucket.describe(),
            )


async def _refuse(send: Send, detail: str, wait_s: float, path: str) -> None:
    status, headers, body = too_many(detail, wait_s, path)
    await send({"type": "http.response.start", "status": status, "headers": headers})
    await send({"type": "http.response.body", "body": body})
