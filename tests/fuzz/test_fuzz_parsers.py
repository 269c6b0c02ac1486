"""Fuzzing the parsers of untrusted input: no crash but the documented clean errors, no hang.

The short run here draws a bounded number of examples per parser (seconds in all) and replays
the kept corpus; ``tools/prove_fuzz.py`` runs the same targets for many more executions, with
Hypothesis or atheris. Time limits belong to that long run; here inputs are small and bounded.
"""

from __future__ import annotations

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
    fuzz_playbook,
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


@SHORT
@given(fz.small_playbooks())
def test_playbook_loader_never_crashes_on_small_documents(data: bytes) -> None:
    fuzz_playbook(data)


@settings(SHORT, max_examples=max(EXAMPLES // 5, 5))
@given(fz.mutated_default_playbook())
def test_playbook_loader_never_crashes_on_a_damaged_default_playbook(data: bytes) -> None:
    fuzz_playbook(data)


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
    import resource, sys
    resource.setrlimit(resource.RLIMIT_AS, (800_000_000, 800_000_000))
    from truceline.act import PlaybookError, load_playbook
    from truceline.agreement import default_agreement
    from truceline.agreement.loader import load_agreement
    from truceline.model import AgreementError
    try:
        if sys.argv[2] == "agreement":
            load_agreement(sys.argv[1])
        else:
            load_playbook(sys.argv[1], default_agreement())
    except (AgreementError, PlaybookError) as exc:
        print("clean:", str(exc)[:300])
    """
)


@pytest.mark.parametrize("loader", ["agreement", "playbook"])
def test_a_billion_laughs_document_is_refused_cleanly(loader: str) -> None:
    """342 bytes naming 9**9 strings: refused in bounded time and memory (in a child with a memory cap)."""
    hazard = CORPUS / "agreement-hazards" / "billion-laughs.yaml"
    try:
        done = subprocess.run(
            [sys.executable, "-c", _BOUNDED, str(hazard), loader], capture_output=True, text=True, timeout=60
        )
    except subprocess.TimeoutExpired:
        pytest.fail("no answer within 60 s (a hang)")
    assert done.returncode == 0 and done.stdout.startswith("clean:"), (done.returncode, done.stderr[-300:])
    assert "YAML aliases expand" in done.stdout and "e[0]" in done.stdout, done.stdout


def test_a_control_character_in_an_agreement_is_a_clean_error(tmp_path: Path) -> None:
    from truceline.agreement.loader import load_agreement
    from truceline.model import AgreementError

    path = tmp_path / "agreement.yaml"
    path.write_bytes(b"format_version: 1\nid: \x7f\n")
    with pytest.raises(AgreementError) as info:
        load_agreement(path)
    assert info.value.file == str(path)
    assert info.value.reason == "YAML syntax error at line 2, column 5: character #x007f is not allowed"


def test_an_impossible_unicode_escape_is_a_clean_error(tmp_path: Path) -> None:
    from truceline.agreement.loader import load_agreement
    from truceline.model import AgreementError

    path = tmp_path / "agreement.yaml"
    path.write_bytes(b'format_version: 1\nid: "\\U100BFCB2"\n')
    with pytest.raises(AgreementError) as info:
        load_agreement(path)
    assert info.value.file == str(path)
    assert info.value.reason.startswith("YAML syntax error at line 2") and "cannot represent" in info.value.reason
