"""The attribute stage's public surface is deliberate: this list changes only on purpose."""

from __future__ import annotations

import truceline.attribute


def test_public_surface_is_pinned() -> None:
    assert sorted(truceline.attribute.__all__) == sorted(
        [
            "ACOUSTIC_R50_M",
            "AttributionModel",
            "AudioFingerprint",
            "ClaimCheck",
            "ClaimChecker",
            "Coverage",
            "CoverageModel",
            "IncidentEvidence",
            "IncidentIndex",
            "MODEL_VERSION",
            "MediaCorpus",
            "MediaFinding",
            "STAGING_CLAUSE",
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
    )


def test_every_public_name_exists() -> None:
    for name in truceline.attribute.__all__:
        assert hasattr(truceline.attribute, name), name
