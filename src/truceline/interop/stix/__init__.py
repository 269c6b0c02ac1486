"""STIX 2.1: Truceline incidents and findings (with locations, sightings and markings) as STIX
objects that the OASIS ``stix2-validator`` accepts, and STIX bundles read back into records."""

from truceline.interop.stix._common import TLP2_MARKING_IDS, TRUCELINE_EXTENSION, stix_id, stix_time
from truceline.interop.stix.export import bundle, finding_objects, incident_objects
from truceline.interop.stix.reader import StixError, StixImport, parse_bundle, read_bundle

__all__ = [
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
