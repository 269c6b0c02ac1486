"""API tokens: issued once in the clear, kept only as a SHA-256 digest, checked in constant time.

A token reads ``tl_<id>_<secret>``: ``id`` (12 hex digits) finds the row, ``secret`` (32 random
bytes, URL-safe base64) proves possession. Only ``sha256(secret)`` is stored, so a copy of the
token file does not let anyone act as a participant; the digest is compared with
:func:`hmac.compare_digest` so that response times do not reveal how much of a guess was right.

Tokens live in their own small SQLite file, not in the store: the store's tables are the evidence
(ledgered, append-only), while tokens are credentials that must be revocable and are never shared
with peers. Every failure — unknown id, wrong secret, revoked, expired, malformed — is the same
``None`` to the caller, which answers them all with the same 401.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import os
import re
import secrets
import sqlite3
import threading
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

from truceline.model import Clock, SystemClock, UsageError
from truceline.policy import PRINCIPAL_ROLES, Principal, PrincipalRole

_TOKEN = re.compile(r"^tl_([0-9a-f]{12})_([A-Za-z0-9_-]{43})$")
_SCHEMA = """
CREATE TABLE IF NOT EXISTS tokens (
    id TEXT PRIMARY KEY,
    digest BLOB NOT NULL,
    participant TEXT NOT NULL,
    roles TEXT NOT NULL,
    sharing_groups TEXT NOT NULL,
    subject TEXT NOT NULL,
    issued TEXT NOT NULL,
    expires TEXT,
    revoked TEXT
)
"""


@dataclass(frozen=True, slots=True)
class TokenInfo:
    """What is known about a token, without its secret."""

    id: str
    participant: str
    roles: tuple[PrincipalRole, ...]
    sharing_groups: tuple[str, ...]
    subject: str
    issued: datetime
    expires: datetime | None
    revoked: datetime | None

    def principal(self) -> Principal:
        return Principal(
            participant=self.participant,
            roles=self.roles,
            sharing_groups=self.sharing_groups,
            subject=f"{self.subject} (token {self.id})",
        )


def _digest(secret: str) -> bytes:
    return hashlib.sha256(secret.encode("ascii")).digest()


class TokenRegistry:
    """Issue, revoke and check API tokens kept hashed in a SQLite file (``:memory:`` for tests)."""

    def __init__(self, path: str | os.PathLike[str], *, clock: Clock | None = None) -> None:
        self.path = os.fspath(path)
        self._clock: Clock = clock if clock is not None else SystemClock()
        self._lock = threading.Lock()
        if self.path != ":memory:" and not Path(self.path).parent.exists():
            raise UsageError(f"{Path(self.path).parent} does not exist; create it or choose another token file")
        self._conn = sqlite3.connect(self.path, isolation_level=None, check_same_thread=False)
        self._conn.execute("PRAGMA journal_mode=WAL" if self.path != ":memory:" else "PRAGMA journal_mode=MEMORY")
        self._conn.execute("PRAGMA synchronous=FULL")
        self._conn.execute(_SCHEMA)
        if self.path != ":memory:":
            # Digests are not secrets, but the file also says who holds which roles: owner only.
            os.chmod(self.path, 0o600)

    def issue(
        self,
        participant: str,
        roles: Sequence[PrincipalRole],
        *,
        subject: str,
        sharing_groups: Sequence[str] = (),
        expires: datetime | None = None,
    ) -> tuple[str, TokenInfo]:
        """A new token (shown once, never stored) and its record."""
        for role in roles:
            if role not in PRINCIPAL_ROLES:
                raise UsageError(f"unknown role {role!r}; roles are {', '.join(PRINCIPAL_ROLES)}")
        now = self._clock.now()
        if expires is not None and expires <= now:
            raise UsageError("the expiry must lie in the future")
        token_id = secrets.token_hex(6)
        secret = base64.urlsafe_b64encode(secrets.token_bytes(32)).decode("ascii").rstrip("=")
        info = TokenInfo(token_id, participant, tuple(roles), tuple(sharing_groups), subject, now, expires, None)
        # Validate through the policy's own record, so a token can never carry a malformed claim.
        info.principal()
        with self._lock:
            self._conn.execute(
                "INSERT INTO tokens VALUES (?, ?, ?, ?, ?, ?, ?, ?, NULL)",
                (
                    token_id,
                    _digest(secret),
                    participant,
                    json.dumps(list(roles)),
                    json.dumps(list(sharing_groups)),
                    subject,
                    now.isoformat(),
                    expires.isoformat() if expires else None,
                ),
            )
        return f"tl_{token_id}_{secret}", info

    def revoke(self, token_id: str) -> bool:
        """Revoke a token by its id; ``False`` when no live token has that id."""
        with self._lock:
            cur = self._conn.execute(
                "UPDATE tokens SET revoked = ? WHERE id = ? AND revoked IS NULL",
                (self._clock.now().isoformat(), token_id),
            )
        return cur.rowcount == 1

    def tokens(self) -> list[TokenInfo]:
        """Every token ever issued, revoked ones included (for the administrator's listing)."""
        with self._lock:
            rows = self._conn.execute("SELECT * FROM tokens ORDER BY issued, id").fetchall()
        return [_info(row) for row in rows]

    def authenticate(self, token: str) -> Principal | None:
        """The principal a presented token stands for, or ``None`` for any kind of failure."""
        match = _TOKEN.match(token)
        # A malformed token still pays for one digest so that its refusal takes the usual time.
        secret = match.group(2) if match else "x" * 43
        presented = _digest(secret)
        if match is None:
            return None
        with self._lock:
            row = self._conn.execute("SELECT * FROM tokens WHERE id = ?", (match.group(1),)).fetchone()
        stored = row[1] if row is not None else b"\0" * 32
        if not hmac.compare_digest(presented, bytes(stored)) or row is None:
            return None
        info = _info(row)
        if info.revoked is not None or (info.expires is not None and info.expires <= self._clock.now()):
            return None
        return info.principal()

    def close(self) -> None:
        with self._lock:
            self._conn.close()


def _info(row: Sequence[object]) -> TokenInfo:
    token_id, _, participant, roles, groups, subject, issued, expires, revoked = row
    return TokenInfo(
        id=str(token_id),
        participant=str(participant),
        roles=tuple(json.loads(str(roles))),
        sharing_groups=tuple(json.loads(str(groups))),
        subject=str(subject),
        issued=datetime.fromisoformat(str(issued)),
        expires=datetime.fromisoformat(str(expires)) if expires else None,
        revoked=datetime.fromisoformat(str(revoked)) if revoked else None,
    )
