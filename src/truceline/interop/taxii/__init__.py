"""TAXII 2.1: a server on the FastAPI app (discovery, API root, a collection per sharing group,
objects, manifest, status), serving the STIX of :mod:`truceline.interop.stix` through the policy, and
a push to a peer's TAXII server of only what may go there."""

from truceline.interop.taxii.push import PushReport, TaxiiCollection, push_to_peer
from truceline.interop.taxii.server import STIX_MEDIA, TAXII_MEDIA, add_taxii_routes, collection_id

__all__ = [
    "STIX_MEDIA",
    "TAXII_MEDIA",
    "PushReport",
    "TaxiiCollection",
    "add_taxii_routes",
    "collection_id",
    "push_to_peer",
]
