"""The HTTP service: ``create_app(settings, store)``, API tokens and the durable audit log.

Nothing is opened at import. ``truceline serve`` (``truceline.cli.serve_cmd``) builds the
settings, opens the store and runs the app under uvicorn; tests build it with a ``MemoryStore``.
Every read path goes through :class:`truceline.policy.Policy`.
"""

from truceline.server.app import create_app
from truceline.server.audit import SQLiteAuditLog
from truceline.server.settings import ServerSettings
from truceline.server.tokens import TokenInfo, TokenRegistry

__all__ = ["SQLiteAuditLog", "ServerSettings", "TokenInfo", "TokenRegistry", "create_app"]
