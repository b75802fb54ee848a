"""Object Lock tested as an attacker with the app's own credentials would (issue 16 item 18;
第二十六条 (二): no one may delete or alter an original). Against moto's server over HTTP, as
the vault talks to S3: a locked version cannot be deleted — not even with the governance
bypass header, the default mode being COMPLIANCE — and an overwrite or a plain delete only
adds a version or a delete marker above it: the stored bytes stay readable with their digest.

Not shown here, because moto does not enforce them (it accepts both): that a COMPLIANCE
retention cannot be shortened (AWS refuses it), and that GOVERNANCE-mode bypass is refused to
the app's credentials (IAM policy: no ``s3:BypassGovernanceRetention`` for the app's key).
Production stores in COMPLIANCE mode (``S3_OBJECT_LOCK_MODE``), where no key can bypass."""

from __future__ import annotations

import hashlib

import pytest
from botocore.exceptions import ClientError

from liuhen.evidence.services import ingest_recording


@pytest.fixture
def locked(people, make_media, s3):
    bucket = s3()
    path = make_media("h264")
    data = path.read_bytes()
    recording = ingest_recording(source_path=path, original_name=path.name, channel="web",
                                 actor=people["officer_a"].user).recording
    head = s3.client.head_object(Bucket=bucket, Key=recording.storage_key)
    assert head["ObjectLockMode"] == "COMPLIANCE"
    return s3.client, bucket, recording, data, head["VersionId"]


def _refused(call, **kwargs):
    with pytest.raises(ClientError) as refused:
        call(**kwargs)
    assert refused.value.response["Error"]["Code"] in ("AccessDenied", "InvalidRequest"), \
        refused.value.response


def _original(client, bucket, recording, version) -> bytes:
    return client.get_object(Bucket=bucket, Key=recording.storage_key,
                             VersionId=version)["Body"].read()


def test_a_locked_version_cannot_be_deleted_even_with_the_bypass_header(locked):
    client, bucket, recording, data, version = locked
    _refused(client.delete_object, Bucket=bucket, Key=recording.storage_key, VersionId=version)
    _refused(client.delete_object, Bucket=bucket, Key=recording.storage_key, VersionId=version,
             BypassGovernanceRetention=True)
    result = client.delete_objects(Bucket=bucket, Delete={"Objects": [
        {"Key": recording.storage_key, "VersionId": version}]})
    assert not result.get("Deleted") and result["Errors"], result
    assert hashlib.sha256(_original(client, bucket, recording, version)).hexdigest() \
        == recording.sha256 == hashlib.sha256(data).hexdigest()


def test_an_overwrite_or_a_plain_delete_leaves_the_locked_bytes(locked):
    client, bucket, recording, data, version = locked
    client.put_object(Bucket=bucket, Key=recording.storage_key, Body=b"forged")
    client.delete_object(Bucket=bucket, Key=recording.storage_key)  # a delete marker on top
    assert _original(client, bucket, recording, version) == data
    versions = client.list_object_versions(Bucket=bucket, Prefix=recording.storage_key)
    assert version in {v["VersionId"] for v in versions["Versions"]}


def test_an_s3_that_drops_the_lock_headers_still_locks_the_original(people, make_media, s3,
                                                                   settings, monkeypatch):
    """The retention fallback (S3Storage._ensure_retention): some S3 implementations ignore the
    Object Lock headers of an upload (of a multipart one, notably). The stored version is then
    given its retention explicitly, and an attacker still cannot delete it."""
    from datetime import UTC, datetime, timedelta

    from liuhen.evidence.storage import get_storage

    bucket = s3()  # Object Lock on, no default retention: without headers, nothing is locked
    client = get_storage().client
    real_upload = client.upload_file
    dropped = []

    def ignoring_the_lock(filename, bucket_name, key, ExtraArgs=None, Config=None):
        kept = {k: v for k, v in (ExtraArgs or {}).items() if not k.startswith("ObjectLock")}
        dropped.append(sorted(set(ExtraArgs or {}) - set(kept)))
        return real_upload(filename, bucket_name, key, ExtraArgs=kept, Config=Config)

    monkeypatch.setattr(client, "upload_file", ignoring_the_lock)
    path = make_media("h264")
    recording = ingest_recording(source_path=path, original_name=path.name, channel="web",
                                 actor=people["officer_a"].user).recording
    assert dropped == [["ObjectLockMode", "ObjectLockRetainUntilDate"]]
    head = s3.client.head_object(Bucket=bucket, Key=recording.storage_key)
    assert head["ObjectLockMode"] == "COMPLIANCE"
    assert head["ObjectLockRetainUntilDate"] > datetime.now(UTC) + timedelta(
        days=settings.S3_OBJECT_LOCK_DAYS - 1)
    _refused(s3.client.delete_object, Bucket=bucket, Key=recording.storage_key,
             VersionId=head["VersionId"])
    assert hashlib.sha256(_original(s3.client, bucket, recording, head["VersionId"])) \
        .hexdigest() == recording.sha256
