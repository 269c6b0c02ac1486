"""Signed tree heads (Ed25519) and the key that makes them.

A tree head commits to (tree size, root hash, time). The signed bytes are fixed and documented
so that anyone can check a head without Truceline::

    b"truceline-sth-v1" || 0x00 || tree_size (uint64, big-endian)
                        || timestamp_ms (uint64, big-endian) || root_hash (32 bytes)
"""

from __future__ import annotations

import hashlib
import json
import os
import struct
from dataclasses import asdict, dataclass
from datetime import UTC, datetime
from pathlib import Path

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey

_DOMAIN = b"truceline-sth-v1\x00"


def tree_head_bytes(tree_size: int, timestamp_ms: int, root: bytes) -> bytes:
    """The exact bytes a tree head's signature covers."""
    if len(root) != 32:
        raise ValueError("a root hash is 32 bytes")
    return _DOMAIN + struct.pack(">QQ", tree_size, timestamp_ms) + root


@dataclass(frozen=True, slots=True)
class SignedTreeHead:
    """A signed commitment to the log's first ``tree_size`` records."""

    tree_size: int
    root_hash: str  # hex
    timestamp_ms: int  # milliseconds since the Unix epoch, UTC
    key_id: str  # hex SHA-256 of the raw Ed25519 public key
    signature: str  # hex

    @property
    def timestamp(self) -> datetime:
        return datetime.fromtimestamp(self.timestamp_ms / 1000, UTC)

    def signed_bytes(self) -> bytes:
        return tree_head_bytes(self.tree_size, self.timestamp_ms, bytes.fromhex(self.root_hash))

    def to_json(self) -> str:
        return json.dumps({**asdict(self), "timestamp": self.timestamp.isoformat()}, sort_keys=True)

    @classmethod
    def from_json(cls, text: str | bytes) -> SignedTreeHead:
        doc = json.loads(text)
        try:
            return cls(
                tree_size=int(doc["tree_size"]),
                root_hash=str(doc["root_hash"]),
                timestamp_ms=int(doc["timestamp_ms"]),
                key_id=str(doc["key_id"]),
                signature=str(doc["signature"]),
            )
        except (KeyError, TypeError) as exc:
            raise ValueError(f"not a signed tree head: {exc}") from None


def key_id(public_key: Ed25519PublicKey) -> str:
    raw = public_key.public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)
    return hashlib.sha256(raw).hexdigest()


def verify_tree_head(head: SignedTreeHead, public_key: Ed25519PublicKey) -> bool:
    """Whether ``head`` was signed by ``public_key`` and is well formed."""
    try:
        if head.key_id != key_id(public_key):
            return False
        public_key.verify(bytes.fromhex(head.signature), head.signed_bytes())
    except (InvalidSignature, ValueError):
        return False
    return True


class LedgerKey:
    """An Ed25519 signing key for tree heads."""

    def __init__(self, private_key: Ed25519PrivateKey) -> None:
        self._private = private_key
        self.public_key: Ed25519PublicKey = private_key.public_key()
        self.key_id = key_id(self.public_key)

    @classmethod
    def generate(cls) -> LedgerKey:
        return cls(Ed25519PrivateKey.generate())

    @classmethod
    def load_or_create(cls, path: str | os.PathLike[str]) -> LedgerKey:
        """Load the private key at ``path`` (PEM), or create it with mode 0600 and ``<path>.pub``."""
        path = Path(path)
        if path.exists():
            loaded = serialization.load_pem_private_key(path.read_bytes(), password=None)
            if not isinstance(loaded, Ed25519PrivateKey):
                raise ValueError(f"{path} does not hold an Ed25519 private key")
            return cls(loaded)
        key = cls.generate()
        pem = key._private.private_bytes(
            serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
        )
        # Create with 0600 from the start: never a moment when the key is readable by others.
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "wb") as f:
            f.write(pem)
            f.flush()
            os.fsync(f.fileno())
        Path(f"{path}.pub").write_bytes(
            key.public_key.public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)
        )
        return key

    def sign_tree_head(self, tree_size: int, root: bytes, timestamp: datetime) -> SignedTreeHead:
        timestamp_ms = round(timestamp.timestamp() * 1000)
        signature = self._private.sign(tree_head_bytes(tree_size, timestamp_ms, root))
        return SignedTreeHead(tree_size, root.hex(), timestamp_ms, self.key_id, signature.hex())


def load_public_key(path: str | os.PathLike[str]) -> Ed25519PublicKey:
    """Read a public key written by :meth:`LedgerKey.load_or_create` (``<key>.pub``)."""
    key = serialization.load_pem_public_key(Path(path).read_bytes())
    if not isinstance(key, Ed25519PublicKey):
        raise ValueError(f"{path} does not hold an Ed25519 public key")
    return key
