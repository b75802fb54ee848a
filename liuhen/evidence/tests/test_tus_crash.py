"""Fault injection on the ingest path (issue 16, 第十三条, 第二十六条(四)): a real server is
killed (SIGKILL, as a power cut) at each crash point while stock tuspy clients upload at
once; after a restart the same clients resume with the URLs they had, and every upload is
stored once, with the right SHA-256 and SM3, one submission each, no half records and no
orphan objects. Bounded: three small uploads per crash point, one server database."""

from __future__ import annotations

import hashlib
import json
import threading

import pytest
import requests

from liuhen.evidence.tests import mediafactory
from liuhen.evidence.tests.conftest import vault_server_token

# Every place where the ingest of a tus upload can be cut short, in the order they are
# reached: after an offset is made durable; after the file is staged in the vault; after the
# object is written; before the recording's (or the duplicate's) transaction commits; after
# it committed, before the answer is sent.
CRASH_POINTS = (
    "tus_after_offset",
    "after_stage",
    "after_object",
    "before_row_commit",
    "before_duplicate_commit",
    "tus_after_ingest",
)
CHUNK = 1 << 20

COUNTS = """
import json
from liuhen.audit.models import AuditEntry
from liuhen.evidence.models import Recording, RecordingSubmission, UploadSession
from liuhen.evidence.storage import get_storage
print(json.dumps({
    "recordings": {r.sha256: r.submissions.count() for r in Recording.objects.all()},
    "without_audit": [r.pk for r in Recording.objects.all()
                      if not AuditEntry.objects.filter(action="recording.stored",
                                                       object_id=str(r.pk)).exists()],
    "objects": sorted(get_storage().iter_keys()),
    "keys": sorted(Recording.objects.values_list("storage_key", flat=True)),
    "unfinished": UploadSession.objects.filter(completed_at__isnull=True).count(),
}))
"""


def _uploader(tus_client, path, url=None):
    from tusclient.uploader import Uploader

    class Sha256Uploader(Uploader):
        CHECKSUM_ALGORITHM_PAIR = ("sha256", hashlib.sha256)

    metadata = {"filename": path.name, "device": "DSJ001"}
    return Sha256Uploader(file_path=str(path), client=tus_client, chunk_size=CHUNK,
                          metadata=metadata, upload_checksum=True, url=url)


def _upload_all(uploaders) -> list:
    """Upload concurrently, one thread per client; the errors (the server died) are kept."""
    errors: list = []

    def run(uploader):
        try:
            uploader.upload()
        except Exception as exc:  # noqa: BLE001 - expected when the server is killed
            errors.append(exc)

    threads = [threading.Thread(target=run, args=(u,)) for u in uploaders]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(120)
    return errors


@pytest.mark.timeout(900)
def test_every_crash_point_of_the_ingest_leaves_each_upload_stored_once(
    server_process, tmp_path
):
    from tusclient import client

    server = server_process()
    token = vault_server_token(server)
    headers = {"Authorization": f"Bearer {token}"}
    server.start()
    tus_client = client.TusClient(server.url + "/api/uploads/", headers=headers)
    # One file stored before any crash, sent again below: the duplicate path is cut too.
    again = mediafactory.make_large_file(tmp_path / "DSJ001_20261127070000_0000.MP4",
                                         2 * CHUNK + 17)
    assert not _upload_all([_uploader(tus_client, again)])
    expected = {hashlib.sha256(again.read_bytes()).hexdigest(): 1}
    urls = {}
    for index, point in enumerate(CRASH_POINTS):
        files = [again] if point == "before_duplicate_commit" else [
            mediafactory.make_large_file(
                tmp_path / f"DSJ001_20261127{8 + index:02d}{n:02d}00_{index}{n}.MP4",
                2 * CHUNK + 4099 * (index * 3 + n + 1),
            )
            for n in range(3)
        ]
        server.kill()
        server.env["LIUHEN_TEST_CRASH_AT"] = point
        server.start()
        uploaders = [_uploader(tus_client, path) for path in files]
        errors = _upload_all(uploaders)
        assert errors, f"{point}: the server was never killed"
        server.kill()
        del server.env["LIUHEN_TEST_CRASH_AT"]
        server.start()
        # Stock tuspy resumes from the URL it had: HEAD first (which finishes an upload whose
        # bytes all arrived), then PATCHes from the durable offset.
        resumed = [_uploader(tus_client, path, url=u.url)
                   for u, path in zip(uploaders, files, strict=True) if u.url]
        assert len(resumed) == len(files), f"{point}: an upload was never created"
        assert not _upload_all(resumed), point
        for uploader, path in zip(resumed, files, strict=True):
            data = path.read_bytes()
            result = requests.get(uploader.url + "/result", headers=headers, timeout=30).json()
            assert result["completed"], (point, result)
            assert result["sha256"] == hashlib.sha256(data).hexdigest(), point
            assert result["sm3"] == hashlib.new("sm3", data).hexdigest(), point
            assert result["size"] == len(data), point
            urls[uploader.url] = point
            sha = result["sha256"]
            expected[sha] = expected.get(sha, 0) + 1
    found = json.loads(server.manage("shell", "-c", COUNTS).stdout.strip().splitlines()[-1])
    # One recording per distinct file, one submission per upload (none from a retried finish).
    assert found["recordings"] == expected
    assert found["without_audit"] == []  # no half records
    assert found["objects"] == found["keys"]  # no orphan objects, none missing
    assert found["unfinished"] == 0
    verify = server.manage("verify", "--all", check=False)
    assert verify.returncode == 0, verify.stdout + verify.stderr
