"""The tus 1.0 server (第十三条 uploads, resumable): protocol, checksums, limits, termination,
and the official tuspy client against a real server that is killed and restarted."""

from __future__ import annotations

import base64
import errno
import hashlib
import json
from datetime import timedelta

import pytest
from django.test import Client
from django.utils import timezone

from liuhen.audit.models import AuditEntry
from liuhen.evidence import tus
from liuhen.evidence import uploads as upload_files
from liuhen.evidence.models import Recording, UploadSession

OCTET = "application/offset+octet-stream"


def _meta(**values) -> str:
    return ",".join(f"{k} {base64.b64encode(str(v).encode()).decode()}" for k, v in values.items())


def _b64sha(data: bytes) -> str:
    return base64.b64encode(hashlib.sha256(data).digest()).decode()


class Tus:
    """A minimal tus client over Django's test client (token auth)."""

    def __init__(self, token: str | None = None, user=None):
        self.client = Client()
        self.headers = {"Tus-Resumable": "1.0.0"}
        if token:
            self.headers["Authorization"] = f"Bearer {token}"
        if user is not None:
            self.client.force_login(user)

    def create(self, length: int, body: bytes | None = None, checksum: str | None = None,
               **meta):
        meta.setdefault("filename", "DSJ001_20260101080000_0001.MP4")
        headers = {**self.headers, "Upload-Length": str(length), "Upload-Metadata": _meta(**meta)}
        if checksum:
            headers["Upload-Checksum"] = f"sha256 {checksum}"
        if body is not None:
            return self.client.generic(
                "POST", "/api/uploads/", body, content_type=OCTET, headers=headers
            )
        return self.client.post("/api/uploads/", headers=headers)

    def patch(self, url, offset: int, data: bytes, checksum: str | None = None, **extra):
        headers = {**self.headers, "Upload-Offset": str(offset), **extra}
        if checksum:
            headers["Upload-Checksum"] = f"sha256 {checksum}"
        return self.client.generic("PATCH", url, data, content_type=OCTET, headers=headers)

    def head(self, url):
        return self.client.head(url, headers=self.headers)

    def delete(self, url):
        return self.client.delete(url, headers=self.headers)


@pytest.fixture
def token_for():
    from liuhen.access.services import create_token

    def make(officer):
        return create_token(user=officer.user, name="采集站")[1]

    return make


@pytest.fixture
def tus_a(people, token_for):
    return Tus(token_for(people["officer_a"]))


def _path(response) -> str:
    return response["Location"].split("testserver", 1)[-1]


def test_options_advertises_the_protocol(client):
    response = client.options("/api/uploads/")
    assert response.status_code == 204
    assert response["Tus-Resumable"] == "1.0.0" and response["Tus-Version"] == "1.0.0"
    assert response["Tus-Extension"] == (
        "creation,creation-with-upload,checksum,termination,expiration"
    )
    assert response["Tus-Checksum-Algorithm"] == "sha256"
    assert int(response["Tus-Max-Size"]) == 64 * 1024**3


def test_unsupported_version_and_no_auth(people, token_for):
    response = Client().post(
        "/api/uploads/", headers={"Tus-Resumable": "0.2.2", "Upload-Length": "1"}
    )
    assert response.status_code == 412 and response["Tus-Version"] == "1.0.0"
    response = Client().post(
        "/api/uploads/", headers={"Tus-Resumable": "1.0.0", "Upload-Length": "1"}
    )
    assert response.status_code == 401 and response.json()["code"] == "unauthenticated"
    assert response["Tus-Resumable"] == "1.0.0"


def test_full_upload_in_chunks_with_checksums(people, tus_a, make_media, vault):
    data = make_media("h264").read_bytes()
    response = tus_a.create(len(data), device="", location="某市某区某路1号")
    assert response.status_code == 201, response.content
    url = _path(response)
    assert response["Upload-Expires"] and response["Tus-Resumable"] == "1.0.0"
    assert tus_a.head(url)["Upload-Offset"] == "0"
    half = len(data) // 2
    first = tus_a.patch(url, 0, data[:half], checksum=_b64sha(data[:half]))
    assert first.status_code == 204 and first["Upload-Offset"] == str(half)
    head = tus_a.head(url)
    assert (head["Upload-Offset"], head["Upload-Length"]) == (str(half), str(len(data)))
    assert head["Cache-Control"] == "no-store"
    last = tus_a.patch(url, half, data[half:], checksum=_b64sha(data[half:]))
    assert last.status_code == 204
    sha256, sm3 = hashlib.sha256(data).hexdigest(), hashlib.new("sm3", data).hexdigest()
    assert (last["Liuhen-Sha256"], last["Liuhen-Sm3"]) == (sha256, sm3)
    rec = Recording.objects.get(pk=last["Liuhen-Recording-Id"])
    assert (rec.channel, rec.location, rec.sha256) == ("tus", "某市某区某路1号", sha256)
    assert vault.path(rec.storage_key).read_bytes() == data
    result = tus_a.client.get(url + "/result", headers=tus_a.headers).json()
    assert result == {
        **result,
        "recording_id": rec.pk,
        "sha256": sha256,
        "sm3": sm3,
        "duplicate": False,
        "completed": True,
    }
    assert not list(upload_files.upload_dir().iterdir())  # the partial file is gone
    assert AuditEntry.objects.filter(action="upload.created").exists()
    assert AuditEntry.objects.get(action="recording.stored").detail["channel"] == "tus"


def test_creation_with_upload_and_method_override(people, tus_a, make_media):
    data = make_media("jpeg").read_bytes()
    response = tus_a.create(len(data), body=data[:1000], filename="IMG_1.jpg")
    assert response.status_code == 201 and response["Upload-Offset"] == "1000"
    url = _path(response)
    response = tus_a.client.generic(
        "POST",
        url,
        data[1000:],
        content_type=OCTET,
        headers={**tus_a.headers, "Upload-Offset": "1000", "X-HTTP-Method-Override": "PATCH"},
    )
    assert response.status_code == 204 and response["Liuhen-Recording-Id"]
    assert Recording.objects.get().kind == "photo"


def test_offset_mismatch_is_409(tus_a):
    url = _path(tus_a.create(10))
    response = tus_a.patch(url, 5, b"12345")
    assert response.status_code == 409 and response["Upload-Offset"] == "0"
    response = tus_a.client.generic(
        "PATCH",
        url,
        b"x",
        content_type="text/plain",
        headers={**tus_a.headers, "Upload-Offset": "0"},
    )
    assert response.status_code == 415


def test_chunk_checksum_mismatch_discards_the_chunk(tus_a, make_media):
    data = make_media("h264").read_bytes()
    url = _path(tus_a.create(len(data)))
    tus_a.patch(url, 0, data[:500])
    bad = tus_a.patch(url, 500, data[500:1000], checksum=_b64sha(b"something else"))
    assert bad.status_code == 460 and bad.json()["code"] == "checksum_mismatch"
    assert tus_a.head(url)["Upload-Offset"] == "500"
    assert upload_files.partial_path(url.rsplit("/", 1)[1]).stat().st_size == 500
    done = tus_a.patch(url, 500, data[500:], checksum=_b64sha(data[500:]))
    assert done["Liuhen-Sha256"] == hashlib.sha256(data).hexdigest()


def test_a_chunk_from_byte_0_is_checked_by_the_running_sha256(tus_a, make_media, monkeypatch):
    """A first chunk (here the whole file, as the station sends a body-camera clip) has the
    file's SHA-256 as its checksum: the running digest checks it, no third hash of the bytes
    (issue 9 item 2; fails before: a chunk SHA-256 of its own). A wrong checksum still discards
    the chunk and rolls the running digests back: sent again right, the file is stored with
    its true digests. A later chunk still has a hash of its own."""
    from types import SimpleNamespace

    from liuhen.evidence.tus import receive

    made = []
    counting = SimpleNamespace(sha256=lambda *a: made.append(1) or hashlib.sha256(*a))
    monkeypatch.setattr(receive, "hashlib", counting)
    data = make_media("h264").read_bytes()
    url = _path(tus_a.create(len(data)))
    bad = tus_a.patch(url, 0, data, checksum=_b64sha(data[:-1] + b"!"))
    assert bad.status_code == 460 and bad.json()["code"] == "checksum_mismatch"
    assert tus_a.head(url)["Upload-Offset"] == "0"
    half = len(data) // 2
    assert tus_a.patch(url, 0, data[:half], checksum=_b64sha(data[:half])).status_code == 204
    assert made == []
    bad = tus_a.patch(url, half, data[half:], checksum=_b64sha(data[:half]))
    assert bad.status_code == 460 and made == [1]
    done = tus_a.patch(url, half, data[half:], checksum=_b64sha(data[half:]))
    assert done.status_code == 204 and made == [1, 1]
    assert done["Liuhen-Sha256"] == hashlib.sha256(data).hexdigest()
    assert done["Liuhen-Sm3"] == hashlib.new("sm3", data).hexdigest()

    made.clear()
    whole = make_media("h264", seconds=2).read_bytes()
    created = tus_a.create(len(whole), body=whole, checksum=_b64sha(whole),
                           filename="DSJ001_20260101090000_0002.MP4")
    assert created.status_code == 201 and made == []
    assert created["Liuhen-Sha256"] == hashlib.sha256(whole).hexdigest()


def test_declared_whole_file_checksum_mismatch_stores_nothing(tus_a, make_media, vault):
    data = make_media("h264").read_bytes()
    url = _path(tus_a.create(len(data), sha256="ab" * 32))
    response = tus_a.patch(url, 0, data)
    assert response.status_code == 460 and "SHA-256" in response.json()["message"]
    assert not Recording.objects.exists()
    assert [p for p in vault.root.rglob("*") if p.is_file()] == []
    assert not list(upload_files.upload_dir().iterdir())


def test_too_large(tus_a, settings):
    settings.UPLOAD_MAX_BYTES = 1000
    response = tus_a.create(1001)
    assert response.status_code == 413 and response.json()["code"] == "too_large"
    url = _path(tus_a.create(10))
    response = tus_a.patch(url, 0, b"x" * 11)
    assert response.status_code == 413 and tus_a.head(url)["Upload-Offset"] == "0"
    assert not UploadSession.objects.filter(length=1001).exists()


def test_termination_of_unfinished_upload_only(people, tus_a, make_media):
    url = _path(tus_a.create(100))
    tus_a.patch(url, 0, b"x" * 10)
    response = tus_a.delete(url)
    assert response.status_code == 204
    assert tus_a.head(url).status_code == 404
    assert AuditEntry.objects.filter(action="upload.terminated").exists()

    data = make_media("h264").read_bytes()
    url = _path(tus_a.create(len(data)))
    tus_a.patch(url, 0, data)
    response = tus_a.delete(url)
    assert response.status_code == 403 and response.json()["code"] == "original_immutable"
    assert Recording.objects.count() == 1
    assert AuditEntry.objects.filter(
        action="recording.modification_refused", outcome="denied"
    ).exists()


def _held_elsewhere(upload):
    """Hold ``upload``'s lock as another request (another node) would: on a thread with its
    own database connection (PostgreSQL's advisory lock is per session) and its own open
    file (SQLite's flock is per open file). Returns the event that releases it."""
    import threading

    from django.db import connection

    held, release = threading.Event(), threading.Event()

    def hold():
        try:
            with upload_files.locked(upload):
                held.set()
                release.wait(30)
        finally:
            connection.close()

    thread = threading.Thread(target=hold)
    thread.start()
    assert held.wait(10)
    release.thread = thread
    return release


def test_termination_and_expiry_wait_for_the_request_holding_the_upload(tus_a):
    """Issue 14 item 1: a DELETE (on any node) while another request holds the upload answers
    409 upload_busy and removes nothing; the expiry clean-up leaves it for its next run. Once
    released, both remove the row and the partial file on the shared upload folder."""
    url = _path(tus_a.create(100))
    tus_a.patch(url, 0, b"x" * 10)
    upload = UploadSession.objects.get()
    part = upload_files.partial_path(upload.pk)
    release = _held_elsewhere(upload)
    response = tus_a.delete(url)
    assert response.status_code == 409 and response.json()["code"] == "upload_busy"
    assert response["Retry-After"] == "2"
    assert UploadSession.objects.filter(pk=upload.pk).exists() and part.stat().st_size == 10
    assert not AuditEntry.objects.filter(action="upload.terminated").exists()
    UploadSession.objects.update(expires_at=timezone.now() - timedelta(seconds=1))
    assert upload_files.clean_expired_uploads() == 0
    assert UploadSession.objects.filter(pk=upload.pk).exists() and part.exists()
    release.set()
    release.thread.join(10)
    assert upload_files.clean_expired_uploads() == 1
    assert not UploadSession.objects.exists() and not part.exists()

    url = _path(tus_a.create(100))
    tus_a.patch(url, 0, b"y" * 10)
    part = upload_files.partial_path(UploadSession.objects.get().pk)
    assert tus_a.delete(url).status_code == 204
    assert not UploadSession.objects.exists() and not part.exists()
    # A DELETE of an upload whose partial file was lost still removes it.
    url = _path(tus_a.create(100))
    upload_files.partial_path(UploadSession.objects.get().pk).unlink()
    assert tus_a.delete(url).status_code == 204 and not UploadSession.objects.exists()


def test_uploads_are_private_to_their_uploader(people, tus_a, token_for):
    url = _path(tus_a.create(100))
    other = Tus(token_for(people["officer_a2"]))
    assert other.head(url).status_code == 404
    assert other.patch(url, 0, b"x").status_code == 404
    assert other.delete(url).status_code == 404
    assert tus_a.head(url).status_code == 200


def test_expired_upload_is_gone(tus_a):
    url = _path(tus_a.create(100))
    UploadSession.objects.update(expires_at=timezone.now() - timedelta(seconds=1))
    assert tus_a.head(url).status_code == 410
    assert upload_files.clean_expired_uploads() == 1
    assert not UploadSession.objects.exists() and not list(upload_files.upload_dir().iterdir())


def test_resume_after_running_digests_are_lost(tus_a, make_media):
    """A restart loses the in-memory digests: they are rebuilt from the partial file."""
    data = make_media("h264").read_bytes()
    url = _path(tus_a.create(len(data)))
    tus_a.patch(url, 0, data[:700])
    upload_files.hashing.forget_all()
    done = tus_a.patch(url, 700, data[700:])
    assert done["Liuhen-Sm3"] == hashlib.new("sm3", data).hexdigest()


def test_refusals_at_creation(people, bureau, tus_a, make_device, token_for):
    device_b = make_device(bureau["team_b"], officer=people["officer_b"])
    response = tus_a.create(10, device=device_b.number)
    assert response.status_code == 403
    response = tus_a.create(10, device="NO-SUCH")
    assert response.status_code == 400 and "未登记" in response.json()["message"]
    response = Tus(token_for(people["legal"])).create(10)
    assert response.status_code == 403
    response = tus_a.create(10, case="99999")
    assert response.status_code == 400 and "案件" in response.json()["message"]
    assert not UploadSession.objects.exists()


def test_session_auth_refuses_foreign_origin(people, make_media):
    browser = Tus(user=people["officer_a"].user)
    assert browser.create(10).status_code == 201
    browser.headers["Origin"] = "https://evil.example"
    assert browser.create(10).status_code == 401


def test_storage_down_at_the_end_keeps_the_upload_for_a_retry(tus_a, make_media, monkeypatch):
    from liuhen.core.errors import StorageUnavailable
    from liuhen.evidence.storage import LocalStorage

    data = make_media("h264").read_bytes()
    url = _path(tus_a.create(len(data)))
    real = LocalStorage.commit

    def down(self, staged, key, **_kw):
        raise StorageUnavailable()

    monkeypatch.setattr(LocalStorage, "commit", down)
    response = tus_a.patch(url, 0, data)
    assert response.status_code == 503 and response.json()["code"] == "storage_unavailable"
    assert not Recording.objects.exists()
    monkeypatch.setattr(LocalStorage, "commit", real)
    response = tus_a.patch(url, len(data), b"")
    assert response.status_code == 204 and response["Liuhen-Recording-Id"]


def _full_but_unstored(tus_a, data: bytes, monkeypatch) -> str:
    """An upload whose every byte is on disk but whose storing failed (as after a crash)."""
    from liuhen.core.errors import StorageUnavailable
    from liuhen.evidence.storage import LocalStorage

    url = _path(tus_a.create(len(data)))
    real = LocalStorage.commit
    monkeypatch.setattr(LocalStorage, "commit",
                        lambda self, staged, key, **_kw: (_ for _ in ()).throw(StorageUnavailable()))
    assert tus_a.patch(url, 0, data).status_code == 503
    monkeypatch.setattr(LocalStorage, "commit", real)
    return url


def test_head_at_full_length_stores_the_upload_or_says_it_failed(tus_a, make_media, monkeypatch):
    """Issue 16: tus clients stop at Upload-Offset == Upload-Length, so HEAD never says that
    while the bytes are not stored: it stores them, or answers an error (第十三条)."""
    from liuhen.core.errors import StorageUnavailable
    from liuhen.evidence.storage import LocalStorage

    data = make_media("h264").read_bytes()
    url = _full_but_unstored(tus_a, data, monkeypatch)
    monkeypatch.setattr(LocalStorage, "commit",
                        lambda self, staged, key, **_kw: (_ for _ in ()).throw(StorageUnavailable()))
    assert tus_a.head(url).status_code == 503  # still down: an error, not "offset = length"
    monkeypatch.undo()
    response = tus_a.head(url)
    assert response.status_code == 200 and int(response["Upload-Offset"]) == len(data)
    assert response["Liuhen-Sm3"] == hashlib.new("sm3", data).hexdigest()
    recording = Recording.objects.get()
    assert recording.submissions.count() == 1
    # Asked again (a client retrying), nothing more is stored or submitted.
    assert tus_a.head(url)["Liuhen-Recording-Id"] == str(recording.pk)
    assert tus_a.patch(url, len(data), b"").status_code == 403
    assert recording.submissions.count() == 1


def test_recovery_sweep_stores_complete_uploads_once(tus_a, make_media, monkeypatch):
    from liuhen.evidence.tus.recovery import finish_full_uploads, upload_upkeep_task

    data = make_media("h264").read_bytes()
    _full_but_unstored(tus_a, data, monkeypatch)
    upload_files.hashing.forget_all()  # a restarted server: digests rebuilt from the file
    unfinished = _path(tus_a.create(100))
    assert finish_full_uploads() == {"finished": 1, "busy": 0, "failed": 0}
    recording = Recording.objects.get()
    assert recording.sha256 == hashlib.sha256(data).hexdigest()
    assert recording.submissions.count() == 1
    assert UploadSession.objects.get(recording=recording).completed_at is not None
    assert upload_upkeep_task.call() == {"finished": 0, "busy": 0, "failed": 0, "expired": 0}
    assert int(tus_a.head(unfinished)["Upload-Offset"]) == 0  # untouched


def test_tuspy_resumes_after_server_crashes(server_process, tmp_path, make_media):
    """tuspy against a real server: a crash right after an offset was committed, and a kill
    in the middle of the upload; both times the upload resumes from the stored offset and
    the server's digests equal hashlib's (第十三条: nothing lost, nothing altered)."""
    import threading
    import time

    import requests
    from tusclient import client
    from tusclient.exceptions import TusCommunicationError, TusUploadFailed
    from tusclient.uploader import Uploader

    from liuhen.evidence.tests import mediafactory
    from liuhen.evidence.tests.conftest import vault_server_token

    class Sha256Uploader(Uploader):
        CHECKSUM_ALGORITHM_PAIR = ("sha256", hashlib.sha256)

    path = mediafactory.make_large_file(tmp_path / "DSJ001_20261127083000_0001.MP4", 24 << 20)
    data = path.read_bytes()
    server = server_process()
    token = vault_server_token(server)
    server.env["LIUHEN_TEST_CRASH_AT"] = "tus_after_offset"
    server.start()
    headers = {"Authorization": f"Bearer {token}"}
    tus_client = client.TusClient(server.url + "/api/uploads/", headers=headers)
    metadata = {"filename": path.name, "device": "DSJ001"}
    first = Sha256Uploader(
        file_path=str(path),
        client=tus_client,
        chunk_size=1 << 20,
        metadata=metadata,
        upload_checksum=True,
    )
    with pytest.raises((TusCommunicationError, TusUploadFailed)):
        first.upload_chunk()  # the server dies right after making the chunk durable
    url = first.url
    server.kill()
    del server.env["LIUHEN_TEST_CRASH_AT"]
    server.start()

    # The same URL resumes at the durable offset: the chunk before the crash counts.
    second = Sha256Uploader(
        file_path=str(path), client=tus_client, chunk_size=1 << 20, url=url, upload_checksum=True
    )
    assert second.offset == 1 << 20
    errors = []

    def upload():
        try:
            second.upload()
        except Exception as exc:  # noqa: BLE001 - the kill below makes it fail
            errors.append(exc)

    thread = threading.Thread(target=upload)
    thread.start()
    deadline = time.time() + 60
    while second.offset < 6 << 20 and time.time() < deadline:
        time.sleep(0.02)
    server.kill()  # mid-upload, probably mid-request
    thread.join(60)
    assert errors and second.offset < len(data)
    server.start()
    third = Sha256Uploader(
        file_path=str(path), client=tus_client, chunk_size=4 << 20, url=url, upload_checksum=True
    )
    assert 6 << 20 <= third.offset < len(data)
    third.upload()
    result = requests.get(url + "/result", headers=headers, timeout=30).json()
    assert result["completed"] and not result["duplicate"]
    assert result["sha256"] == hashlib.sha256(data).hexdigest()
    assert result["sm3"] == hashlib.new("sm3", data).hexdigest()
    assert result["size"] == len(data)

    # The ingest station, remote mode, against the same server: the file above is skipped
    # (already stored), the new one is uploaded over tus and verified.
    dump = tmp_path / "dump"
    dump.mkdir()
    (dump / path.name).write_bytes(data)
    new = make_media("h264", name="DSJ001_20261127090000_0002.MP4")
    (dump / new.name).write_bytes(new.read_bytes())
    receipts = tmp_path / "receipts"
    run = server.manage(
        "ingest",
        str(dump),
        "--device",
        "DSJ001",
        "--server",
        server.url,
        "--token",
        token,
        "--receipt-dir",
        str(receipts),
        "--chunk-mib",
        "1",
    )
    assert "新存储 1，已存在 1，失败 0" in run.stdout
    body = json.loads(next(receipts.glob("receipt-*.json")).read_text())
    statuses = {i["file"]: (i["status"], i["safe_to_erase"]) for i in body["items"]}
    assert statuses == {path.name: ("duplicate", "yes"), new.name: ("stored", "yes")}
    item = next(i for i in body["items"] if i["file"] == new.name)
    assert item["sm3"] == hashlib.new("sm3", new.read_bytes()).hexdigest()


def test_not_enough_disk_for_the_declared_length(tus_a, monkeypatch):
    import shutil
    from collections import namedtuple

    usage = namedtuple("usage", "total used free")
    monkeypatch.setattr(shutil, "disk_usage", lambda path: usage(100, 90, 10))
    response = tus_a.create(11)
    assert response.status_code == 507 and response.json()["code"] == "storage_full"
    # Issue 16 item 14: the free bytes are in the audit entry, never in the client's answer.
    assert "free" not in response.content.decode() and "10" not in json.dumps(
        response.json().get("detail", {}))
    assert not UploadSession.objects.exists()
    entry = AuditEntry.objects.get(action="upload.refused", outcome="denied")
    assert entry.detail["free"] == 10


MIB = 1 << 20


def _large_media(tmp_path, size: int) -> bytes:
    from liuhen.evidence.tests import mediafactory

    return mediafactory.make_large_file(tmp_path / "DSJ_large.mp4", size).read_bytes()


def test_large_body_through_the_buffer_ring(tus_a, tmp_path, vault):
    """More than the ring holds (tus.receive.BODY_BUFFERS x BODY_CHUNK) in one PATCH that resumes
    at an offset off any block boundary, with chunk checksums: the stored bytes and both
    digests are exactly the file's (第十三条)."""
    data = _large_media(tmp_path, tus.receive.BODY_BUFFERS * tus.receive.BODY_CHUNK + 5 * MIB + 777)
    url = _path(tus_a.create(len(data)))
    head, rest = data[:1000], data[1000:]
    assert tus_a.patch(url, 0, head, checksum=_b64sha(head)).status_code == 204
    done = tus_a.patch(url, 1000, rest, checksum=_b64sha(rest))
    assert done.status_code == 204, done.content
    assert done["Liuhen-Sha256"] == hashlib.sha256(data).hexdigest()
    assert done["Liuhen-Sm3"] == hashlib.new("sm3", data).hexdigest()
    recording = Recording.objects.get(pk=done["Liuhen-Recording-Id"])
    with vault.open(recording.storage_key) as fh:
        assert hashlib.sha256(fh.read()).hexdigest() == recording.sha256
    assert not list(upload_files.upload_dir().iterdir())  # the partial file became the original


def test_disk_full_mid_body_keeps_nothing_and_the_retry_has_the_right_digests(
    tus_a, tmp_path, monkeypatch
):
    """ENOSPC while a PATCH is being written (the digests run ahead of the disk): the request
    keeps nothing, and the retry's digests are those of the file, not of the lost bytes."""
    from liuhen.evidence.storage import StreamedFile

    data = _large_media(tmp_path, 13 * MIB + 321)
    url = _path(tus_a.create(len(data)))
    assert tus_a.patch(url, 0, data[: 3 * MIB]).status_code == 204

    class FullDisk(StreamedFile):
        def _append(self, chunk):
            if self._position >= 7 * MIB:
                raise OSError(errno.ENOSPC, "No space left on device")
            super()._append(chunk)

    monkeypatch.setattr(tus.receive, "StreamedFile", FullDisk)
    full = tus_a.patch(url, 3 * MIB, data[3 * MIB :])
    assert full.status_code == 507 and full.json()["code"] == "storage_full"
    assert tus_a.head(url)["Upload-Offset"] == str(3 * MIB)
    monkeypatch.setattr(tus.receive, "StreamedFile", StreamedFile)
    done = tus_a.patch(url, 3 * MIB, data[3 * MIB :])
    assert done.status_code == 204, done.content
    assert done["Liuhen-Sha256"] == hashlib.sha256(data).hexdigest()
    assert done["Liuhen-Sm3"] == hashlib.new("sm3", data).hexdigest()


def test_another_units_officer_is_accepted_and_flagged(people, bureau, tus_a, make_media):
    """Issue 16 item 10: a case of team A credited to an officer of team B (a joint operation)
    is stored — 第十三条 forbids sending it back to the camera — and flagged for the records
    keeper, as a device of another unit is (第十八条); the officer's own unit is not."""
    from liuhen.cases.tests.factories import make_case

    case = make_case(actor=people["head_a"].user, unit=bureau["team_a"],
                     officers=[people["officer_a"], people["officer_a2"]])
    data = make_media("h264").read_bytes()
    response = tus_a.create(len(data), data, case=case.number,
                            officer=people["officer_b"].credential_number)
    assert response.status_code == 201, response.content
    recording = Recording.objects.get(pk=response["Liuhen-Recording-Id"])
    assert recording.officer == people["officer_b"] and recording.unit == bureau["team_a"]
    assert recording.flags == ["officer_other_unit"] and recording.is_flagged
    assert "执法人员属其他单位" in recording.flag_labels
    entry = AuditEntry.objects.get(action="recording.stored", object_id=str(recording.pk))
    assert entry.detail["flags"] == ["officer_other_unit"]
    assert entry.actor_id == people["officer_a"].user.pk
    # Without a case of team A the recording would belong to team B: refused, audited.
    response = tus_a.create(10, officer=people["officer_b"].credential_number)
    assert response.status_code == 403
    own = make_media("h264", name="DSJ001_20261127090000_0009.MP4").read_bytes()
    response = tus_a.create(len(own), own, officer=people["officer_a2"].credential_number)
    assert Recording.objects.get(pk=response["Liuhen-Recording-Id"]).flags == []


def test_control_characters_in_a_file_name(people, tus_a, make_media, grant_access):
    """Issue 16 item 12: CR/LF in a name is stored visibly (␍␊) and its copy is served
    with an RFC 6266 ``filename*`` — never a broken header or a 500."""
    from urllib.parse import unquote

    data = make_media("h264").read_bytes()
    response = tus_a.create(len(data), data, filename="现场\r\nSet-Cookie: x=1\x00\x7f.mp4")
    assert response.status_code == 201, response.content
    recording = Recording.objects.get(pk=response["Liuhen-Recording-Id"])
    assert recording.original_name == "现场␍␊Set-Cookie: x=1␀␡.mp4"
    created = AuditEntry.objects.get(action="upload.created")
    assert created.detail["filename"].startswith("现场\r\nSet-Cookie")  # as sent
    browser = Client()
    browser.force_login(people["officer_a"].user)
    grant_access(people["officer_a"], people["head_a"], recording, ["copy"])  # 第十六条
    # A copy is the watermarked derived file (disclosure.copies), named after the original.
    made = browser.post("/use/copies/new/", {"target": f"evidence.recording:{recording.pk}"})
    assert made.status_code == 302
    response = browser.get(made["Location"] + "download")
    assert response.status_code == 200
    header = response["Content-Disposition"]
    assert "\r" not in header and "\n" not in header and "Set-Cookie" not in response.cookies
    assert header.startswith("attachment; filename")
    encoded = header.split("''", 1)[1]
    assert unquote(encoded).startswith("现场␍␊Set-Cookie: x=1␀␡-复制件〔")


def test_the_last_chunk_is_answered_from_the_ingest_without_reading_rows_again(
        tus_a, make_media):
    """Issue 9 item 2: the answer to the last chunk names the recording the ingest returned
    (the station's receipt reads its Liuhen-* headers): neither the upload nor the recording
    is read again once the recording's row is written."""
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    data = make_media("h264").read_bytes()
    with CaptureQueriesContext(connection) as queries:
        response = tus_a.create(len(data), body=data, filename="DSJ001_20260101080000_0009.MP4")
    assert response.status_code == 201
    recording = Recording.objects.get()
    assert response["Liuhen-Recording-Id"] == str(recording.pk)
    assert response["Liuhen-Sm3"] == recording.sm3 and response["Liuhen-Duplicate"] == "0"
    sql = [q["sql"] for q in queries.captured_queries]
    written = max(i for i, q in enumerate(sql) if q.startswith('INSERT INTO "evidence_recording"'))
    reads = [q for q in sql[written:] if q.startswith("SELECT")]
    assert not [q for q in reads if 'FROM "evidence_uploadsession"' in q
                or 'FROM "evidence_recording"' in q], reads


def test_a_finished_upload_is_not_synced_a_second_time(tus_a, make_media, monkeypatch):
    """Issue 9 item 2: the upload's bytes were fsynced before their offset was recorded, so
    the vault's hard link of the complete file is renamed and its directory synced, without a
    second fsync of the same bytes (each is a disk cache flush). The bytes are still synced
    once, before the answer; the stored object is the upload's bytes."""
    import os

    synced = []
    real_fsync = os.fsync

    def fsync(fd):
        synced.append(os.readlink(f"/proc/self/fd/{fd}"))
        return real_fsync(fd)

    monkeypatch.setattr(os, "fsync", fsync)
    data = make_media("h264").read_bytes()
    response = tus_a.create(len(data), body=data)
    assert response.status_code == 201 and response["Liuhen-Recording-Id"]
    assert not [p for p in synced if "/.incoming/" in p], synced
    assert len([p for p in synced if "/uploads/" in p]) == 1  # the body, as it arrived
    recording = Recording.objects.get()
    assert recording.sha256 == hashlib.sha256(data).hexdigest()
