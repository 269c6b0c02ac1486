"""RFC 9162 §2.1.1 hashing: leaves and interior nodes are domain-separated by a prefix byte.

The 0x00 / 0x01 prefixes are what stop a leaf being passed off as an interior node (a
second-preimage attack on the tree), so they must never be dropped or shared. The values below
are the RFC 6962 hasher vectors of transparency-dev/merkle (``rfc6962/rfc6962_test.go``).

>>> EMPTY_ROOT.hex()
'e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855'
>>> leaf_hash(b"").hex()
'6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d'
>>> leaf_hash(b"L123456").hex()
'395aa064aa4c29f7010acfe3f25db9485bbd4b91897b6ad7ad547639252b4d56'
>>> node_hash(b"N123", b"N456").hex()
'aa217fe888e47007fa15edab33c2b492a722cb106c64667fc2b044444de66bbb'
"""

from __future__ import annotations

import hashlib
from typing import Final

_sha256 = hashlib.sha256

HASH_SIZE: Final = 32
"""Bytes in every hash of the log (SHA-256)."""

EMPTY_ROOT: Final = _sha256(b"").digest()
"""The root of the empty tree: SHA-256 of the empty string."""


def leaf_hash(data: bytes) -> bytes:
    """``SHA-256(0x00 || data)``: the hash of one log entry."""
    return _sha256(b"\x00" + data).digest()


def node_hash(left: bytes, right: bytes) -> bytes:
    """``SHA-256(0x01 || left || right)``: the hash of an interior node."""
    return _sha256(b"\x01" + left + right).digest()
