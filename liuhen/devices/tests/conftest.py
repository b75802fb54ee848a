"""Fixtures of the device tests: an isolated vault (recordings from a device are ingested
for real) and devices registered through the service."""

from __future__ import annotations

import itertools
from datetime import timedelta

import pytest

from liuhen.core.testing import TEST_NOW
from liuhen.evidence.tests import mediafactory

_counter = itertools.count(1)


@pytest.fixture(autouse=True)
def vault(vault):
    """Every test its own evidence and upload folders (the root conftest's ``vault``)."""
    return vault


@pytest.fixture
def device(people, bureau, frozen_clock):
    """An in-service body camera of team A, registered by the detachment's device keeper six
    hours before the frozen now (the clock is left there: tests move it forward)."""
    from liuhen.devices.services import register_device

    frozen_clock.move_to(earlier(hours=6))
    return register_device(actor=people["device_keeper"].user, number="DSJ-A-001",
                           kind="body_camera", unit=bureau["team_a"], model_name="DSJ-V9")


@pytest.fixture
def ingest(people, tmp_path):
    """Factory: ingest a real H.264 clip captured at ``captured`` by ``device`` for
    ``officer`` (default officer_a) and return the Recording."""
    from liuhen.evidence.services import ingest_recording

    def make(device, captured, officer=None):
        n = next(_counter)
        path = mediafactory.make_h264_mp4(tmp_path / f"clip_{n}.mp4", seconds=1,
                                          creation_time=captured)
        officer = officer or people["officer_a"]
        return ingest_recording(source_path=path, original_name=path.name, channel="station",
                                actor=people["keeper_a"].user, device=device,
                                officer=officer).recording

    return make


def earlier(**kwargs):
    """A whole-second moment before the frozen now (capture times are whole seconds)."""
    return TEST_NOW.replace(microsecond=0) - timedelta(**kwargs)
