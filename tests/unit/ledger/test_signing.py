"""Signed tree heads: round trip, tampering, the canonical bytes, and the key files."""

from __future__ import annotations

import dataclasses
import hashlib
import json
from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path

import pytest
from cryptography.hazmat.primitives import serialization

from truceline.ledger import (
    LedgerKey,
    SignedTreeHead,
    key_id,
    load_public_key,
    tree_head_bytes,
    verify_tree_head,
)
from truceline.model import LedgerError

T0 = datetime(2026, 3, 1, tzinfo=UTC)
ROOT = bytes.fromhex("5dc9da79a70659a9ad559cb701ded9a2ab9d823aad2f4960cfe370eff4604328")
KEY = LedgerKey.generate()
HEAD = KEY.sign_tree_head(8, ROOT, T0)


def flip(hex_text: str, byte: int = 0) -> str:
    raw = bytearray(bytes.fromhex(hex_text))
    raw[byte] ^= 0x01
    return raw.hex()


def test_a_signed_tree_head_verifies_and_round_trips_through_json() -> None:
    assert verify_tree_head(HEAD, KEY.public_key)
    assert (HEAD.tree_size, HEAD.root_hash, HEAD.timestamp) == (8, ROOT.hex(), T0)
    again = SignedTreeHead.from_json(HEAD.to_json())
    assert again == HEAD and verify_tree_head(again, KEY.public_key)


@pytest.mark.parametrize(
    "change",
    [
        {"signature": flip(HEAD.signature)},
        {"signature": flip(HEAD.signature, 63)},
        {"root_hash": flip(HEAD.root_hash)},
        {"root_hash": flip(HEAD.root_hash, 31)},
        {"tree_size": 9},
        {"timestamp_ms": HEAD.timestamp_ms + 1},
        {"signature": "not hex"},
        {"root_hash": "abcd"},
        {"tree_size": -1},
    ],
    ids=lambda c: next(iter(c)),
)
def test_any_change_to_a_signed_tree_head_fails_verification(change: dict[str, object]) -> None:
    assert not verify_tree_head(dataclasses.replace(HEAD, **change), KEY.public_key)  # type: ignore[arg-type]


def test_a_head_does_not_verify_under_another_key() -> None:
    other = LedgerKey.generate()
    assert not verify_tree_head(HEAD, other.public_key)
    # nor by claiming the right key id on another key's signature
    forged = dataclasses.replace(other.sign_tree_head(8, ROOT, T0), key_id=KEY.key_id)
    assert not verify_tree_head(forged, KEY.public_key)


def test_key_id_is_the_sha256_of_the_raw_public_key() -> None:
    raw = KEY.public_key.public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)
    assert len(raw) == 32
    assert KEY.key_id == key_id(KEY.public_key) == hashlib.sha256(raw).hexdigest() == HEAD.key_id


def test_the_signed_bytes_are_the_documented_encoding() -> None:
    signed = tree_head_bytes(8, HEAD.timestamp_ms, ROOT)
    assert signed == b"truceline-sth-v1\x00" + (8).to_bytes(8, "big") + (1_772_323_200_000).to_bytes(8, "big") + ROOT
    assert HEAD.signed_bytes() == signed
    # an independent verifier needs nothing of ours beyond this encoding
    KEY.public_key.verify(bytes.fromhex(HEAD.signature), signed)


@pytest.mark.parametrize(("size", "ms", "root"), [(-1, 0, ROOT), (0, -5, ROOT), (1 << 64, 0, ROOT), (1, 0, b"x")])
def test_unencodable_tree_heads_are_refused(size: int, ms: int, root: bytes) -> None:
    with pytest.raises(ValueError):
        tree_head_bytes(size, ms, root)


def test_signing_time_is_exact_to_the_millisecond_in_utc() -> None:
    kyiv = timezone(timedelta(hours=2))
    moment = datetime(2026, 3, 1, 2, 0, 0, 999_999, tzinfo=kyiv)  # 00:00:00.999999 UTC
    head = KEY.sign_tree_head(1, ROOT, moment)
    assert head.timestamp_ms == 1_772_323_200_999  # truncated, never rounded up into the next ms
    assert head.timestamp == datetime(2026, 3, 1, 0, 0, 0, 999_000, tzinfo=UTC)


def test_a_naive_signing_time_is_refused() -> None:
    with pytest.raises(ValueError, match="time zone"):
        KEY.sign_tree_head(1, ROOT, datetime(2026, 3, 1))  # naive on purpose


def test_malformed_json_is_not_a_tree_head() -> None:
    with pytest.raises(ValueError, match="not a signed tree head"):
        SignedTreeHead.from_json('{"tree_size": 3}')


def test_key_files_are_private_and_the_key_reloads(tmp_path: Path) -> None:
    path = tmp_path / "keys" / "ledger.key"
    key = LedgerKey.load_or_create(path)
    assert path.stat().st_mode & 0o777 == 0o600
    pub = tmp_path / "keys" / "ledger.key.pub"
    assert load_public_key(pub).public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw) == (
        key.public_key.public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)
    )
    reloaded = LedgerKey.load_or_create(path)
    assert reloaded.key_id == key.key_id
    assert verify_tree_head(reloaded.sign_tree_head(3, ROOT, T0), load_public_key(pub))
    assert [p.name for p in (tmp_path / "keys").iterdir() if p.name.endswith(".tmp")] == []


def test_a_private_key_readable_by_others_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "ledger.key"
    LedgerKey.load_or_create(path)
    path.chmod(0o644)
    with pytest.raises(LedgerError, match="chmod 600"):
        LedgerKey.load_or_create(path)


def test_a_missing_public_key_is_rewritten_and_a_foreign_one_refused(tmp_path: Path) -> None:
    path = tmp_path / "ledger.key"
    key = LedgerKey.load_or_create(path)
    pub = tmp_path / "ledger.key.pub"
    pub.unlink()
    LedgerKey.load_or_create(path)
    assert key_id(load_public_key(pub)) == key.key_id
    pub.write_bytes(
        LedgerKey.generate().public_key.public_bytes(
            serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
        )
    )
    with pytest.raises(LedgerError, match="not the public half"):
        LedgerKey.load_or_create(path)


@pytest.mark.parametrize(
    "change",
    [
        {"tree_size": 1e999},  # JSON 1e999 is a float infinity: refused, not an OverflowError
        {"timestamp_ms": 1.5e12},
        {"tree_size": True},
        {"tree_size": "8"},
        {"root_hash": 0},
        {"signature": None},
    ],
)
def test_a_field_of_the_wrong_json_type_is_not_a_tree_head(change: dict[str, object]) -> None:
    head = LedgerKey.generate().sign_tree_head(8, bytes(32), datetime(2026, 3, 1, tzinfo=UTC))
    doc = {**json.loads(head.to_json()), **change}
    with pytest.raises(ValueError, match="not a signed tree head"):
        SignedTreeHead.from_json(json.dumps(doc))
    with pytest.raises(ValueError, match="not a signed tree head"):
        SignedTreeHead.from_json("[1, 2]")
