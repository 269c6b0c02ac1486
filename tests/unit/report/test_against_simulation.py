"""The report on a small simulated run: its counts match what the store holds, and a PDF prints."""

from __future__ import annotations

import shutil
import subprocess
import unicodedata
from collections import Counter
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from tests.unit.report.simulated import ingest_file, load_truth_doc, records_from_truth
from truceline.agreement import default_agreement
from truceline.model import FixedClock, PatrolReport, UsageError
from truceline.policy import PolicyContext
from truceline.report import Viewer, build_report, find_chromium, render_html, write_report
from truceline.sim import scenario, simulate
from truceline.store import MemoryStore, ObservationQuery

AG = default_agreement()
CLOCK = FixedClock(datetime(2026, 10, 3, 6, 0, tzinfo=UTC))
START = date(2026, 10, 1)
DAY = date(2026, 10, 2)


@pytest.fixture(scope="module")
def run(tmp_path_factory: pytest.TempPathFactory) -> tuple[MemoryStore, dict[str, Any]]:
    out = tmp_path_factory.mktemp("sim")
    simulate(scenario("default", days=2, scale=0.003, start=START), out)
    store = MemoryStore()
    ingest_file(store, out / "observations.ndjson")
    truth = load_truth_doc(out / "truth.json")
    store.put_records(list(records_from_truth(truth, created=CLOCK.now())))
    return store, truth


def _section(report: Any, section_id: str) -> Any:
    return next(s for s in report.sections if s.id == section_id)


def test_incident_counts_per_side_match_the_records(run: tuple[MemoryStore, dict[str, Any]]) -> None:
    store, truth = run
    report = build_report(store, AG, DAY, clock=CLOCK)
    expected = Counter(e["side"] for e in truth["events"] if e["time"].startswith(DAY.isoformat()))
    totals = {r[1]: int(r[2]) for r in _section(report, "violations").tables[0].rows if r[0] == "all sectors"}
    assert totals["RUS"] == expected["RUS"] and totals["UKR"] == expected["UKR"]
    assert "undetermined" not in totals  # every stand-in attribution is decisive (0.85)
    assert report.counts["incidents"] == sum(expected.values()) > 0


def test_patrol_explosions_match_the_stored_patrol_reports(run: tuple[MemoryStore, dict[str, Any]]) -> None:
    store, _ = run
    start = datetime(2026, 10, 2, tzinfo=UTC)
    query = ObservationQuery(kinds=("patrol_report",), start=start, end=start + timedelta(days=1))
    logged = sum(s.observation.explosions for s in store.observations(query) if isinstance(s.observation, PatrolReport))
    report = build_report(store, AG, DAY, clock=CLOCK)
    patrol_table = _section(report, "violations").tables[1]
    assert sum(int(r[2]) for r in patrol_table.rows) == logged


def test_a_simulated_day_renders_every_section(run: tuple[MemoryStore, dict[str, Any]]) -> None:
    store, _ = run
    report = build_report(store, AG, DAY, clock=CLOCK)
    assert [s.id for s in report.sections] == [
        "overview",
        "violations",
        "map",
        "escalation",
        "warnings",
        "findings",
        "staging",
        "alerts",
        "blind-spots",
    ]
    assert _section(report, "warnings").tables, "assessments made from the truth are shown"
    assert any(t.rows for t in _section(report, "staging").tables)
    html = render_html(report)
    assert "has not run" not in html.replace("directives: the act stage has not run", "")


def test_a_day_after_the_run_says_it_has_no_data(run: tuple[MemoryStore, dict[str, Any]]) -> None:
    store, _ = run
    report = build_report(store, AG, date(2026, 11, 20), clock=CLOCK)
    assert report.no_data
    assert "No data for 2026-11-20" in render_html(report)


def test_pdf_prints_with_chromium_and_its_text_and_page_can_be_read(
    run: tuple[MemoryStore, dict[str, Any]], tmp_path: Path
) -> None:
    pypdf = pytest.importorskip("pypdf", reason="pypdf is needed to read the PDF's text")
    try:
        find_chromium()
    except UsageError as exc:
        pytest.skip(f"no Chromium to print with: {exc}")
    store, _ = run
    context = PolicyContext.of(sorted(AG.participant_ids()))
    report = build_report(store, AG, DAY, viewer=Viewer.for_participant(context, "GBR"), clock=CLOCK)
    pdf = write_report(report, tmp_path / "report.pdf")
    reader = pypdf.PdfReader(str(pdf))
    # NFKC folds the typesetter's ligatures (ﬁ → fi) back into letters.
    text = unicodedata.normalize("NFKC", " ".join(page.extract_text() for page in reader.pages))
    assert len(reader.pages) >= 3
    assert "Cease-fire daily report" in text
    assert "Prepared for: GBR" in text
    assert "What we could not see" in text
    if shutil.which("pdftoppm") is None:
        pytest.skip("pdftoppm (poppler-utils) is not installed: the page was not rendered")
    subprocess.run(["pdftoppm", "-png", "-r", "40", "-f", "1", "-l", "1", str(pdf), str(tmp_path / "page")], check=True)
    page = next(tmp_path.glob("page*.png"))
    assert page.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n" and page.stat().st_size > 5_000
