"""The untrusted-input parsers under fuzzing, each wrapped with what it is allowed to do.

A target takes raw bytes and either returns (what it made of them) or raises one of the
documented clean errors: :class:`UsageError` for a file that cannot be read at all,
:class:`AgreementError` for an agreement, :class:`PlaybookError` for a playbook. Anything else
escaping is a crash. Besides not
crashing, each target checks the promises a caller relies on:

* every rejected record carries its record name, and every reason is non-empty text;
* every accepted record's stored bytes parse back to the same observation (what the ledger
  commits to is what was validated);
* record names and positions follow the input order.

Shared by the Hypothesis tests (tests/fuzz/test_fuzz_parsers.py), the corpus replay and the long
run with Hypothesis or atheris (tools/prove_fuzz.py).
"""

from __future__ import annotations

import atexit
import io
import os
import shutil
import tempfile
from collections.abc import Callable
from pathlib import Path

from truceline.act import PlaybookError, load_playbook
from truceline.agreement import Agreement, default_agreement
from truceline.agreement.loader import DEFAULT_AGREEMENT_PATH, load_agreement
from truceline.ingest.readers import CSVReader, GeoJSONReader, NDJSONReader, Parsed, Rejected, reader_for
from truceline.model import AgreementError, UsageError, observation_adapter

MAX_INPUT_BYTES = 256 * 1024  # inputs are bounded; the readers' own per-record limit is 1 MB
CLEAN_ERRORS: tuple[type[Exception], ...] = (UsageError, AgreementError)
CORPUS = Path(__file__).resolve().parent / "corpus"


def _check_items(items: list[Parsed | Rejected], filename: str) -> dict[str, int]:
    positions: list[int] = []
    for item in items:
        assert item.record.startswith(filename), item.record
        positions.append(item.position)
        if isinstance(item, Rejected):
            assert item.errors, f"{item.record}: rejected without a reason"
            for err in item.errors:
                assert err.record, f"{item.record}: an error without its record"
                assert isinstance(err.reason, str) and err.reason.strip(), f"{item.record}: an empty reason"
        else:
            again = observation_adapter.validate_json(item.body)
            assert again == item.observation, f"{item.record}: the stored bytes do not parse back the same"
    assert positions == sorted(positions), "records out of input order"
    parsed = sum(isinstance(i, Parsed) for i in items)
    return {"parsed": parsed, "rejected": len(items) - parsed}


def _read(reader: NDJSONReader | CSVReader | GeoJSONReader, filename: str, data: bytes) -> dict[str, int]:
    data = data[:MAX_INPUT_BYTES]
    try:
        items = list(reader.read(io.BytesIO(data), filename))
    except CLEAN_ERRORS as exc:
        assert str(exc).strip(), "a clean error without a message"
        return {"clean_error": 1}
    return _check_items(items, filename)


def fuzz_ndjson(data: bytes) -> dict[str, int]:
    return _read(NDJSONReader(), "fuzz.ndjson", data)


def fuzz_csv(data: bytes) -> dict[str, int]:
    return _read(CSVReader(), "fuzz.csv", data)


def fuzz_tsv(data: bytes) -> dict[str, int]:
    return _read(CSVReader(), "fuzz.tsv", data)


def fuzz_geojson(data: bytes) -> dict[str, int]:
    return _read(GeoJSONReader(), "fuzz.geojson", data)


def fuzz_sniff(data: bytes) -> dict[str, int]:
    """Format detection on a file of unknown name, then that reader on the same bytes."""
    data = data[:MAX_INPUT_BYTES]
    try:
        reader = reader_for("upload", data[:65536])
    except UsageError:
        return {"clean_error": 1}
    try:
        items = list(reader.read(io.BytesIO(data), "upload"))
    except CLEAN_ERRORS:
        return {"clean_error": 1}
    return _check_items(items, "upload")


class AgreementWorkspace:
    """A directory holding the default agreement's geodata, where fuzzed agreement files are loaded.

    The agreement names its geometry files relatively, so a mutated copy of the default agreement
    written here still finds them and reaches the geometry checks, not only the schema.
    """

    def __init__(self) -> None:
        self.dir = Path(tempfile.mkdtemp(prefix="fuzz-agreement-"))
        for src in DEFAULT_AGREEMENT_PATH.parent.glob("*.geojson"):
            os.symlink(src, self.dir / src.name)
        self.path = self.dir / "agreement.yaml"

    def close(self) -> None:
        shutil.rmtree(self.dir, ignore_errors=True)


_workspace: AgreementWorkspace | None = None


def fuzz_agreement(data: bytes) -> dict[str, int]:
    global _workspace
    if _workspace is None:
        _workspace = AgreementWorkspace()
        atexit.register(_workspace.close)
    _workspace.path.write_bytes(data[:MAX_INPUT_BYTES])
    try:
        load_agreement(_workspace.path)
    except AgreementError as exc:
        assert str(exc).strip() and exc.reason.strip(), "a clean error without a reason"
        return {"clean_error": 1}
    return {"parsed": 1}


class _PlaybookWorkspace:
    """Where fuzzed playbooks are written, each under a new name (load_playbook caches by file)."""

    def __init__(self) -> None:
        self.dir = Path(tempfile.mkdtemp(prefix="fuzz-playbook-"))
        self.count = 0
        self.agreement: Agreement = default_agreement()

    def path(self) -> Path:
        self.count += 1
        return self.dir / f"playbook-{self.count}.yaml"

    def close(self) -> None:
        shutil.rmtree(self.dir, ignore_errors=True)


_playbooks: _PlaybookWorkspace | None = None


def fuzz_playbook(data: bytes) -> dict[str, int]:
    """The act stage's playbook loader (file read, YAML, schema, checks against the agreement)."""
    global _playbooks
    if _playbooks is None:
        _playbooks = _PlaybookWorkspace()
        atexit.register(_playbooks.close)
    path = _playbooks.path()
    path.write_bytes(data[:MAX_INPUT_BYTES])
    try:
        load_playbook(path, _playbooks.agreement)
    except PlaybookError as exc:
        assert str(exc).strip() and exc.reason.strip(), "a clean error without a reason"
        return {"clean_error": 1}
    finally:
        path.unlink()
    return {"parsed": 1}


TARGETS: dict[str, Callable[[bytes], dict[str, int]]] = {
    "ndjson": fuzz_ndjson,
    "csv": fuzz_csv,
    "tsv": fuzz_tsv,
    "geojson": fuzz_geojson,
    "sniff": fuzz_sniff,
    "agreement": fuzz_agreement,
    "playbook": fuzz_playbook,
}


def corpus(target: str) -> list[Path]:
    """The kept inputs of one target (the sniffer replays every format's corpus)."""
    dirs = [CORPUS / t for t in ("ndjson", "csv", "geojson")] if target in ("sniff", "tsv") else [CORPUS / target]
    return sorted(p for d in dirs if d.is_dir() for p in d.iterdir() if p.is_file())
