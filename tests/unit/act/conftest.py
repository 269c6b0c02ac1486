"""Fixtures for the act tests: the default agreement and settings with a pinned clock and no sleeping."""

from __future__ import annotations

from datetime import timedelta

import pytest

from tests.unit.act.factories import T0
from truceline.act import ActSettings, AlertSigner, DeskSettings
from truceline.agreement import Agreement, default_agreement
from truceline.model import FixedClock


@pytest.fixture(scope="session")
def agreement() -> Agreement:
    return default_agreement()


@pytest.fixture
def settings() -> ActSettings:
    return ActSettings(desk=DeskSettings(signer=AlertSigner.generate(), clock=FixedClock(T0 + timedelta(days=30)),
                                         sleep=lambda s: None))
