"""S3 storage through django-storages/boto3, against moto's server over HTTP: Object Lock
retention on every original (第二十六条 (二)), multipart for big files, fixity, outages."""

from __future__ import annotations

import hashlib
from datetime import UTC, datetime, timedelta

import pytest

from liuhen.core.errors import StorageUnavailable
from liuhen.evidence import uploads as upload_files
from liuhen.evidence.models import Recording
from liuhen.evidence.services import ingest_recording
from liuhen.evidence.storage import S3Storage, get_storage


def test_original_is_stored_with_object_lock(people, make_media, s3):
    bucket = s3()
    path = make_media("h264")
    data = path.read_bytes()
    rec = ingest_recording(
        source_path=path, original_name=path.name, channel="web", actor=people["officer_a"].user
    ).recording
    assert rec.sha256 == hashlib.sha256(data).hexdigest()
    head = s3.client.head_object(Bucket=bucket, Key=rec.storage_key)
    assert head["ObjectLockMode"] == "COMPLIANCE"
    until = head["ObjectLockRetainUntilDate"]
    assert until > datetime.now(UTC) + timedelta(days=3649)
    assert head["Metadata"] == {"sha256": rec.sha256, "sm3": rec.sm3}
    body = s3.client.get_object(Bucket=bucket, Key=rec.storage_key)["Body"].read()
    assert body == data
    assert path.exists()  # the source is not consumed


def test_governance_mode_and_bucket_without_lock(people, make_media, s3, settings):
    bucket = s3()
    settings.S3_OBJECT_LOCK_MODE = "GOVERNANCE"
    path = make_media("h264")
    rec = ingest_recording(
        source_path=path, original_name=path.name, channel="web", actor=people["officer_a"].user
    ).recording
    assert (
        s3.client.head_object(Bucket=bucket, Key=rec.storage_key)["ObjectLockMode"] == "GOVERNANCE"
    )
    bucket = s3(lock=False)
    path = make_media("h264")
    rec = ingest_recording(
        source_path=path, original_name=path.name, channel="web", actor=people["officer_a"].user
    ).recording
    assert "ObjectLockMode" not in s3.client.head_object(Bucket=bucket, Key=rec.storage_key)


def test_big_file_goes_multipart_with_retention(people, s3, tmp_path, monkeypatch):
    from liuhen.evidence.tests import mediafactory

    bucket = s3()
    monkeypatch.setattr(S3Storage, "MULTIPART_THRESHOLD", 5 * 1024 * 1024)
    path = mediafactory.make_large_file(tmp_path / "big.mp4", 11 * 1024 * 1024)
    rec = ingest_recording(
        source_path=path, original_name=path.name, channel="station", actor=people["officer_a"].user
    ).recording
    head = s3.client.head_object(Bucket=bucket, Key=rec.storage_key)
    assert head["ETag"].strip('"').endswith("-3")  # three parts
    assert head["ObjectLockMode"] == "COMPLIANCE" and head["ContentLength"] == path.stat().st_size
    storage = get_storage()
    with storage.open(rec.storage_key) as fh:  # ranged, streaming reads
        fh.seek(7 * 1024 * 1024)
        assert fh.read(100) == path.read_bytes()[7 * 1024 * 1024 : 7 * 1024 * 1024 + 100]


def test_fixity_on_s3_catches_a_replaced_object(people, make_media, s3, capsys):
    from django.core.management import call_command

    bucket = s3(lock=False)
    good = ingest_recording(
        source_path=(p := make_media("h264")),
        original_name=p.name,
        channel="web",
        actor=people["officer_a"].user,
    ).recording
    bad = ingest_recording(
        source_path=(p := make_media("h264")),
        original_name=p.name,
        channel="web",
        actor=people["officer_a"].user,
    ).recording
    call_command("verify")
    forged = bytearray(s3.client.get_object(Bucket=bucket, Key=bad.storage_key)["Body"].read())
    forged[50] ^= 1
    s3.client.put_object(Bucket=bucket, Key=bad.storage_key, Body=bytes(forged))
    s3.client.put_object(Bucket=bucket, Key="sha256/00/00/" + "0" * 64, Body=b"orphan")
    with pytest.raises(SystemExit):
        call_command("verify")
    err = capsys.readouterr().err
    assert bad.sha256 in err and "孤立对象" in err and good.sha256 not in err


def test_duplicate_and_orphan_adoption_on_s3(people, make_media, s3):
    bucket = s3()
    path = make_media("h264")
    first = ingest_recording(
        source_path=path, original_name=path.name, channel="web", actor=people["officer_a"].user
    )
    again = ingest_recording(
        source_path=path, original_name="b.mp4", channel="web", actor=people["officer_a"].user
    )
    assert again.duplicate and again.recording == first.recording
    versions = s3.client.list_object_versions(Bucket=bucket)["Versions"]
    assert len(versions) == 1  # stored once


def test_unreachable_storage_is_a_clear_error(people, make_media, settings, s3):
    from conftest import free_port

    s3()
    settings.S3_ENDPOINT_URL = f"http://127.0.0.1:{free_port()}"  # nothing listens there
    path = make_media("h264")
    with pytest.raises(StorageUnavailable) as err:
        ingest_recording(
            source_path=path, original_name=path.name, channel="web", actor=people["officer_a"].user
        )
    assert err.value.status == 503 and "存储暂不可用" in err.value.message
    assert not Recording.objects.exists()


def test_tus_upload_to_s3_and_outage(people, make_media, s3, settings):
    from conftest import free_port
    from liuhen.access.services import create_token
    from liuhen.evidence.tests.test_tus import Tus, _path

    bucket = s3()
    client = Tus(create_token(user=people["officer_a"].user, name="t")[1])
    data = make_media("h264").read_bytes()
    done = client.patch(_path(client.create(len(data))), 0, data)
    assert done["Liuhen-Sha256"] == hashlib.sha256(data).hexdigest()
    key = Recording.objects.get().storage_key
    assert s3.client.head_object(Bucket=bucket, Key=key)["ContentLength"] == len(data)

    settings.S3_ENDPOINT_URL = f"http://127.0.0.1:{free_port()}"
    data = make_media("h264").read_bytes()
    url = _path(client.create(len(data)))
    response = client.patch(url, 0, data)
    assert response.status_code == 503 and response.json()["code"] == "storage_unavailable"
    assert Recording.objects.count() == 1
    assert upload_files.partial_path(url.rsplit("/", 1)[1]).stat().st_size == len(data)  # kept for retry


# -- pinned object versions (issue 14 item 5, 第二十六条 (二)) ------------------------------


def _ingest(people, path):
    return ingest_recording(source_path=path, original_name=path.name, channel="web",
                            actor=people["officer_a"].user).recording


def _storage_check(*args) -> tuple[int, str, str]:
    import io

    from django.core.management import call_command

    out, err = io.StringIO(), io.StringIO()
    try:
        call_command("storage", "check", *args, stdout=out, stderr=err)
        code = 0
    except SystemExit as exc:
        code = exc.code
    return code, out.getvalue(), err.getvalue()


def test_a_new_version_on_an_originals_key_is_never_served_and_is_reported(people, make_media,
                                                                           s3, capsys):
    """Object Lock refuses deleting the locked version, but S3 accepts a new version on the
    same key. Liuhen reads the version pinned at ingest everywhere (player, fixity, derivation),
    and fixity and `liuhen storage check` report the new version as a tamper attempt."""
    from django.core.management import call_command
    from django.db import DatabaseError, transaction
    from django.test import Client

    from liuhen.audit.models import AuditEntry
    from liuhen.evidence import events
    from liuhen.evidence.models import FixityCheck

    bucket = s3()
    path = make_media("h264")
    data = path.read_bytes()
    rec = _ingest(people, path)
    head = s3.client.head_object(Bucket=bucket, Key=rec.storage_key)
    assert rec.storage_version and rec.storage_version == head["VersionId"]
    stored = AuditEntry.objects.get(action=events.event_recording_stored, object_id=str(rec.pk))
    assert stored.detail["version"] == rec.storage_version
    assert _storage_check("--sample", "1")[0] == 0

    forged = bytearray(data)
    forged[100] ^= 0xFF
    s3.client.put_object(Bucket=bucket, Key=rec.storage_key, Body=bytes(forged))
    latest = s3.client.get_object(Bucket=bucket, Key=rec.storage_key)["Body"].read()
    assert latest == bytes(forged)  # the bucket's "latest" is now the altered copy

    client = Client()
    client.force_login(people["officer_a"].user)
    response = client.get(f"/recordings/{rec.pk}/original", HTTP_SEC_FETCH_DEST="video")
    assert response.status_code == 200
    assert b"".join(response.streaming_content) == data  # the pinned bytes, never the forgery
    part = client.get(f"/recordings/{rec.pk}/original", HTTP_RANGE="bytes=90-109",
                      HTTP_SEC_FETCH_DEST="video")
    assert part.status_code == 206 and b"".join(part.streaming_content) == data[90:110]
    with get_storage().local_path(rec.storage_key, rec.storage_version) as local:
        assert local.read_bytes() == data  # what derivation reads

    with pytest.raises(SystemExit):
        call_command("verify")
    err = capsys.readouterr().err
    assert "疑似篡改" in err and rec.sha256 in err
    check = FixityCheck.objects.filter(recording=rec).latest("pk")
    assert check.outcome == "tampered" and check.found_sha256 == rec.sha256  # pinned intact
    assert len(check.detail["other_versions"]) == 1

    code, out, err = _storage_check("--sample", "0")
    assert code == 1
    assert "版本控制 Enabled" in out and "对象锁定 已启用" in out
    assert f"[存储键上出现新版本（疑似篡改）] recording {rec.pk} {rec.storage_key}" in err
    assert "出现新版本 1" in out

    # The pin itself cannot be moved to the forged version.
    forged_version = s3.client.head_object(Bucket=bucket, Key=rec.storage_key)["VersionId"]
    with pytest.raises(DatabaseError), transaction.atomic():
        Recording.objects.filter(pk=rec.pk).update(storage_version=forged_version)


def test_storage_check_reports_bucket_setup_missing_and_changed(people, make_media, s3):
    """Every stored object against its row: a bucket without versioning or Object Lock is a
    set-up problem; a deleted object is missing, one rewritten with other bytes changed."""
    bucket = s3(lock=False)  # moto: no versioning, no Object Lock
    kept, gone, altered = (_ingest(people, make_media("h264")) for _ in range(3))
    assert kept.storage_version == ""  # nothing to pin in a bucket without versions
    s3.client.delete_object(Bucket=bucket, Key=gone.storage_key)
    s3.client.put_object(Bucket=bucket, Key=altered.storage_key, Body=b"not the original")
    code, out, err = _storage_check("--sample", "0")
    assert code == 1
    assert "未启用版本控制" in err and "未启用对象锁定" in err
    assert f"[缺失] recording {gone.pk}" in err
    assert f"[已改变] recording {altered.pk}" in err
    assert f"recording {kept.pk}" not in err.replace("[未固定版本]", "")
    assert "已检查 3 个对象：缺失 1，已改变 1" in out


def test_storage_check_pins_an_original_stored_before_versions_were_pinned(
        people, make_media, s3, monkeypatch):
    """An original stored in a versioned bucket before Liuhen pinned versions: reported, then
    pinned by --pin after its only version was re-hashed; clean afterwards."""
    bucket = s3()
    monkeypatch.setattr(S3Storage, "_written_version", lambda self, key, sha256: "")
    old = _ingest(people, make_media("h264"))
    monkeypatch.undo()
    assert old.storage_version == ""
    code, out, err = _storage_check("--sample", "0")
    assert code == 0 and f"[未固定版本] recording {old.pk}" in err
    code, out, err = _storage_check("--sample", "0", "--pin")
    assert code == 0 and "本次固定 1" in out
    old.refresh_from_db()
    assert old.storage_version == s3.client.head_object(Bucket=bucket,
                                                        Key=old.storage_key)["VersionId"]
    code, out, err = _storage_check("--sample", "1")
    assert code == 0 and err == "" and "抽样重算摘要 1 个，不一致 0" in out


def test_audit_anchors_are_kept_in_the_bucket_under_object_lock(people, s3, settings, tmp_path,
                                                                capsys):
    """Issue 14 item 3 with S3: the anchor is an object under Object Lock in the evidence
    bucket, and `audit verify` on a node whose own anchor folder is empty checks it."""
    from django.core.management import call_command

    from liuhen.audit.anchors import make_anchor
    from liuhen.audit.services import record

    bucket = s3()
    record(actor=None, actor_name="测试", action="test.event", target=("x.y", "1"))
    settings.AUDIT_ANCHOR_DIR = tmp_path / "node-a-anchors"
    anchor, path = make_anchor()
    key = f"audit-anchors/{path.name}"
    head = s3.client.head_object(Bucket=bucket, Key=key)
    assert head["ObjectLockMode"] == "COMPLIANCE"
    assert s3.client.get_object(Bucket=bucket, Key=key)["Body"].read() == path.read_bytes()
    settings.AUDIT_ANCHOR_DIR = tmp_path / "node-b-anchors"
    call_command("audit", "verify", "--quiet")
    assert "锚点 1 个均相符" in capsys.readouterr().out
    # A forged anchor put on the key (a new version; the locked one stays) is a mismatch.
    forged = path.read_bytes().replace(anchor.hash.encode(), b"0" * 64)
    s3.client.put_object(Bucket=bucket, Key=key, Body=forged)
    with pytest.raises(Exception, match="哈希与锚点不符") as err:
        call_command("audit", "verify", "--quiet")
    assert f"{key}?versionId=" in str(err.value)
    # Each version is checked: the locked original still vouches, the forgery is named alone.
    assert str(err.value).count("哈希与锚点不符") == 1
