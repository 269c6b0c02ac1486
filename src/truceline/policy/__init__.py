"""Who may see what: TLP 2.0, releasability, sharing groups and field markings, in one layer.

Every read path — API, TAXII, exports, search, aggregate counts and error messages — goes through
a :class:`Policy`. The rules and their reasons are in ``docs/policy.md``; a property test holds the
implementation equal to a separately written reference policy.

The public surface is listed in ``__all__`` and pinned by a test; implementation modules are
private to this package.
"""

from truceline.policy.audit import AuditEvent, AuditLog, InMemoryAuditLog
from truceline.policy.columns import TLP_LEVELS, MarkingsTable
from truceline.policy.derive import MECHANISM, derived_markings
from truceline.policy.errors import AccessDenied, ExportRefused, NotFoundOrHidden, PolicyError, not_found_or_hidden
from truceline.policy.gate import MarkedDocument, Policy
from truceline.policy.principals import (
    PRINCIPAL_ROLES,
    ROLE_ACTIONS,
    Action,
    PolicyContext,
    Principal,
    PrincipalRole,
    SharingGroup,
)
from truceline.policy.rowsecurity import RowSecuredStore, reading_as_requester

__all__ = [
    "MECHANISM",
    "PRINCIPAL_ROLES",
    "ROLE_ACTIONS",
    "TLP_LEVELS",
    "AccessDenied",
    "Action",
    "AuditEvent",
    "AuditLog",
    "ExportRefused",
    "InMemoryAuditLog",
    "MarkedDocument",
    "MarkingsTable",
    "NotFoundOrHidden",
    "Policy",
    "PolicyContext",
    "PolicyError",
    "Principal",
    "PrincipalRole",
    "RowSecuredStore",
    "SharingGroup",
    "derived_markings",
    "not_found_or_hidden",
    "reading_as_requester",
]
