"""The agreement as code: the cease-fire's clauses, lines, zones and limits as checkable data.

An agreement is a versioned YAML file (``format_version: 1``) with GeoJSON beside it, validated on
load; any problem raises :class:`~truceline.model.AgreementError` naming the file, the dotted path
of the field and the reason. The shipped default is built on real geodata by
``tools/build_default_agreement.py`` (see ``data/PROVENANCE.md``).

The public surface is listed in ``__all__`` (pinned by a test); the modules are private.

>>> from truceline.agreement import default_agreement
>>> a = default_agreement()
>>> sorted(a.party_ids()), a.withdrawal_distance_m("mlrs"), a.troop_ceiling("UKR")
(['RUS', 'UKR'], 35000.0, 800000)
"""

from truceline.agreement.core import (
    Agreement,
    Border,
    Clause,
    DisengagementArea,
    InventoryItem,
    Oblast,
    ReassuranceForce,
    RestrictedZone,
    Sector,
    StorageSite,
    Trigger,
    Withdrawal,
)
from truceline.agreement.describe import describe
from truceline.agreement.loader import (
    DEFAULT_AGREEMENT_PATH,
    WEAPON_LABELS,
    default_agreement,
    load_agreement,
)
from truceline.agreement.schema import FORMAT_VERSION
from truceline.model import AgreementError

__all__ = [
    "DEFAULT_AGREEMENT_PATH",
    "FORMAT_VERSION",
    "WEAPON_LABELS",
    "Agreement",
    "AgreementError",
    "Border",
    "Clause",
    "DisengagementArea",
    "InventoryItem",
    "Oblast",
    "ReassuranceForce",
    "RestrictedZone",
    "Sector",
    "StorageSite",
    "Trigger",
    "Withdrawal",
    "default_agreement",
    "describe",
    "load_agreement",
]
