"""Fuzzing the parsers of untrusted input: no crash but the documented clean errors, no hang.

The short run here draws a bounded number of examples per parser (seconds in all) and replays
the kept corpus; ``tools/prove_fuzz.py`` runs the same targets for many more executions, with
Hypothesis or atheris. Time limits belong to that long run; here inputs are small and bounded.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.fuzz import strategies as fz
from tests.fuzz.targets import (
    CORPUS,
    TARGETS,
    corpus,
    fuzz_agreement,
    fuzz_csv,
    fuzz_geojson,
    fuzz_ndjson,
    fuzz_sniff,
    fuzz_tsv,
)

EXAMPLES = int(os.environ.get("TRUCELINE_FUZZ_EXAMPLES", "100"))
SHORT = settings(
    max_examples=EXAMPLES,
    deadline=None,
    database=None,
    derandomize=True,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)


@SHORT
@given(fz.ndjson_files())
def test_ndjson_reader_never_crashes(data: bytes) -> None:
    fuzz_ndjson(data)


@SHORT
@given(fz.csv_files())
def test_csv_reader_never_crashes(data: bytes) -> None:
    fuzz_csv(data)


@SHORT
@given(fz.csv_files(delimiter="\t"))
def test_tsv_reader_never_crashes(data: bytes) -> None:
    fuzz_tsv(data)


@SHORT
@given(fz.geojson_files())
def test_geojson_reader_never_crashes(data: bytes) -> None:
    fuzz_geojson(data)


@SHORT
@given(st.one_of(fz.ndjson_files(), fz.csv_files(), fz.geojson_files(), st.binary(max_size=512)))
def test_format_sniffing_then_reading_never_crashes(data: bytes) -> None:
    fuzz_sniff(data)


@SHORT
@given(fz.small_agreements())
def test_agreement_loader_never_crashes_on_small_documents(data: bytes) -> None:
    fuzz_agreement(data)


@settings(SHORT, max_examples=max(EXAMPLES // 15, 5))
@given(fz.mutated_default_agreement())
def test_agreement_loader_never_crashes_on_a_damaged_default_agreement(data: bytes) -> None:
    fuzz_agreement(data)


def test_the_strategies_reach_both_accepted_and_rejected_records() -> None:
    """Guard against a fuzzer that only ever feeds garbage: valid reports must get through too."""
    seen = {"parsed": 0, "rejected": 0, "clean_error": 0}

    @settings(SHORT, max_examples=60)
    @given(fz.ndjson_files())
    def collect(data: bytes) -> None:
        for k, v in fuzz_ndjson(data).items():
            seen[k] += v

    collect()
    assert seen["parsed"] > 0 and seen["rejected"] > 0, seen


@pytest.mark.parametrize(
    "target,path",
    [(t, p) for t in TARGETS for p in corpus(t)],
    ids=lambda v: v.name if isinstance(v, Path) else str(v),
)
def test_the_kept_corpus_replays_cleanly(target: str, path: Path) -> None:
    TARGETS[target](path.read_bytes())


def test_a_valid_corpus_file_is_accepted_whole() -> None:
    result = fuzz_ndjson((CORPUS / "ndjson" / "every-kind.ndjson").read_bytes())
    assert result["parsed"] >= 10 and result.get("rejected", 0) == 0, result


_BOUNDED = textwrap.dedent(
    """
    import resource, sys, time
    resource.setrlimit(resource.RLIMIT_AS, (800_000_000, 800_000_000))
    from truceline.agreement.loader import load_agreement
    from truceline.model import AgreementError
    start = time.monotonic()
    try:
        load_agreement(sys.argv[1])
    except AgreementError as exc:
        print("clean:", str(exc)[:200])
    """
)


@pytest.mark.xfail(
    strict=True,
    reason="YAML aliases are expanded by the duplicate-key walk (_yaml._walk follows every alias path): a 342-byte "
    "'billion laughs' agreement takes exponential time and memory instead of a clean AgreementError",
)
def test_a_billion_laughs_agreement_is_refused_cleanly(tmp_path: Path) -> None:
    hazard = CORPUS / "agreement-hazards" / "billion-laughs.yaml"
    try:
        done = subprocess.run([sys.executable, "-c", _BOUNDED, str(hazard)], capture_output=True, text=True, timeout=5)
    except subprocess.TimeoutExpired:
        pytest.fail("no answer within 5 s (a hang)")
    assert done.returncode == 0 and done.stdout.startswith("clean:"), (done.returncode, done.stderr[-300:])
    assert json.dumps(done.stdout)


@pytest.mark.xfail(
    strict=True,
    reason="parse_yaml builds yaml.SafeLoader(text) outside its try block, so a control character (here DEL) "
    "escapes as yaml.reader.ReaderError instead of AgreementError with the position",
)
def test_a_control_character_in_an_agreement_is_a_clean_error(tmp_path: Path) -> None:
    from truceline.agreement.loader import load_agreement
    from truceline.model import AgreementError

    path = tmp_path / "agreement.yaml"
    path.write_bytes(b"format_version: 1\nid: \x7f\n")
    with pytest.raises(AgreementError):
        load_agreement(path)


@pytest.mark.xfail(
    strict=True,
    reason='PyYAML raises a bare ValueError (chr() arg not in range) for a "\\U" escape beyond U+10FFFF; parse_yaml '
    "catches only yaml.YAMLError, so it escapes load_agreement instead of an AgreementError",
)
def test_an_impossible_unicode_escape_is_a_clean_error(tmp_path: Path) -> None:
    from truceline.agreement.loader import load_agreement
    from truceline.model import AgreementError

    path = tmp_path / "agreement.yaml"
    path.write_bytes(b'format_version: 1\nid: "\\U100BFCB2"\n')
    with pytest.raises(AgreementError):
        load_agreement(path)
