"""Fixtures of the evidence vault tests: an isolated vault per test, devices, real media and
recordings stored through the real ingest service."""

from __future__ import annotations

import itertools
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path

import boto3
import pytest

from liuhen.core.testing import TEST_NOW
from liuhen.evidence.tests import mediafactory

_counter = itertools.count(1)
# Capture times are unique per file (whole seconds in the metadata), so are the digests.
_BASE = TEST_NOW.replace(microsecond=0) - timedelta(hours=1)


@pytest.fixture(autouse=True)
def vault(vault):
    """Every test its own evidence and upload folders (the root conftest's ``vault``)."""
    return vault


@pytest.fixture
def make_device(db):
    """Factory: ``make_device(unit, officer=None, status="in_service", number=None)``."""
    from liuhen.devices.models import Device

    def make(unit, officer=None, *, status="in_service", number=None, kind="body_camera"):
        return Device.objects.create(
            number=number or f"DSJ-{next(_counter):05d}",
            kind=kind,
            unit=unit,
            officer=officer,
            status=status,
            model_name="DSJ-V9",
        )

    return make


@pytest.fixture
def make_media(tmp_path):
    """Factory: a fresh, unique real media file. ``kind``: h264 (default), hevc, avi, wav,
    jpeg, truncated, garbage. ``captured`` (aware datetime) goes into the metadata/EXIF."""
    folder = tmp_path / "media"
    folder.mkdir(exist_ok=True)

    def make(
        kind: str = "h264",
        *,
        captured: datetime | None = None,
        name: str | None = None,
        seconds: float = 1,
    ) -> Path:
        n = next(_counter)
        # A unique creation time makes the bytes (and so the digests) unique per call.
        captured = captured or (_BASE - timedelta(seconds=n))
        if kind == "h264":
            path = folder / (name or f"h264_{n}.mp4")
            return mediafactory.make_h264_mp4(path, seconds=seconds, creation_time=captured)
        if kind == "hevc":
            path = folder / (name or f"hevc_{n}.mp4")
            return mediafactory.make_hevc_mp4(path, seconds=seconds, creation_time=captured)
        if kind == "avi":
            return mediafactory.make_mjpeg_avi(
                folder / (name or f"mjpeg_{n}.avi"), seconds=seconds + n % 3 * 0.2
            )
        if kind == "wav":
            return mediafactory.make_wav(
                folder / (name or f"tone_{n}.wav"), seconds=seconds + n * 0.01
            )
        if kind == "jpeg":
            return mediafactory.make_jpeg_with_exif(
                folder / (name or f"IMG_{n}.jpg"), taken_at=captured
            )
        if kind == "truncated":
            path = folder / (name or f"cut_{n}.mp4")
            mediafactory.make_truncated_mp4(path)
            with open(path, "ab") as fh:  # unique bytes; still truncated
                fh.write(n.to_bytes(4, "big"))
            return path
        if kind == "garbage":
            return mediafactory.make_garbage(folder / (name or f"garbage_{n}.mp4"), seed=n)
        raise ValueError(kind)

    return make


@pytest.fixture
def stored_recording(people, make_media):
    """Factory: ingest a real PyAV-made file through ``ingest_recording`` and return the
    Recording. Defaults: an H.264 MP4 by officer_a of team A, channel web."""
    from liuhen.evidence.services import ingest_recording

    def make(
        kind: str = "h264",
        *,
        actor=None,
        captured: datetime | None = None,
        path: Path | None = None,
        channel: str = "web",
        **kwargs,
    ):
        officer = kwargs.pop("officer", None)
        actor = actor or people["officer_a"]
        path = path or make_media(kind, captured=captured)
        result = ingest_recording(
            source_path=path,
            original_name=path.name,
            actor=getattr(actor, "user", actor),
            channel=channel,
            officer=officer,
            **kwargs,
        )
        return result.recording

    return make


def utc(*args) -> datetime:
    return datetime(*args, tzinfo=UTC)


SERVER_SETUP = """
from liuhen.org.tests.factories import OfficerFactory, UnitFactory
from liuhen.access.services import create_token
from liuhen.devices.models import Device
unit = UnitFactory(name="监察一大队")
officer = OfficerFactory(unit=unit)
Device.objects.create(number="DSJ001", unit=unit, officer=officer)
print(officer.user.username, create_token(user=officer.user, name="采集站")[1])
"""


def vault_server_user(server) -> tuple[str, str]:
    """Create a unit, a qualified officer with device DSJ001 and an API token in a
    ``server_process`` database; return (username, token)."""
    username, token = server.manage("shell", "-c", SERVER_SETUP).stdout.split()[-2:]
    return username, token


def vault_server_token(server) -> str:
    return vault_server_user(server)[1]


# -- S3 against moto's server (test_s3.py, test_disposal.py) ---------------------------
KEYS = {
    "aws_access_key_id": "testing",
    "aws_secret_access_key": "testing",
    "region_name": "us-east-1",
}


@pytest.fixture(scope="session")
def moto_url():
    """moto's S3 server, started once per session (issue 16 item 22): each test makes a bucket
    of its own (``s3``), and no test stops or kills the server."""
    from moto.server import ThreadedMotoServer

    from conftest import free_port

    port = free_port()
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=port, verbose=False)
    server.start()
    yield f"http://127.0.0.1:{port}"
    server.stop()


@pytest.fixture
def s3(moto_url, settings):
    """A fresh bucket with Object Lock; the vault configured to use it."""
    client = boto3.client("s3", endpoint_url=moto_url, **KEYS)

    def use(lock: bool = True) -> str:
        bucket = f"liuhen-{uuid.uuid4().hex[:12]}"
        client.create_bucket(Bucket=bucket, ObjectLockEnabledForBucket=lock)
        settings.EVIDENCE_STORAGE = "s3"
        settings.S3_BUCKET = bucket
        settings.S3_ENDPOINT_URL = moto_url
        settings.S3_ACCESS_KEY = KEYS["aws_access_key_id"]
        settings.S3_SECRET_KEY = KEYS["aws_secret_access_key"]
        settings.S3_REGION = "us-east-1"
        return bucket

    use.client = client
    return use
