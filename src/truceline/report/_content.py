"""The daily report as data: sections of notes, tables and figures, rendered by ``_html`` or ``_text``."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date, datetime


@dataclass(frozen=True)
class Table:
    """A table of text cells; ``numeric`` columns are right-aligned."""

    columns: tuple[str, ...]
    rows: Sequence[tuple[str, ...]]
    caption: str = ""
    numeric: frozenset[int] = frozenset()


@dataclass(frozen=True)
class Plot:
    """A figure as PNG bytes with its caption."""

    png: bytes
    caption: str
    alt: str


@dataclass
class Section:
    """One heading of the report."""

    id: str
    title: str
    notes: list[str] = field(default_factory=list)
    tables: list[Table] = field(default_factory=list)
    plots: list[Plot] = field(default_factory=list)


@dataclass
class DailyReport:
    """The whole report for one day and one reader."""

    day: date
    reader: str
    tlp: str
    generated: datetime
    agreement: str
    no_data: bool
    summary: list[str]
    sections: list[Section]
    counts: dict[str, int] = field(default_factory=dict)

    def text_content(self) -> str:
        """Every note and cell as plain text (what a reader can read, for tests and search)."""
        parts = [*self.summary]
        for section in self.sections:
            parts.append(section.title)
            parts.extend(section.notes)
            for table in section.tables:
                parts.append(table.caption)
                parts.extend(" ".join(row) for row in table.rows)
        return "\n".join(parts)
