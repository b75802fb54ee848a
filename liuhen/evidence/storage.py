"""Where originals and derived files live: a local directory or an S3 bucket.

Keys are content-addressed: originals at ``sha256/ab/cd/<sha256>``, derived files under
``derived/<sha256>/...``. Neither backend offers a way to delete or rewrite an original
(第二十六条 (二)); writes are atomic, so a key either holds the complete object or nothing.

The ingest works in two steps so that every byte is read once: ``stage()`` brings the source
into the storage's own area (local: a temporary file in the same filesystem, hashed while it
is copied; a file already digested is hard-linked, not copied) and ``commit()`` makes it
visible under its key (local: fsync + rename + fsync of the directory; S3: an upload,
multipart for big files, with Object Lock retention when the bucket has Object Lock).
"""

from __future__ import annotations

import contextlib
import errno
import io
import logging
import os
import shutil
import tempfile
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path

from django.conf import settings

from liuhen.core.errors import LiuhenError, StorageUnavailable
from liuhen.evidence.digests import CHUNK, Digests, DigestWriter, Lane, digest_file

log = logging.getLogger(__name__)

ORIGINALS_PREFIX = "sha256/"
DERIVED_PREFIX = "derived/"
INCOMING_DIR = ".incoming"
STREAM_CHUNK = 4 * 1024 * 1024  # reads feeding the lanes: fewer hand-offs per GiB


class StorageFull(StorageUnavailable):
    code = "storage_full"
    status = 507
    message = "存储空间不足，未保存任何内容，请联系管理员扩容后重试"


def original_key(sha256: str) -> str:
    return f"{ORIGINALS_PREFIX}{sha256[:2]}/{sha256[2:4]}/{sha256}"


def derived_key(sha256: str, name: str) -> str:
    """Key of a derived file, e.g. ``derived_key(sha, "proxy.mp4")``."""
    return f"{DERIVED_PREFIX}{sha256}/{name}"


def _os_error(exc: OSError) -> LiuhenError:
    if exc.errno in (errno.ENOSPC, errno.EDQUOT):
        return StorageFull(detail={"errno": exc.errno})
    return StorageUnavailable(detail={"errno": exc.errno, "error": exc.strerror or str(exc)})


@dataclass
class Staged:
    """A source brought into the storage's reach, with its digests; ``discard()`` cleans up."""

    path: Path
    digests: Digests
    temporary: bool  # whether ``path`` is ours to remove
    extra: dict = field(default_factory=dict)

    def discard(self) -> None:
        if self.temporary:
            with contextlib.suppress(FileNotFoundError):
                os.unlink(self.path)
            self.temporary = False


class StreamedFile:
    """Appends chunks to an open file on a :class:`Lane` (the caller goes on reading and
    hashing meanwhile) and pushes the written pages to disk as it goes.

    Every ``FLUSH_EVERY`` bytes the pages just written are handed to the kernel's writeback
    and those written a few windows before (clean by then) are dropped from the page cache
    (``posix_fadvise(DONTNEED)``): the final ``fsync`` in :meth:`finish` has only the last
    window left to write instead of the whole file, and a multi-GiB original does not push
    everything else out of memory. Durability still rests on that ``fsync``.

    With ``direct_path`` (the same file; the caller promises every chunk starts at a
    page-aligned address, as the tus ring's buffers do) whole blocks at block-aligned offsets
    are written with ``O_DIRECT``: straight from the buffer to the disk, without first copying
    them into the page cache, which costs more CPU than SHA-256. The unaligned head and tail
    go through the page cache. Where the file system refuses ``O_DIRECT`` every chunk does.
    """

    FLUSH_EVERY = 16 * 1024 * 1024
    DIRECT_ALIGN = 4096  # a multiple of every disk's logical block size

    def __init__(self, fh, *, offset: int = 0, write=None, direct_path=None) -> None:
        self._fh = fh
        self._write = write or fh.write
        self._position = offset
        self._advised = offset
        self._direct_fd = None
        if direct_path is not None and write is None and getattr(os, "O_DIRECT", 0):
            try:
                self._direct_fd = os.open(direct_path, os.O_WRONLY | os.O_DIRECT)
            except OSError:  # tmpfs and a few others: buffered writes only
                self._direct_fd = None
            else:
                fh.flush()
        self._lane = Lane(self._append)
        self.lanes = (self._lane,)

    def _append(self, chunk) -> None:
        if self._direct_fd is None:
            self._write(chunk)
        else:
            self._positioned_write(chunk)
        self._position += len(chunk)
        if self._position - self._advised >= self.FLUSH_EVERY:
            self._fh.flush()
            _write_behind(self._fh.fileno(), self._position, 4 * self.FLUSH_EVERY)
            self._advised = self._position

    def _positioned_write(self, chunk) -> None:
        """``pwrite`` at the running position: O_DIRECT for the aligned part, else cached."""
        view = memoryview(chunk)
        position = self._position
        whole = len(view) - len(view) % self.DIRECT_ALIGN
        if self._direct_fd is not None and position % self.DIRECT_ALIGN == 0 and whole:
            try:
                written = 0
                while written < whole:
                    written += os.pwrite(self._direct_fd, view[written:whole], position + written)
            except OSError as exc:
                if exc.errno != errno.EINVAL or written:
                    raise
                self._close_direct()  # refused at the first write: the page cache it is
                written = 0
            view, position = view[written:], position + written
        fd = self._fh.fileno()
        while len(view):
            count = os.pwrite(fd, view, position)
            view, position = view[count:], position + count

    def _close_direct(self) -> None:
        if self._direct_fd is not None:
            with contextlib.suppress(OSError):
                os.close(self._direct_fd)
            self._direct_fd = None

    def write(self, chunk) -> None:
        """Queue ``chunk``; it must not change until written (see ``digests.Lane``)."""
        self._lane.submit(chunk)

    @property
    def failed(self) -> bool:
        """Whether a write failed (the error is raised by ``write``, ``wait`` or ``finish``)."""
        return self._lane.error is not None

    def wait(self) -> None:
        """Every submitted chunk written (or the first write error raised)."""
        self._lane.join()

    def finish(self) -> None:
        """Wait for the writes, then make them durable (fsync)."""
        try:
            self._lane.join()
        finally:
            self._close_direct()
        self._fh.flush()
        os.fsync(self._fh.fileno())

    def abandon(self) -> None:
        """Wait for the writes in flight and swallow their error: the caller is handling one
        already and will truncate what was written."""
        with contextlib.suppress(Exception):
            self._lane.join()
        self._close_direct()

    def close(self) -> None:
        """Release the O_DIRECT descriptor (after ``wait``, ``finish`` or ``abandon``)."""
        self._close_direct()


def _write_behind(fd: int, end: int, window: int) -> None:
    """Start writeback of the pages before ``end`` and drop the clean ones (Linux)."""
    if hasattr(os, "posix_fadvise"):
        with contextlib.suppress(OSError):
            os.posix_fadvise(fd, max(0, end - window), window, os.POSIX_FADV_DONTNEED)


def _fsync_dir(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


class LocalStorage:
    """Originals as read-only files under ``root``; temporary files in ``root/.incoming``."""

    name = "local"

    def __init__(self, root: Path) -> None:
        self.root = Path(root)

    # -- reading -------------------------------------------------------------------------
    def path(self, key: str) -> Path:
        path = (self.root / key).resolve()
        if not str(path).startswith(str(self.root.resolve()) + os.sep):
            raise ValueError(f"key outside storage: {key!r}")
        return path

    def open(self, key: str):
        """A seekable binary file; read it in chunks."""
        try:
            return open(self.path(key), "rb")
        except FileNotFoundError:
            raise
        except OSError as exc:
            raise _os_error(exc) from exc

    def exists(self, key: str) -> bool:
        return self.path(key).is_file()

    def size(self, key: str) -> int:
        return self.path(key).stat().st_size

    def iter_keys(self, prefix: str = ORIGINALS_PREFIX) -> Iterator[str]:
        base = self.root / prefix.rstrip("/")
        if not base.is_dir():
            return
        for dirpath, dirnames, filenames in os.walk(base):
            dirnames.sort()
            for name in sorted(filenames):
                yield str(Path(dirpath, name).relative_to(self.root)).replace(os.sep, "/")

    @contextlib.contextmanager
    def local_path(self, key: str) -> Iterator[Path]:
        """A path PyAV can open (the stored file itself here: open it read-only)."""
        yield self.path(key)

    # -- writing -------------------------------------------------------------------------
    def _incoming(self) -> Path:
        incoming = self.root / INCOMING_DIR
        incoming.mkdir(parents=True, exist_ok=True)
        return incoming

    def _write(self, fh, chunk: bytes) -> None:
        """One chunk to a temporary file (a seam: tests make it raise ENOSPC)."""
        fh.write(chunk)

    def stage(self, source: Path, *, digests: Digests | None = None) -> Staged:
        """Bring ``source`` into ``.incoming``: hard-linked when its digests are known already
        (tus assembled it and hashed it while it arrived), else copied while being hashed."""
        source = Path(source)
        try:
            target = self._incoming() / f"{uuid.uuid4().hex}.part"
            if digests is not None:
                try:
                    os.link(source, target)
                    return Staged(target, digests, temporary=True)
                except OSError as exc:  # another filesystem, or no hard links: copy
                    if exc.errno not in (errno.EXDEV, errno.EPERM, errno.EMLINK, errno.ENOTSUP):
                        raise
            writer = DigestWriter()
            try:
                with open(source, "rb") as src, open(target, "wb") as dst:
                    out = StreamedFile(dst, write=lambda chunk: self._write(dst, chunk))
                    try:
                        while chunk := src.read(STREAM_CHUNK):
                            writer.update(chunk)
                            out.write(chunk)
                        out.finish()
                    except BaseException:
                        out.abandon()
                        raise
                    writer.wait()
            except BaseException:
                with contextlib.suppress(FileNotFoundError):
                    os.unlink(target)
                raise
            return Staged(target, digests or writer.digests(), temporary=True)
        except OSError as exc:
            raise _os_error(exc) from exc

    def commit(self, staged: Staged, key: str) -> None:
        """Make the staged bytes visible under ``key`` atomically (rename + directory fsync).

        If ``key`` exists already it is an object left by an interrupted ingest (no row):
        replacing it with the bytes just verified is the same content, so the rename is safe.
        """
        final = self.path(key)
        try:
            final.parent.mkdir(parents=True, exist_ok=True)
            fd = os.open(staged.path, os.O_RDONLY)
            try:
                os.fsync(fd)
            finally:
                os.close(fd)
            os.chmod(staged.path, 0o444)
            os.rename(staged.path, final)
            staged.temporary = False
            _fsync_dir(final.parent)
        except OSError as exc:
            raise _os_error(exc) from exc

    def put_file(self, key: str, local_path: Path) -> None:
        """Store a file (derived media) atomically under ``key``. Originals go through the
        ingest service only: this refuses their keys."""
        if key.startswith(ORIGINALS_PREFIX):
            raise ValueError("originals are stored by the ingest service only")
        staged = self.stage(Path(local_path))
        try:
            self.commit(staged, key)
        finally:
            staged.discard()

    def clean_incoming(self, older_than: timedelta = timedelta(hours=1)) -> int:
        """Remove temporary files left by a crash (never visible, never an original)."""
        incoming = self.root / INCOMING_DIR
        if not incoming.is_dir():
            return 0
        cutoff = datetime.now().timestamp() - older_than.total_seconds()
        removed = 0
        for entry in incoming.iterdir():
            if entry.is_file() and entry.stat().st_mtime < cutoff:
                with contextlib.suppress(FileNotFoundError):
                    entry.unlink()
                    removed += 1
        return removed


class _S3Reader(io.RawIOBase):
    """A seekable, streaming reader of one S3 object (ranged GETs, nothing buffered whole)."""

    def __init__(self, storage: S3Storage, key: str, size: int) -> None:
        self._storage, self._key, self._size = storage, key, size
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
    def head(self, key: str) -> dict:
        return self._call("head_object", Bucket=self.bucket, Key=key)

    def open(self, key: str):
        return io.BufferedReader(_S3Reader(self, key, self.size(key)), buffer_size=CHUNK)

    def exists(self, key: str) -> bool:
        try:
            self.head(key)
            return True
        except FileNotFoundError:
            return False

    def size(self, key: str) -> int:
        return int(self.head(key)["ContentLength"])

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
    def local_path(self, key: str) -> Iterator[Path]:
        """Download to a temporary file (streamed) for tools that need a path (PyAV)."""
        self.staging_dir.mkdir(parents=True, exist_ok=True)
        fd, name = tempfile.mkstemp(dir=self.staging_dir, suffix=".s3")
        try:
            with os.fdopen(fd, "wb") as out, self.open(key) as src:
                shutil.copyfileobj(src, out, CHUNK)
            yield Path(name)
        finally:
            with contextlib.suppress(FileNotFoundError):
                os.unlink(name)

    # -- writing -------------------------------------------------------------------------
    def stage(self, source: Path, *, digests: Digests | None = None) -> Staged:
        """S3 uploads straight from the source file: only hash it if not hashed yet."""
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

    def commit(self, staged: Staged, key: str) -> None:
        """Upload under ``key``; an object already there with our digests is adopted as is."""
        try:
            existing = self.head(key)
            if existing.get("Metadata", {}).get("sha256") == staged.digests.sha256:
                return
        except FileNotFoundError:
            pass
        self._upload(
            staged.path, key, self._extra_args(sha256=staged.digests.sha256, sm3=staged.digests.sm3)
        )

    def put_file(self, key: str, local_path: Path) -> None:
        if key.startswith(ORIGINALS_PREFIX):
            raise ValueError("originals are stored by the ingest service only")
        self._upload(Path(local_path), key, self._extra_args())

    def clean_incoming(self, older_than: timedelta = timedelta(hours=1)) -> int:
        return 0


_cache: dict[tuple, object] = {}


def get_storage():
    """The configured storage (LIUHEN_STORAGE=local|s3), one instance per configuration."""
    if settings.EVIDENCE_STORAGE == "s3":
        config = (
            "s3",
            settings.S3_BUCKET,
            settings.S3_ENDPOINT_URL,
            settings.S3_REGION,
            settings.S3_ACCESS_KEY,
            settings.S3_SECRET_KEY,
            settings.S3_OBJECT_LOCK_DAYS,
            getattr(settings, "S3_OBJECT_LOCK_MODE", "COMPLIANCE"),
        )
        if config not in _cache:
            _cache[config] = S3Storage(
                bucket=config[1],
                endpoint_url=config[2],
                region=config[3],
                access_key=config[4],
                secret_key=config[5],
                lock_days=config[6],
                lock_mode=config[7],
                staging_dir=Path(settings.UPLOAD_DIR),
            )
        return _cache[config]
    config = ("local", str(settings.EVIDENCE_DIR))
    if config not in _cache:
        _cache[config] = LocalStorage(Path(settings.EVIDENCE_DIR))
    return _cache[config]
