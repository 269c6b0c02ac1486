"""Attribute and expose staging: which side fired, with a calibrated probability, and which claims
the physical evidence contradicts.

* :func:`run` — the stage (``truceline process`` calls it after fuse): new versions of fire
  incidents with an :class:`~truceline.model.Attribution` (P per party, every piece of evidence
  with its log-likelihood ratio and refs), and one ``no_staging`` :class:`~truceline.model.Finding`
  per claim with its verdict, staging suspicion (the finding's confidence) and reasons.
* :class:`SideAreas` — P(origin in each side's area) integrated over the error ellipse, vectorised;
  :func:`side_probabilities_monte_carlo` is its plain reference twin.
* :class:`ClaimChecker`, :class:`CoverageModel`, :func:`check_media` — the claim checks.

The public surface is listed in ``__all__`` (pinned by a test); the modules are private.
"""

from truceline.attribute.attribution import (
    MODEL_VERSION,
    AttributionModel,
    IncidentEvidence,
    attribute_incidents,
    attribution_id,
    reliability_table,
    with_attribution,
)
from truceline.attribute.claims import STAGING_CLAUSE, ClaimCheck, ClaimChecker, IncidentIndex, Verdict
from truceline.attribute.coverage import (
    ACOUSTIC_R50_M,
    Coverage,
    CoverageModel,
    SensorActivity,
    at_least,
    detection_probability,
)
from truceline.attribute.media import (
    AudioFingerprint,
    MediaCorpus,
    MediaFinding,
    audio_fingerprint,
    check_media,
    fingerprint_match,
    hamming,
    image_hash,
    read_exif,
    read_media,
)
from truceline.attribute.sides import SideAreas, SideProbabilities, covariance_arrays, side_probabilities_monte_carlo
from truceline.attribute.stage import attribute_store, check_claims, run

__all__ = [
    "ACOUSTIC_R50_M",
    "MODEL_VERSION",
    "STAGING_CLAUSE",
    "AttributionModel",
    "AudioFingerprint",
    "ClaimCheck",
    "ClaimChecker",
    "Coverage",
    "CoverageModel",
    "IncidentEvidence",
    "IncidentIndex",
    "MediaCorpus",
    "MediaFinding",
    "SensorActivity",
    "SideAreas",
    "SideProbabilities",
    "Verdict",
    "at_least",
    "attribute_incidents",
    "attribute_store",
    "attribution_id",
    "audio_fingerprint",
    "check_claims",
    "check_media",
    "covariance_arrays",
    "detection_probability",
    "fingerprint_match",
    "hamming",
    "image_hash",
    "read_exif",
    "read_media",
    "reliability_table",
    "run",
    "side_probabilities_monte_carlo",
    "with_attribution",
]
