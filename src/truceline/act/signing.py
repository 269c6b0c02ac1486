"""Ed25519 signatures over CAP messages.

The signature covers fixed, documented bytes so that anyone can check an alert without Truceline::

    b"truceline-cap-v1" || 0x00 || SHA-256(xml bytes exactly as sent)

The domain string keeps an alert signature from ever being valid for a tree head or any other
message the same key might sign. The key file is handled exactly like the ledger's (PKCS#8 PEM,
mode 0600, public half beside it as ``<key>.pub``).

>>> signer = AlertSigner.generate()
>>> sig = signer.sign(b"<alert/>")
>>> verify_cap_signature(b"<alert/>", sig.signature, signer.public_key), verify_cap_signature(b"<x/>", sig.signature,
...     signer.public_key)
(True, False)
"""

from __future__ import annotations

import hashlib
import os
from dataclasses import dataclass
from pathlib import Path

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey

from truceline.ledger import LedgerKey, key_id
from truceline.model import LedgerError

__all__ = ["AlertSigner", "CapSignature", "cap_signed_bytes", "verify_cap_signature"]

_DOMAIN = b"truceline-cap-v1\x00"


def cap_signed_bytes(xml: bytes) -> bytes:
    """The exact bytes an alert's signature covers (see the module docstring)."""
    return _DOMAIN + hashlib.sha256(xml).digest()


@dataclass(frozen=True, slots=True)
class CapSignature:
    """A signature over one CAP message: its SHA-256, the signature and the signing key's id (hex)."""

    sha256: str
    signature: str
    key_id: str


class AlertSigner:
    """An Ed25519 key that signs outgoing CAP messages."""

    def __init__(self, private_key: Ed25519PrivateKey) -> None:
        self._private = private_key
        self.public_key: Ed25519PublicKey = private_key.public_key()
        self.key_id = key_id(self.public_key)

    @classmethod
    def generate(cls) -> AlertSigner:
        """A new random key, in memory only (tests, the memory store)."""
        return cls(Ed25519PrivateKey.generate())

    @classmethod
    def load_or_create(cls, path: str | os.PathLike[str]) -> AlertSigner:
        """Load the key at ``path`` or create it (mode 0600), with the ledger's safety checks."""
        LedgerKey.load_or_create(path)  # creates it safely, refuses a group-readable key
        loaded = serialization.load_pem_private_key(Path(path).read_bytes(), password=None)
        if not isinstance(loaded, Ed25519PrivateKey):
            raise LedgerError(str(path), "does not hold an Ed25519 private key")
        return cls(loaded)

    def sign(self, xml: bytes) -> CapSignature:
        """Sign ``xml`` (the exact bytes that will be sent)."""
        signature = self._private.sign(cap_signed_bytes(xml))
        return CapSignature(hashlib.sha256(xml).hexdigest(), signature.hex(), self.key_id)

    def __repr__(self) -> str:
        return f"AlertSigner(key_id={self.key_id[:16]}…)"


def verify_cap_signature(xml: bytes, signature_hex: str, public_key: Ed25519PublicKey) -> bool:
    """Whether ``signature_hex`` is ``public_key``'s signature over ``xml``."""
    try:
        public_key.verify(bytes.fromhex(signature_hex), cap_signed_bytes(xml))
    except (InvalidSignature, ValueError):
        return False
    return True
