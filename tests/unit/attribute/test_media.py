"""Media provenance on real files the tests make: altered EXIF time, a resized re-encoded copy, a WAV
with a spliced known sound — each caught — and untouched genuine files, corrupt and bare files."""

from __future__ import annotations

import io
import wave
from datetime import UTC, datetime, timedelta
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from truceline.attribute import MediaCorpus, MediaFinding, check_media, read_exif, read_media
from truceline.attribute.media import combined_weight

CLAIMED = datetime(2026, 9, 10, 14, 30, tzinfo=UTC)
PLACE = (37.60, 48.20)  # lon, lat


def _dms(value: float) -> tuple[float, float, float]:
    d = int(value)
    m = int((value - d) * 60)
    return float(d), float(m), round((value - d - m / 60) * 3600, 2)


def photo(seed: int, taken: datetime | None, gps: tuple[float, float] | None, fmt: str = "JPEG") -> bytes:
    rng = np.random.default_rng(seed)
    # A scene with structure (blobs at random places) so that different seeds are different pictures.
    yy, xx = np.mgrid[0:96, 0:128]
    img = np.full((96, 128), 150.0)
    for _ in range(6):
        cx, cy, r = rng.uniform(0, 128), rng.uniform(0, 96), rng.uniform(6, 25)
        img += rng.uniform(-90, 90) * np.exp(-((xx - cx) ** 2 + (yy - cy) ** 2) / (2 * r * r))
    arr = np.clip(np.stack([img, img * 0.9, img * 0.8], axis=-1) + rng.normal(0, 6, (96, 128, 3)), 0, 255)
    pic = Image.fromarray(arr.astype(np.uint8))
    exif = Image.Exif()
    if taken is not None:
        stamp = taken.strftime("%Y:%m:%d %H:%M:%S")
        exif[0x0132] = stamp
        exif.get_ifd(0x8769)[0x9003] = stamp
    if gps is not None:
        g = exif.get_ifd(0x8825)
        g[1], g[2], g[3], g[4] = "N", _dms(gps[1]), "E", _dms(gps[0])
    buf = io.BytesIO()
    if fmt == "JPEG":
        pic.save(buf, "JPEG", quality=88, exif=exif.tobytes())
    else:
        pic.save(buf, fmt)
    return buf.getvalue()


def kinds(findings: list[MediaFinding]) -> set[str]:
    return {f.kind for f in findings}


def check(
    data: bytes | None, corpus: MediaCorpus, key: str, uri: str = "m.jpg", sha256: str | None = None
) -> list[MediaFinding]:
    return check_media(uri, data, claimed_time=CLAIMED, place=PLACE, claim_key=key, corpus=corpus, sha256=sha256)


def test_exif_time_and_gps_are_read() -> None:
    data = photo(1, CLAIMED + timedelta(minutes=40), PLACE)
    with Image.open(io.BytesIO(data)) as img:
        facts = read_exif(img)
    assert facts.taken == CLAIMED + timedelta(minutes=40)
    assert facts.lon == pytest.approx(PLACE[0], abs=1e-4) and facts.lat == pytest.approx(PLACE[1], abs=1e-4)


def test_untouched_genuine_photo_is_not_flagged() -> None:
    found = check(photo(1, CLAIMED + timedelta(minutes=40), PLACE), MediaCorpus(), "c1")
    assert kinds(found) == {"media_time_consistent", "media_gps_near"}
    assert combined_weight(found) < 0


def test_photo_with_exif_time_two_days_before_the_event_is_caught() -> None:
    found = check(photo(2, CLAIMED - timedelta(days=2), PLACE), MediaCorpus(), "c1")
    assert "media_predates" in kinds(found)
    assert "predates the claimed time by 48.0 h" in next(f.description for f in found if f.kind == "media_predates")
    assert combined_weight(found) > 3


def test_gps_far_from_the_claimed_place_is_caught() -> None:
    found = check(photo(3, CLAIMED + timedelta(minutes=30), (31.0, 50.0)), MediaCorpus(), "c1")
    assert "media_gps_far" in kinds(found)


def test_resized_reencoded_copy_of_a_known_photo_is_caught_and_new_photos_are_not() -> None:
    corpus = MediaCorpus()
    original = photo(4, CLAIMED - timedelta(days=5), PLACE)
    check(original, corpus, "old-claim", uri="old.jpg")
    with Image.open(io.BytesIO(original)) as img:
        small = img.resize((img.width * 3 // 4, img.height * 3 // 4))
        buf = io.BytesIO()
        small.save(buf, "JPEG", quality=70)
    found = check(buf.getvalue(), corpus, "new-claim", uri="copy.jpg")
    assert "media_reused" in kinds(found)
    assert "old.jpg" in next(f.description for f in found if f.kind == "media_reused")
    for seed in range(10, 20):  # ten other pictures: none taken for the known one
        assert "media_reused" not in kinds(check(photo(seed, CLAIMED, PLACE), corpus, f"other-{seed}"))


def test_png_without_metadata_gives_reasons_not_a_verdict() -> None:
    found = check(photo(5, None, None, fmt="PNG"), MediaCorpus(), "c1", uri="x.png")
    assert kinds(found) == {"media_no_time", "media_no_gps"}
    assert combined_weight(found) == 0.0


def test_truncated_and_corrupt_files_are_reported_never_raised() -> None:
    data = photo(6, CLAIMED, PLACE)
    for broken in (data[: len(data) // 3], b"\xff\xd8\xff\xe0garbage", b"", b"RIFF\x00\x00\x00\x00WAVEjunk"):
        found = check(broken, MediaCorpus(), "c1")
        assert kinds(found) == {"media_unreadable"}, broken[:12]
        assert combined_weight(found) == 0.0


def test_digest_mismatch_and_missing_file_are_reported() -> None:
    found = check(photo(7, CLAIMED, PLACE), MediaCorpus(), "c1", sha256="0" * 64)
    assert "media_digest_mismatch" in kinds(found)
    assert kinds(check(None, MediaCorpus(), "c1")) == {"media_unavailable"}


def wav(samples: np.ndarray, rate: int = 16_000) -> bytes:
    buf = io.BytesIO()
    with wave.open(buf, "wb") as w:
        w.setnchannels(1)
        w.setsampwidth(2)
        w.setframerate(rate)
        w.writeframes(np.clip(samples, -32_000, 32_000).astype("<i2").tobytes())
    return buf.getvalue()


def sound(seed: int, seconds: float, rate: int = 16_000) -> np.ndarray:
    """A battlefield-like recording: blasts (decaying noise bursts) over wind noise."""
    rng = np.random.default_rng(seed)
    n = int(seconds * rate)
    out = rng.normal(0, 300, n)
    for start in rng.uniform(0, seconds - 0.3, int(seconds * 3)):
        i = int(start * rate)
        m = min(int(0.4 * rate), n - i)
        out[i : i + m] += rng.normal(0, 6_000, m) * np.exp(-np.arange(m) / (0.08 * rate))
    return out


def test_wav_with_a_spliced_known_sound_is_caught_and_genuine_recordings_are_not() -> None:
    corpus = MediaCorpus()
    known = sound(1, 2.0)
    check(wav(known), corpus, "old-claim", uri="old.wav")
    spliced = np.concatenate([sound(2, 1.37), known, sound(3, 1.5)])
    found = check(wav(spliced), corpus, "new-claim", uri="new.wav")
    assert "media_reused" in kinds(found)
    assert "old.wav" in next(f.description for f in found if f.kind == "media_reused")
    for seed in range(20, 26):
        assert "media_reused" not in kinds(check(wav(sound(seed, 5.0)), corpus, f"other-{seed}", uri="g.wav"))


def test_media_paths_stay_inside_the_media_root(tmp_path: Path) -> None:
    (tmp_path / "media").mkdir()
    (tmp_path / "media" / "a.jpg").write_bytes(b"x")
    (tmp_path.parent / "secret.txt").write_text("no")
    assert read_media("media/a.jpg", tmp_path) == b"x"
    assert read_media("../secret.txt", tmp_path) is None
    assert read_media(str(tmp_path / "media" / "a.jpg"), tmp_path) is None  # absolute paths are refused
    assert read_media("https://example.org/a.jpg", tmp_path) is None
    assert read_media("media/a.jpg", None) is None
    assert read_media("media/missing.jpg", tmp_path) is None
