"""Signed tree heads (Ed25519) and the key that makes them.

A tree head commits to (tree size, time, root hash). The signed bytes are fixed and documented
so that anyone can check a head without Truceline (all integers unsigned, big-endian)::

    b"truceline-sth-v1" || 0x00 || tree_size (uint64) || timestamp_ms (uint64) || root_hash (32 bytes)

``timestamp_ms`` is milliseconds since the Unix epoch, UTC. The domain string keeps a signature
over a tree head from ever being valid for any other message the same key might sign.

>>> from datetime import UTC, datetime
>>> signed = tree_head_bytes(8, 1_772_323_200_000, bytes(32))
>>> len(signed), signed[:16], signed[16], signed[17:25].hex(), signed[25:33].hex()
(65, b'truceline-sth-v1', 0, '0000000000000008', '0000019ca6b1dc00')
>>> key = LedgerKey.generate()
>>> head = key.sign_tree_head(8, bytes(32), datetime(2026, 3, 1, tzinfo=UTC))
>>> head.timestamp.isoformat(), verify_tree_head(head, key.public_key)
('2026-03-01T00:00:00+00:00', True)
"""

from __future__ import annotations

import hashlib
import json
import os
import struct
from dataclasses import asdict, dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey

from truceline.ledger.hashing import HASH_SIZE
from truceline.model.errors import LedgerError

__all__ = [
    "LedgerKey",
    "SignedTreeHead",
    "key_id",
    "load_public_key",
    "public_key_path",
    "timestamp_ms",
    "tree_head_bytes",
    "verify_tree_head",
]

_DOMAIN = b"truceline-sth-v1\x00"
_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
_MS = timedelta(milliseconds=1)
_UINT64 = 1 << 64


def tree_head_bytes(tree_size: int, timestamp_ms: int, root: bytes) -> bytes:
    """The exact bytes a tree head's signature covers (see the module docstring)."""
    if len(root) != HASH_SIZE:
        raise ValueError(f"a root hash is {HASH_SIZE} bytes, not {len(root)}")
    if not (0 <= tree_size < _UINT64 and 0 <= timestamp_ms < _UINT64):
        raise ValueError(f"tree size {tree_size} and timestamp {timestamp_ms} ms must fit in 64 unsigned bits")
    return _DOMAIN + struct.pack(">QQ", tree_size, timestamp_ms) + root


def timestamp_ms(moment: datetime) -> int:
    """Whole milliseconds since the epoch, exactly (no float rounding); ``moment`` must be aware."""
    if moment.tzinfo is None or moment.utcoffset() is None:
        raise ValueError(f"a tree head's time must carry its time zone, not a naive {moment.isoformat()}")
    return (moment - _EPOCH) // _MS


@dataclass(frozen=True, slots=True)
class SignedTreeHead:
    """A signed commitment to the log's first ``tree_size`` records.

    The time is kept as the integer that is signed (``timestamp_ms``) so that what is stored is
    exactly what the signature covers; :attr:`timestamp` gives it as an aware datetime.
    """

    tree_size: int
    root_hash: str  # hex
    timestamp_ms: int  # milliseconds since the Unix epoch, UTC
    key_id: str  # hex SHA-256 of the raw Ed25519 public key
    signature: str  # hex

    @property
    def timestamp(self) -> datetime:
        """The signing time, in UTC."""
        return _EPOCH + self.timestamp_ms * _MS

    def signed_bytes(self) -> bytes:
        """The bytes :attr:`signature` must verify over."""
        return tree_head_bytes(self.tree_size, self.timestamp_ms, bytes.fromhex(self.root_hash))

    def to_json(self) -> str:
        """A JSON document with every field, plus the time in ISO 8601 for people."""
        return json.dumps({**asdict(self), "timestamp": self.timestamp.isoformat()}, sort_keys=True)

    @classmethod
    def from_json(cls, text: str | bytes) -> SignedTreeHead:
        """Read :meth:`to_json`'s document (the ISO time is informative; ``timestamp_ms`` rules).

        Anything else is a ValueError: a missing field, or a field of the wrong JSON type (the
        numbers must be JSON integers, so ``1e999`` or ``27.5`` is refused, never rounded).
        """
        doc = json.loads(text)
        if not isinstance(doc, dict):
            raise ValueError(f"not a signed tree head: a JSON {type(doc).__name__}, not an object")
        try:
            fields = {name: doc[name] for name in ("tree_size", "root_hash", "timestamp_ms", "key_id", "signature")}
        except KeyError as exc:
            raise ValueError(f"not a signed tree head: no field {exc}") from None
        for name, value in fields.items():
            kind = int if name in ("tree_size", "timestamp_ms") else str
            if not isinstance(value, kind) or isinstance(value, bool):
                raise ValueError(f"not a signed tree head: {name} is {value!r}, not a JSON {kind.__name__}")
        return cls(**fields)


def _raw(public_key: Ed25519PublicKey) -> bytes:
    return public_key.public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)


def key_id(public_key: Ed25519PublicKey) -> str:
    """Hex SHA-256 of the raw 32-byte public key: names the key in every tree head."""
    return hashlib.sha256(_raw(public_key)).hexdigest()


def verify_tree_head(head: SignedTreeHead, public_key: Ed25519PublicKey) -> bool:
    """Whether ``head`` is well formed and was signed by ``public_key``."""
    try:
        if head.key_id != key_id(public_key):
            return False
        public_key.verify(bytes.fromhex(head.signature), head.signed_bytes())
    except (InvalidSignature, ValueError):
        return False
    return True


def _public_pem(public_key: Ed25519PublicKey) -> bytes:
    return public_key.public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)


def _write_atomically(path: Path, data: bytes, mode: int) -> Path:
    """Write ``data`` to a fresh temporary file beside ``path`` with ``mode``; return its path.

    The file is created with its final mode (never a moment when a private key is readable by
    others) and synced, so the caller can link or rename it into place whole.
    """
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, mode)
    try:
        with os.fdopen(fd, "wb") as f:
            f.write(data)
            f.flush()
            os.fsync(f.fileno())
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise
    return tmp


def public_key_path(private_key_path: str | os.PathLike[str]) -> Path:
    """Where :meth:`LedgerKey.load_or_create` keeps the public key: ``<private key path>.pub``."""
    return Path(f"{os.fspath(private_key_path)}.pub")


class LedgerKey:
    """An Ed25519 signing key for tree heads."""

    def __init__(self, private_key: Ed25519PrivateKey) -> None:
        self._private = private_key
        self.public_key: Ed25519PublicKey = private_key.public_key()
        self.key_id = key_id(self.public_key)

    @classmethod
    def generate(cls) -> LedgerKey:
        """A new random key (kept in memory only)."""
        return cls(Ed25519PrivateKey.generate())

    @classmethod
    def load_or_create(cls, path: str | os.PathLike[str]) -> LedgerKey:
        """Load the private key at ``path`` (PKCS#8 PEM), or create it with mode 0600.

        The public key is kept beside it as ``<path>.pub`` (SubjectPublicKeyInfo PEM), rewritten
        if it is missing. A private key readable by group or others, or a public key file that
        does not match it, is refused with a :class:`LedgerError` rather than used.
        """
        path = Path(path)
        if not path.exists():
            path.parent.mkdir(parents=True, exist_ok=True)
            new = cls.generate()
            pem = new._private.private_bytes(
                serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
            )
            tmp = _write_atomically(path, pem, 0o600)
            try:
                # link() fails if another process created the key meanwhile: then use theirs.
                os.link(tmp, path)
            except FileExistsError:
                pass
            finally:
                tmp.unlink()
        return cls._load(path)

    @classmethod
    def _load(cls, path: Path) -> LedgerKey:
        mode = path.stat().st_mode & 0o777
        if mode & 0o077:
            raise LedgerError(
                str(path), f"the ledger's private key is readable by others (mode {mode:04o}): chmod 600 it"
            )
        loaded = serialization.load_pem_private_key(path.read_bytes(), password=None)
        if not isinstance(loaded, Ed25519PrivateKey):
            raise LedgerError(str(path), "does not hold an Ed25519 private key")
        key = cls(loaded)
        pub_path = public_key_path(path)
        expected = _public_pem(key.public_key)
        if not pub_path.exists():
            os.replace(_write_atomically(pub_path, expected, 0o644), pub_path)
        elif pub_path.read_bytes() != expected:
            raise LedgerError(str(pub_path), f"is not the public half of the ledger key {path}")
        return key

    def sign_tree_head(self, tree_size: int, root: bytes, timestamp: datetime) -> SignedTreeHead:
        """Sign (tree_size, root) at ``timestamp`` (aware; kept to the whole millisecond)."""
        ms = timestamp_ms(timestamp)
        signature = self._private.sign(tree_head_bytes(tree_size, ms, root))
        return SignedTreeHead(tree_size, root.hex(), ms, self.key_id, signature.hex())

    def __repr__(self) -> str:
        return f"LedgerKey(key_id={self.key_id[:16]}…)"


def load_public_key(path: str | os.PathLike[str]) -> Ed25519PublicKey:
    """Read a public key written by :meth:`LedgerKey.load_or_create` (``<key>.pub``)."""
    key = serialization.load_pem_public_key(Path(path).read_bytes())
    if not isinstance(key, Ed25519PublicKey):
        raise ValueError(f"{path} does not hold an Ed25519 public key")
    return key
