"""The public surfaces of the server, STIX and TAXII packages are deliberate: pinned here."""

from __future__ import annotations

import truceline.interop.stix as stix
import truceline.interop.taxii as taxii
import truceline.server as server


def test_public_surfaces_are_pinned() -> None:
    assert server.__all__ == ["SQLiteAuditLog", "ServerSettings", "TokenInfo", "TokenRegistry", "create_app"]
    assert stix.__all__ == [
        "TLP2_MARKING_IDS",
        "TRUCELINE_EXTENSION",
        "StixError",
        "StixImport",
        "bundle",
        "finding_objects",
        "incident_objects",
        "parse_bundle",
        "read_bundle",
        "stix_id",
        "stix_time",
    ]
    assert taxii.__all__ == [
        "STIX_MEDIA",
        "TAXII_MEDIA",
        "PushReport",
        "TaxiiCollection",
        "add_taxii_routes",
        "collection_id",
        "push_to_peer",
    ]
    for module in (server, stix, taxii):
        assert all(hasattr(module, name) for name in module.__all__)


def test_importing_the_server_opens_nothing() -> None:
    # create_app is a plain function: building the module creates no app, store or file.
    assert not any(type(v).__name__ in ("FastAPI", "SQLiteStore", "TokenRegistry") for v in vars(server).values())
