"""Ingest: one adapter per format, validation with precise reasons, batched durable storage."""

from truceline.ingest._jsonkeys import find_duplicate_key
from truceline.ingest.checks import ContextChecks
from truceline.ingest.readers import (
    READERS,
    CSVReader,
    GeoJSONReader,
    NDJSONReader,
    Parsed,
    Reader,
    Rejected,
    reader_for,
)
from truceline.ingest.run import DEFAULT_BATCH_SIZE, IngestReport, ingest_paths, ingest_stream, iter_items

__all__ = [
    "DEFAULT_BATCH_SIZE",
    "READERS",
    "CSVReader",
    "ContextChecks",
    "GeoJSONReader",
    "IngestReport",
    "NDJSONReader",
    "Parsed",
    "Reader",
    "Rejected",
    "find_duplicate_key",
    "ingest_paths",
    "ingest_stream",
    "iter_items",
    "reader_for",
]
