"""Truceline: cease-fire monitoring, verification and early warning.

The flow is ingest → store + ledger → fuse → attribute → verify → assess → act; each stage is a
package of its own that exchanges :mod:`truceline.model` records with the others.
"""

__version__ = "0.1.0"
