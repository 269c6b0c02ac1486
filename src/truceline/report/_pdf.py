"""PDF by printing the HTML report with headless Chromium (no WeasyPrint system libraries needed)."""

from __future__ import annotations

import os
import shutil
import subprocess
import tempfile
from pathlib import Path

from truceline.model import UsageError

CHROMIUM_CANDIDATES = ("/usr/bin/chromium", "/usr/bin/chromium-browser", "chromium", "chromium-browser")
TIMEOUT_S = 120.0


def find_chromium(explicit: str | None = None) -> str:
    """The Chromium executable: ``explicit``, ``$TRUCELINE_CHROMIUM``, or the first one installed."""
    for candidate in (explicit, os.environ.get("TRUCELINE_CHROMIUM"), *CHROMIUM_CANDIDATES):
        if not candidate:
            continue
        path = candidate if os.path.isabs(candidate) else shutil.which(candidate)
        if path and os.access(path, os.X_OK):
            return path
    raise UsageError("a PDF needs Chromium (apt-get install -y chromium) or TRUCELINE_CHROMIUM; write .html instead")


def html_to_pdf(html: str, out: Path, *, chromium: str | None = None) -> None:
    """Print ``html`` to ``out`` with headless Chromium; raise :class:`UsageError` naming what failed."""
    exe = find_chromium(chromium)
    with tempfile.TemporaryDirectory(prefix="truceline-report-") as tmp:
        page = Path(tmp) / "report.html"
        page.write_text(html, encoding="utf-8")
        target = Path(tmp) / "report.pdf"
        # A private profile directory: a shared one would lock when two reports print at once.
        command = [
            exe,
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--disable-dev-shm-usage",
            "--no-first-run",
            "--no-pdf-header-footer",
            f"--user-data-dir={tmp}/profile",
            f"--print-to-pdf={target}",
            page.as_uri(),
        ]
        try:
            done = subprocess.run(command, capture_output=True, text=True, timeout=TIMEOUT_S, check=False)
        except subprocess.TimeoutExpired:
            raise UsageError(f"Chromium did not print the report within {TIMEOUT_S:.0f} s") from None
        if not target.exists() or target.stat().st_size == 0:
            tail = (done.stderr or done.stdout).strip().splitlines()[-3:]
            raise UsageError(f"Chromium printed no PDF (exit {done.returncode}): {' | '.join(tail)}")
        out.parent.mkdir(parents=True, exist_ok=True)
        shutil.move(str(target), out)
