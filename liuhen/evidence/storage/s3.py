"""The S3 backend (MinIO, Ceph, cloud object storage), with Object Lock retention."""

from __future__ import annotations

import contextlib
import io
import logging
import os
import shutil
import tempfile
import threading
from collections import OrderedDict
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

from liuhen.core.errors import StorageUnavailable
from liuhen.evidence.digests import CHUNK, Digests, digest_file
from liuhen.evidence.storage.base import (
    ORIGINALS_PREFIX,
    Staged,
    StorageFull,
    _os_error,
    check_erase_permit,
    derived_of_permit,
)

log = logging.getLogger(__name__)


class StagingSpaceTooSmall(StorageFull):
    """The worker's staging folder cannot hold the original it must read from a local path."""

    code = "staging_space"


def _mib(size: int) -> int:
    return -(-size // (1024 * 1024))


class _S3Reader(io.RawIOBase):
    """A seekable, streaming reader of one S3 object (ranged GETs, nothing buffered whole)."""

    def __init__(self, storage: S3Storage, key: str, size: int, version: str = "") -> None:
        self._storage, self._key, self._size = storage, key, size
        self._version = {"VersionId": version} if version else {}
        self._pos = 0
        self._body = None

    def readable(self) -> bool:
        return True

    def seekable(self) -> bool:
        return True

    def tell(self) -> int:
        return self._pos

    def seek(self, offset: int, whence: int = io.SEEK_SET) -> int:
        base = {io.SEEK_SET: 0, io.SEEK_CUR: self._pos, io.SEEK_END: self._size}[whence]
        new = max(0, base + offset)
        if new != self._pos:
            self._close_body()
            self._pos = new
        return self._pos

    def readinto(self, buffer) -> int:
        if self._pos >= self._size:
            return 0
        if self._body is None:
            response = self._storage._call(
                "get_object",
                Bucket=self._storage.bucket,
                Key=self._key,
                Range=f"bytes={self._pos}-",
                **self._version,
            )
            self._body = response["Body"]
        data = self._body.read(len(buffer))
        buffer[: len(data)] = data
        self._pos += len(data)
        return len(data)

    def _close_body(self) -> None:
        if self._body is not None:
            self._body.close()
            self._body = None

    def close(self) -> None:
        self._close_body()
        super().close()


class S3Source:
    """An S3 object as PyAV and Pillow read it for derivation, without a local copy (issue 14
    item 6): every read is a ranged GET of the pinned version (VersionId, issue 14 item 5), in
    blocks of ``BLOCK`` bytes kept in a small shared cache.

    A reader that reads on from where its last fetch ended fetches ahead: 1, 2, 4, then up to
    ``MAX_AHEAD`` blocks in one GET, so a transcode that reads the whole file makes few requests.
    A seek elsewhere starts again with one block. The cache (``CACHE_BYTES``, least recently
    used dropped first) is shared by every reader of the source, so probing, the poster, the
    thumbnails and the proxy, which each open the file anew, fetch the container's index once:
    an MP4 whose ``moov`` is at the end (no faststart, as most body cameras write) costs a few
    blocks more than one with it in front, not a GET per seek. ``fetched``/``requests`` count
    what was fetched."""

    BLOCK = 1024 * 1024
    MAX_AHEAD = 8
    CACHE_BYTES = 32 * 1024 * 1024

    def __init__(self, storage: S3Storage, key: str, version: str = "") -> None:
        self._storage, self.key, self.version = storage, key, version
        self.size = storage.size(key, version)
        self.name = f"s3://{storage.bucket}/{key}" + (f"?versionId={version}" if version else "")
        self._blocks: OrderedDict[int, bytes] = OrderedDict()
        self._lock = threading.Lock()
        self.fetched = 0
        self.requests = 0

    def open(self):
        return io.BufferedReader(_BlockReader(self), buffer_size=64 * 1024)

    def block(self, index: int, ahead: int = 1) -> bytes:
        """Block ``index`` from the cache, else fetched with up to ``ahead - 1`` following
        blocks in one ranged GET."""
        with self._lock:
            if index in self._blocks:
                self._blocks.move_to_end(index)
                return self._blocks[index]
        last = (self.size - 1) // self.BLOCK
        end = min(index + max(1, ahead), last + 1)
        with self._lock:  # do not fetch again what the cache holds already
            end = next((i for i in range(index + 1, end) if i in self._blocks), end)
        start_byte, end_byte = index * self.BLOCK, min(end * self.BLOCK, self.size) - 1
        extra = {"VersionId": self.version} if self.version else {}
        response = self._storage._call("get_object", Bucket=self._storage.bucket, Key=self.key,
                                       Range=f"bytes={start_byte}-{end_byte}", **extra)
        data = response["Body"].read()
        if len(data) != end_byte - start_byte + 1:
            raise StorageUnavailable(detail={"error": f"short read of {self.name} at "
                                             f"{start_byte}: {len(data)} bytes"})
        with self._lock:
            self.fetched += len(data)
            self.requests += 1
            for n, i in enumerate(range(index, end)):
                self._blocks[i] = data[n * self.BLOCK:(n + 1) * self.BLOCK]
                self._blocks.move_to_end(i)
            while len(self._blocks) * self.BLOCK > self.CACHE_BYTES:
                self._blocks.popitem(last=False)
            return self._blocks.get(index) or data[: self.BLOCK]


class _BlockReader(io.RawIOBase):
    """One seekable reader of an :class:`S3Source` (its own position and read-ahead)."""

    def __init__(self, source: S3Source) -> None:
        self._source, self._pos = source, 0
        self._read_to, self._ahead = 0, 1

    def readable(self) -> bool:
        return True

    def seekable(self) -> bool:
        return True

    def tell(self) -> int:
        return self._pos

    def seek(self, offset: int, whence: int = io.SEEK_SET) -> int:
        base = {io.SEEK_SET: 0, io.SEEK_CUR: self._pos, io.SEEK_END: self._source.size}[whence]
        self._pos = max(0, base + offset)
        return self._pos

    def readinto(self, buffer) -> int:
        size = self._source.size
        if self._pos >= size:
            return 0
        source = self._source
        index, within = divmod(self._pos, source.BLOCK)
        if self._pos != self._read_to:  # a seek: fetch one block, not what lies beyond
            self._ahead = 1
        requests = source.requests
        data = source.block(index, self._ahead)
        if source.requests != requests:  # read on after a fetch: fetch further ahead next time
            self._ahead = min(self._ahead * 2, source.MAX_AHEAD)
        n = min(len(buffer), len(data) - within)
        buffer[:n] = data[within:within + n]
        self._pos += n
        self._read_to = self._pos
        return n


class S3Storage:
    """Originals in an S3 bucket through django-storages/boto3, Object Lock when available."""

    name = "s3"
    MULTIPART_THRESHOLD = 64 * 1024 * 1024

    def __init__(
        self,
        *,
        bucket: str,
        endpoint_url: str,
        region: str,
        access_key: str,
        secret_key: str,
        lock_days: int,
        lock_mode: str = "COMPLIANCE",
        staging_dir: Path | None = None,
    ) -> None:
        # boto3/botocore load only when LIUHEN_STORAGE=s3 (heavy; the local store needs none).
        from botocore.config import Config
        from storages.backends.s3 import S3Storage as DjangoS3Storage

        self.bucket = bucket
        self.lock_days = lock_days
        self.lock_mode = lock_mode
        self.staging_dir = Path(staging_dir or tempfile.gettempdir())
        self._backend = DjangoS3Storage(
            bucket_name=bucket,
            endpoint_url=endpoint_url or None,
            region_name=region,
            access_key=access_key or None,
            secret_key=secret_key or None,
            file_overwrite=False,
            default_acl=None,
            querystring_auth=False,
            client_config=Config(
                connect_timeout=5, read_timeout=60, retries={"max_attempts": 2, "mode": "standard"}
            ),
        )
        self._lock_enabled: bool | None = None

    @property
    def client(self):
        return self._backend.connection.meta.client

    def _call(self, method: str, **kwargs):
        from botocore.exceptions import BotoCoreError, ClientError

        try:
            return getattr(self.client, method)(**kwargs)
        except ClientError as exc:
            code = exc.response.get("Error", {}).get("Code", "")
            if code in ("404", "NoSuchKey", "NotFound"):
                raise FileNotFoundError(kwargs.get("Key", "")) from exc
            raise StorageUnavailable(detail={"error": f"{code}: {exc}"[:300]}) from exc
        except BotoCoreError as exc:
            raise StorageUnavailable(detail={"error": str(exc)[:300]}) from exc

    def object_lock_enabled(self) -> bool:
        if self._lock_enabled is None:
            try:
                conf = self._call("get_object_lock_configuration", Bucket=self.bucket)
                enabled = conf.get("ObjectLockConfiguration", {}).get("ObjectLockEnabled")
                self._lock_enabled = enabled == "Enabled"
            except StorageUnavailable as exc:
                if "ObjectLockConfigurationNotFound" not in str(exc.detail):
                    raise
                self._lock_enabled = False
        return self._lock_enabled

    # -- reading -------------------------------------------------------------------------
    # ``version``: the VersionId pinned on the recording at ingest (issue 14 item 5). With
    # versioning on, anyone holding write access can put a new version on an original's key;
    # Object Lock keeps the locked version but not the key's "latest". Originals are read by
    # their pinned version only, so a newer version is never served; "" reads the latest
    # (derived files, and originals stored before versions were pinned).
    def head(self, key: str, version: str = "") -> dict:
        extra = {"VersionId": version} if version else {}
        return self._call("head_object", Bucket=self.bucket, Key=key, **extra)

    def open(self, key: str, version: str = ""):
        reader = _S3Reader(self, key, self.size(key, version), version)
        return io.BufferedReader(reader, buffer_size=CHUNK)

    def exists(self, key: str) -> bool:
        try:
            self.head(key)
            return True
        except FileNotFoundError:
            return False

    def size(self, key: str, version: str = "") -> int:
        return int(self.head(key, version)["ContentLength"])

    def versions_of(self, key: str) -> list[dict]:
        """Every version of exactly ``key``, oldest first (VersionId, Size, LastModified). An
        object written while the bucket kept no versions ("null") is not one to pin."""
        found = [v for v in self._versions(key) if v["Key"] == key and v["VersionId"] != "null"]
        return sorted(found, key=lambda v: v["LastModified"])

    def bucket_report(self) -> dict:
        """The bucket's set-up as `liuhen storage check` reports it: versioning, Object Lock and
        its default retention (第二十六条 (二): originals that nobody can alter or delete)."""
        versioning = self._call("get_bucket_versioning", Bucket=self.bucket).get("Status", "")
        report = {"bucket": self.bucket, "versioning": versioning or "Disabled",
                  "object_lock": self.object_lock_enabled(), "default_retention": None}
        if report["object_lock"]:
            conf = self._call("get_object_lock_configuration", Bucket=self.bucket)
            rule = conf.get("ObjectLockConfiguration", {}).get("Rule", {})
            report["default_retention"] = rule.get("DefaultRetention")
        return report

    def iter_keys(self, prefix: str = ORIGINALS_PREFIX) -> Iterator[str]:
        from botocore.exceptions import BotoCoreError, ClientError

        paginator = self.client.get_paginator("list_objects_v2")
        try:
            for page in paginator.paginate(Bucket=self.bucket, Prefix=prefix):
                for item in page.get("Contents", []):
                    yield item["Key"]
        except (ClientError, BotoCoreError) as exc:
            raise StorageUnavailable(detail={"error": str(exc)[:300]}) from exc

    @contextlib.contextmanager
    def local_path(self, key: str, version: str = "") -> Iterator[Path]:
        """Download to a temporary file (streamed) for tools that need a path (PyAV).

        The derivation worker needs this much free disk in the staging folder
        (``LIUHEN_UPLOAD_DIR``): the whole original, up to the 64 GiB upload maximum, plus
        ``STAGING_HEADROOM`` (issue 14 item 6; docs/uploads.md). Checked before the download
        starts, so a worker whose disk is too small fails at once with a message that says
        how much is needed and where, instead of filling its disk and failing half-way."""
        self.staging_dir.mkdir(parents=True, exist_ok=True)
        self._check_staging_space(key, version)
        fd, name = tempfile.mkstemp(dir=self.staging_dir, suffix=".s3")
        try:
            with os.fdopen(fd, "wb") as out, self.open(key, version) as src:
                shutil.copyfileobj(src, out, CHUNK)
            yield Path(name)
        finally:
            with contextlib.suppress(FileNotFoundError):
                os.unlink(name)

    @contextlib.contextmanager
    def media_source(self, key: str, version: str = "") -> Iterator[S3Source]:
        """What derivation reads (issue 14 item 6): the pinned version through ranged GETs,
        no local copy (``S3Source``)."""
        yield S3Source(self, key, version)

    STAGING_HEADROOM = 256 * 1024 * 1024  # what else the folder must keep (uploads in progress)

    def _check_staging_space(self, key: str, version: str = "") -> None:
        size = self.size(key, version)
        free = shutil.disk_usage(self.staging_dir).free
        if free < size + self.STAGING_HEADROOM:
            raise StagingSpaceTooSmall(
                f"派生处理需把原始文件临时下载到 {self.staging_dir}：需要 "
                f"{_mib(size + self.STAGING_HEADROOM)} MiB，可用 {_mib(free)} MiB。"
                "请扩大该磁盘或将 LIUHEN_UPLOAD_DIR 设到更大的磁盘后重新派生",
                detail={"key": key, "size": size, "free": free,
                        "staging_dir": str(self.staging_dir)},
            )

    # -- writing -------------------------------------------------------------------------
    def stage(self, source: Path, *, digests: Digests | None = None,
              durable: bool = False) -> Staged:
        """S3 uploads straight from the source file: only hash it if not hashed yet
        (``durable`` means nothing here: an acknowledged PUT is durable)."""
        source = Path(source)
        try:
            return Staged(source, digests or digest_file(source), temporary=False)
        except OSError as exc:
            raise _os_error(exc) from exc

    def _extra_args(self, *, sha256: str = "", sm3: str = "") -> dict:
        extra: dict = {"ContentType": "application/octet-stream"}
        if sha256:
            extra["Metadata"] = {"sha256": sha256, "sm3": sm3}
        if self.object_lock_enabled():
            extra["ObjectLockMode"] = self.lock_mode
            extra["ObjectLockRetainUntilDate"] = datetime.now(UTC) + timedelta(days=self.lock_days)
        return extra

    def _upload(self, path: Path, key: str, extra: dict) -> None:
        from boto3.s3.transfer import TransferConfig
        from botocore.exceptions import BotoCoreError, ClientError
        from s3transfer.exceptions import S3UploadFailedError

        config = TransferConfig(
            multipart_threshold=self.MULTIPART_THRESHOLD,
            multipart_chunksize=self.MULTIPART_THRESHOLD,
            max_concurrency=4,
        )
        try:
            self.client.upload_file(str(path), self.bucket, key, ExtraArgs=extra, Config=config)
        except (ClientError, BotoCoreError, S3UploadFailedError) as exc:
            raise StorageUnavailable(detail={"error": str(exc)[:300]}) from exc
        except OSError as exc:
            raise _os_error(exc) from exc
        if "ObjectLockMode" in extra:
            self._ensure_retention(key, extra)

    def _ensure_retention(self, key: str, extra: dict) -> None:
        """Make sure the stored version carries its retention: some S3 implementations
        ignore the Object Lock headers of a multipart upload, so it is set explicitly."""
        head = self.head(key)
        if head.get("ObjectLockMode"):
            return
        self._call(
            "put_object_retention",
            Bucket=self.bucket,
            Key=key,
            VersionId=head.get("VersionId"),
            Retention={
                "Mode": extra["ObjectLockMode"],
                "RetainUntilDate": extra["ObjectLockRetainUntilDate"],
            },
        )

    def commit(self, staged: Staged, key: str, *, sync_later: set | None = None) -> str:
        """Upload under ``key``; an object already there with our digests is adopted as is.
        Returns the VersionId to pin on the recording ("" in a bucket without versioning).
        An acknowledged PUT is durable: nothing is left for ``sync_later``."""
        try:
            existing = self.head(key)
            if existing.get("Metadata", {}).get("sha256") == staged.digests.sha256:
                return existing.get("VersionId") or ""
        except FileNotFoundError:
            pass
        self._upload(
            staged.path, key, self._extra_args(sha256=staged.digests.sha256, sm3=staged.digests.sm3)
        )
        return self._written_version(key, staged.digests.sha256)

    def sync_directories(self, directories) -> None:
        """A bucket has no directories to sync (see ``commit``)."""

    def _written_version(self, key: str, sha256: str) -> str:
        """The version just written: the newest one carrying our digest (not merely the
        latest, which someone may have put on the key in between)."""
        for version in reversed(self.versions_of(key)):
            head = self.head(key, version["VersionId"])
            if head.get("Metadata", {}).get("sha256") == sha256:
                return version["VersionId"]
        return ""

    def put_bytes(self, key: str, data: bytes) -> str:
        """A small object (an audit anchor) under Object Lock when the bucket has it; returns
        where it went."""
        if key.startswith(ORIGINALS_PREFIX):
            raise ValueError("originals are stored by the ingest service only")
        extra = self._extra_args()
        response = self._call("put_object", Bucket=self.bucket, Key=key, Body=data, **extra)
        version = response.get("VersionId")
        return f"s3://{self.bucket}/{key}" + (f"?versionId={version}" if version else "")

    def read_bytes(self, key: str, version: str = "") -> bytes:
        extra = {"VersionId": version} if version else {}
        return self._call("get_object", Bucket=self.bucket, Key=key, **extra)["Body"].read()

    def put_file(self, key: str, local_path: Path) -> None:
        if key.startswith(ORIGINALS_PREFIX):
            raise ValueError("originals are stored by the ingest service only")
        self._upload(Path(local_path), key, self._extra_args())

    def clean_incoming(self, older_than: timedelta = timedelta(hours=1)) -> int:
        return 0

    # -- disposal: the one way an original leaves (evidence.disposal) ---------------------
    def retained_until(self, key: str):
        """Until when Object Lock keeps the stored object (any version), or None. A legal hold
        on the object keeps it indefinitely (``datetime.max``)."""
        latest = None
        for version in self._versions(key):
            head = self._call("head_object", Bucket=self.bucket, Key=key,
                              VersionId=version["VersionId"])
            if head.get("ObjectLockLegalHoldStatus") == "ON":
                return datetime.max.replace(tzinfo=UTC)
            until = head.get("ObjectLockRetainUntilDate")
            if until is not None and (latest is None or until > latest):
                latest = until
        return latest

    def _versions(self, prefix: str, *, markers: bool = False) -> list[dict]:
        """Every version (and delete marker) of the objects under ``prefix``."""
        from botocore.exceptions import BotoCoreError, ClientError

        found = []
        try:
            paginator = self.client.get_paginator("list_object_versions")
            for page in paginator.paginate(Bucket=self.bucket, Prefix=prefix):
                found += [v for v in page.get("Versions", []) if v["Key"].startswith(prefix)]
                if markers:
                    found += [m for m in page.get("DeleteMarkers", [])
                              if m["Key"].startswith(prefix)]
        except (ClientError, BotoCoreError) as exc:
            raise StorageUnavailable(detail={"error": str(exc)[:300]}) from exc
        return found

    def erase_original(self, key: str, *, permit) -> dict:
        """Delete every version of a disposed original and of its derived files (a plain
        DELETE would only add a delete marker in a versioned bucket, keeping the bytes).
        Refused by S3 itself while Object Lock retention lasts; never bypassed."""
        check_erase_permit(key, permit)
        removed = []
        for prefix in filter(None, (key, derived_of_permit(permit))):
            for version in self._versions(prefix, markers=True):
                self._call("delete_object", Bucket=self.bucket, Key=version["Key"],
                           VersionId=version["VersionId"])
                removed.append(f"{version['Key']}@{version['VersionId']}")
        return {"removed": removed}
