"""Media provenance: what the files attached to a claim say about when, where and whether they are new.

In February 2022 videos of a supposed attack carried metadata created two days before the shelling
they claimed to show. So for each attached file:

* **images** (JPEG, PNG, anything Pillow reads): the EXIF capture time (``DateTimeOriginal``,
  else ``DateTime``) against the claimed time, the EXIF GPS position against the claimed place,
  and a perceptual hash (DCT, as pHash) against every image seen before — a resized, re-encoded copy of an old
  photo keeps its hash within a few bits;
* **audio** (PCM WAV): a spectral fingerprint (per frame, the signs of band-energy differences
  across bands and time, after Haitsma & Kalker 2002) slid against every sound seen before — a
  known sound spliced into a new recording still matches over its length.

Metadata is read with Pillow and the standard library's ``wave``; the two fingerprints are written
here because no maintained library fits both without a native dependency. Every check yields a
:class:`MediaFinding` with a plain reason and a log-likelihood ratio toward *staged*; a file that
is missing, truncated, corrupt or without metadata yields a reason and weight 0, never an error.
"""

from __future__ import annotations

import hashlib
import io
import math
import wave
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path

import numpy as np
from numpy.typing import NDArray
from scipy.fft import dctn

from truceline.geo import geodesic_distance_m

__all__ = [
    "AudioFingerprint",
    "MediaCorpus",
    "MediaFinding",
    "audio_fingerprint",
    "check_media",
    "fingerprint_match",
    "hamming",
    "image_hash",
    "read_exif",
]

UInt8Array = NDArray[np.uint8]

# Log-likelihood ratios (natural log) toward "staged" of each finding. They express how much
# likelier the finding is for a fabricated claim than for a genuine one; see docs/attribute.md.
LLR_PREDATES = 4.0  # capture time hours or days before the claimed event
LLR_SLIGHTLY_EARLY = 1.0  # one to three hours early: clocks drift, claims round
LLR_CONSISTENT_TIME = -0.7  # taken shortly after the claimed time
LLR_GPS_FAR = 2.0
LLR_GPS_NEAR = -0.3
LLR_REUSED = 3.5  # the same picture or sound was attached to an earlier claim
LLR_DIGEST_MISMATCH = 1.0

IMAGE_HASH_BITS = 255
IMAGE_MATCH_BITS = 64  # at most this many differing bits of 255: the same picture
AUDIO_MATCH_BER = 0.25  # at most this bit-error rate over a known sound's length: that sound


@dataclass(frozen=True)
class MediaFinding:
    """One thing a media check found: kind, reason in words, and LLR toward staged (0 = no evidence)."""

    uri: str
    kind: str
    description: str
    weight: float = 0.0


@dataclass(frozen=True)
class ExifFacts:
    taken: datetime | None = None
    lon: float | None = None
    lat: float | None = None


def _exif_time(text: object, offset: object = None) -> datetime | None:
    if not isinstance(text, str):
        return None
    try:
        naive = datetime.strptime(text.strip().rstrip("\x00"), "%Y:%m:%d %H:%M:%S")
    except ValueError:
        return None
    # EXIF times carry no zone unless OffsetTimeOriginal says so; we read them as UTC and say so.
    if isinstance(offset, str) and len(offset) >= 6 and offset[0] in "+-":
        try:
            sign = 1 if offset[0] == "+" else -1
            hours, minutes = int(offset[1:3]), int(offset[4:6])
            return (naive - sign * timedelta(hours=hours, minutes=minutes)).replace(tzinfo=UTC)
        except ValueError:
            pass
    return naive.replace(tzinfo=UTC)


def _dms(value: object) -> float | None:
    try:
        d, m, s = (float(v) for v in value)  # type: ignore[attr-defined]
    except (TypeError, ValueError, ZeroDivisionError):
        return None
    return d + m / 60.0 + s / 3600.0


def read_exif(image: object) -> ExifFacts:
    """Capture time and GPS position from a Pillow image's EXIF (each None when absent or unreadable)."""
    getexif = getattr(image, "getexif", None)
    if getexif is None:
        return ExifFacts()
    exif = getexif()
    sub = exif.get_ifd(0x8769)
    taken = _exif_time(sub.get(0x9003), sub.get(0x9011)) or _exif_time(exif.get(0x0132), sub.get(0x9010))
    gps = exif.get_ifd(0x8825)
    lat = _dms(gps.get(2)) if gps.get(2) is not None else None
    lon = _dms(gps.get(4)) if gps.get(4) is not None else None
    if lat is not None and gps.get(1) == "S":
        lat = -lat
    if lon is not None and gps.get(3) == "W":
        lon = -lon
    if (lat is not None and not -90 <= lat <= 90) or (lon is not None and not -180 <= lon <= 180):
        lat = lon = None
    return ExifFacts(taken, lon, lat)


def image_hash(image: object) -> int:
    """A 255-bit perceptual hash (pHash): signs about the median of the 16×16 lowest DCT terms of a 64×64 grey copy.

    The DC term is dropped (brightness). Resizing and re-encoding move a few dozen bits at most;
    a different picture moves about half of them.
    """
    from PIL import Image

    assert isinstance(image, Image.Image)
    grey = np.asarray(image.convert("L").resize((64, 64), Image.Resampling.LANCZOS), dtype=np.float64)
    terms = dctn(grey, norm="ortho")[:16, :16].ravel()[1:]
    bits = terms > np.median(terms)
    return int("".join("1" if b else "0" for b in bits), 2)


def hamming(a: int, b: int) -> int:
    """Differing bits of two hashes.

    >>> hamming(0b1011, 0b0010)
    2
    """
    return (a ^ b).bit_count()


@dataclass(frozen=True)
class AudioFingerprint:
    """Per frame, 32 bits of band-energy difference signs (Haitsma & Kalker); ``frames`` × 32 booleans."""

    bits: NDArray[np.bool_]
    frame_s: float


_FRAME = 2048
_HOP = 512
_BANDS = 33


def _read_wav(data: bytes) -> tuple[NDArray[np.float64], int]:
    with wave.open(io.BytesIO(data), "rb") as w:
        width, channels, rate, n = w.getsampwidth(), w.getnchannels(), w.getframerate(), w.getnframes()
        raw = w.readframes(n)
    if width not in (1, 2, 4) or channels < 1 or rate <= 0:
        raise ValueError(f"unsupported WAV: {width}-byte samples, {channels} channel(s), {rate} Hz")
    usable = len(raw) // (width * channels) * width * channels
    if usable == 0:
        raise ValueError("the WAV holds no samples")
    dtype = {1: np.uint8, 2: np.int16, 4: np.int32}[width]
    samples = np.frombuffer(raw[:usable], dtype=dtype).astype(np.float64)
    if width == 1:
        samples -= 128.0
    return samples.reshape(-1, channels).mean(axis=1), rate


def audio_fingerprint(samples: NDArray[np.float64], rate: int) -> AudioFingerprint:
    """The spectral fingerprint of a mono signal (log-spaced bands from 300 Hz to min(3 kHz, Nyquist))."""
    if samples.size < _FRAME:
        samples = np.pad(samples, (0, _FRAME - samples.size))
    n_frames = 1 + (samples.size - _FRAME) // _HOP
    idx = np.arange(_FRAME)[None, :] + _HOP * np.arange(n_frames)[:, None]
    spectrum = np.abs(np.fft.rfft(samples[idx] * np.hanning(_FRAME), axis=1)) ** 2
    freqs = np.fft.rfftfreq(_FRAME, 1.0 / rate)
    top = min(3000.0, rate / 2.0 * 0.95)
    edges = np.geomspace(300.0, top, _BANDS + 1)
    band = np.searchsorted(edges, freqs) - 1
    energy = np.zeros((n_frames, _BANDS))
    valid = (band >= 0) & (band < _BANDS)
    for b in range(_BANDS):  # 33 bands: a tiny loop over bands, not samples
        energy[:, b] = spectrum[:, valid & (band == b)].sum(axis=1)
    diff = energy[:, :-1] - energy[:, 1:]
    bits = np.zeros((n_frames, _BANDS - 1), dtype=bool)
    bits[1:] = (diff[1:] - diff[:-1]) > 0
    return AudioFingerprint(bits[1:], _HOP / rate)


def fingerprint_match(known: AudioFingerprint, other: AudioFingerprint) -> tuple[float, float]:
    """Where ``known`` best fits inside ``other``: (lowest bit-error rate, offset in seconds).

    Compared at every frame offset, all offsets at once; 1.0 when ``other`` is too short to hold it.
    """
    n, m = known.bits.shape[0], other.bits.shape[0]
    if n == 0 or m < n:
        return 1.0, 0.0
    windows = np.lib.stride_tricks.sliding_window_view(other.bits, (n, known.bits.shape[1]))[:, 0]
    errors = (windows != known.bits[None, :, :]).mean(axis=(1, 2))
    best = int(np.argmin(errors))
    return float(errors[best]), best * other.frame_s


@dataclass
class MediaCorpus:
    """Every image hash and sound fingerprint seen so far, with the claim and file they came from."""

    images: list[tuple[int, str, str]] = field(default_factory=list)  # (hash, uri, claim key)
    sounds: list[tuple[AudioFingerprint, str, str]] = field(default_factory=list)

    def __len__(self) -> int:
        return len(self.images) + len(self.sounds)


def _time_findings(uri: str, taken: datetime, claimed: datetime) -> MediaFinding:
    lag_h = (taken - claimed).total_seconds() / 3600.0
    stamp = taken.strftime("%Y-%m-%dT%H:%M:%SZ")
    if lag_h < -3.0:
        text = f"{uri}: metadata capture time {stamp} predates the claimed time by {-lag_h:.1f} h"
        return MediaFinding(uri, "media_predates", text, LLR_PREDATES)
    if lag_h < -1.0:
        text = f"{uri}: metadata capture time {stamp} is {-lag_h:.1f} h before the claimed time"
        return MediaFinding(uri, "media_early", text, LLR_SLIGHTLY_EARLY)
    if lag_h <= 72.0:
        text = f"{uri}: metadata capture time {stamp} fits the claimed time ({lag_h:+.1f} h)"
        return MediaFinding(uri, "media_time_consistent", text, LLR_CONSISTENT_TIME)
    text = f"{uri}: metadata capture time {stamp} is {lag_h / 24:.1f} days after the claimed time"
    return MediaFinding(uri, "media_late", text, 0.0)


def check_media(
    uri: str,
    data: bytes | None,
    *,
    claimed_time: datetime,
    place: tuple[float, float] | None,
    claim_key: str,
    corpus: MediaCorpus,
    sha256: str | None = None,
    media_type: str = "",
    learn: bool = True,
) -> list[MediaFinding]:
    """Check one attached file; add it to ``corpus`` (unless ``learn`` is False) after comparing."""
    if data is None:
        return [MediaFinding(uri, "media_unavailable", f"{uri}: the file is not available; not checked")]
    out: list[MediaFinding] = []
    if sha256 is not None and hashlib.sha256(data).hexdigest() != sha256:
        out.append(
            MediaFinding(
                uri, "media_digest_mismatch", f"{uri}: the file does not match its stated SHA-256", LLR_DIGEST_MISMATCH
            )
        )
    is_wav = (data[:4] == b"RIFF" and data[8:12] == b"WAVE") or media_type.startswith("audio/")
    if is_wav:
        return out + _check_audio(uri, data, claim_key, corpus, learn)
    return out + _check_image(uri, data, claimed_time, place, claim_key, corpus, learn)


def _check_image(
    uri: str,
    data: bytes,
    claimed_time: datetime,
    place: tuple[float, float] | None,
    claim_key: str,
    corpus: MediaCorpus,
    learn: bool,
) -> list[MediaFinding]:
    from PIL import Image, UnidentifiedImageError

    try:
        with Image.open(io.BytesIO(data)) as img:
            img.load()
            facts = read_exif(img)
            phash = image_hash(img)
    except (UnidentifiedImageError, OSError, ValueError, SyntaxError, Image.DecompressionBombError) as exc:
        return [MediaFinding(uri, "media_unreadable", f"{uri}: not a readable image ({exc}); not checked")]
    out: list[MediaFinding] = []
    if facts.taken is None:
        out.append(MediaFinding(uri, "media_no_time", f"{uri}: no capture time in the metadata; time not checked"))
    else:
        out.append(_time_findings(uri, facts.taken, claimed_time))
    if facts.lon is None or facts.lat is None:
        out.append(MediaFinding(uri, "media_no_gps", f"{uri}: no GPS position in the metadata; place not checked"))
    elif place is not None:
        d = float(geodesic_distance_m(place[0], place[1], facts.lon, facts.lat))
        if d > 20_000:
            text = f"{uri}: GPS position in the metadata is {d / 1000:.0f} km from the claimed place"
            out.append(MediaFinding(uri, "media_gps_far", text, LLR_GPS_FAR))
        elif d <= 5_000:
            text = f"{uri}: GPS position in the metadata is {d / 1000:.1f} km from the claimed place"
            out.append(MediaFinding(uri, "media_gps_near", text, LLR_GPS_NEAR))
    reused = [(hamming(phash, h), u, k) for h, u, k in corpus.images if k != claim_key]
    close = [r for r in reused if r[0] <= IMAGE_MATCH_BITS]
    if close:
        bits, first_uri, first_key = min(close)
        text = (
            f"{uri}: the picture matches {first_uri} attached to claim {first_key} "
            f"({bits} of {IMAGE_HASH_BITS} hash bits differ): reused, possibly resized or re-encoded"
        )
        out.append(MediaFinding(uri, "media_reused", text, LLR_REUSED))
    if learn:
        corpus.images.append((phash, uri, claim_key))
    return out


def _check_audio(uri: str, data: bytes, claim_key: str, corpus: MediaCorpus, learn: bool) -> list[MediaFinding]:
    try:
        samples, rate = _read_wav(data)
        fp = audio_fingerprint(samples, rate)
    except (wave.Error, EOFError, ValueError) as exc:
        return [MediaFinding(uri, "media_unreadable", f"{uri}: not a readable WAV file ({exc}); not checked")]
    out = [MediaFinding(uri, "media_no_time", f"{uri}: WAV files carry no capture time; time not checked")]
    hits = []
    for known, known_uri, key in corpus.sounds:
        if key == claim_key:
            continue
        ber, offset = fingerprint_match(known, fp)
        if ber <= AUDIO_MATCH_BER:
            hits.append((ber, offset, known_uri, key))
    if hits:
        ber, offset, known_uri, key = min(hits)
        text = (
            f"{uri}: contains the sound of {known_uri} (claim {key}) at {offset:.1f} s "
            f"(bit-error rate {ber:.2f}): reused or spliced audio"
        )
        out.append(MediaFinding(uri, "media_reused", text, LLR_REUSED))
    if learn and fp.bits.shape[0] >= 8:
        corpus.sounds.append((fp, uri, claim_key))
    return out


def combined_weight(findings: Sequence[MediaFinding]) -> float:
    """Sum of the findings' weights, with each kind counted once (two photos predating is one fact)."""
    best: dict[str, float] = {}
    for f in findings:
        if abs(f.weight) > abs(best.get(f.kind, 0.0)):
            best[f.kind] = f.weight
    return math.fsum(best.values())


def read_media(uri: str, root: Path | None) -> bytes | None:
    """The bytes of a media file named by a relative URI under ``root``; None when absent or not local.

    A URI is the claimant's text: only paths that stay inside ``root`` are read (no absolute
    paths, no ``..`` escapes), and nothing is fetched from the network.
    """
    if root is None or "://" in uri or uri.startswith("/"):
        return None
    base = root.resolve()
    path = (base / uri).resolve()
    if not path.is_relative_to(base):
        return None
    try:
        return path.read_bytes()
    except OSError:
        return None
