"""The local-directory backend: a file hashed while it is written, fsynced, renamed."""

from __future__ import annotations

import contextlib
import errno
import logging
import os
import uuid
from collections.abc import Iterator
from datetime import datetime, timedelta
from pathlib import Path

from liuhen.core.files import write_atomically
from liuhen.evidence.digests import Digests, DigestWriter, Lane
from liuhen.evidence.storage.base import (
    INCOMING_DIR,
    ORIGINALS_PREFIX,
    STREAM_CHUNK,
    Staged,
    _os_error,
    check_erase_permit,
    derived_of_permit,
)

log = logging.getLogger(__name__)


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

    def __init__(
        self, fh, *, offset: int = 0, write=None, direct_path=None, keep_cached: bool = False
    ) -> None:
        self._fh = fh
        self._write = write or fh.write
        self._position = offset
        self._advised = offset
        self._keep_cached = keep_cached  # someone reads these bytes back soon: no drop
        self._direct_fd = None
        if keep_cached:
            direct_path = None
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
        if self._position - self._advised >= self.FLUSH_EVERY and not self._keep_cached:
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

    def open(self, key: str, version: str = ""):
        """A seekable binary file; read it in chunks. A local folder keeps no versions, so
        ``version`` (S3's VersionId, issue 14 item 5) is always ""."""
        try:
            return open(self.path(key), "rb")
        except FileNotFoundError:
            raise
        except OSError as exc:
            raise _os_error(exc) from exc

    def exists(self, key: str) -> bool:
        return self.path(key).is_file()

    def size(self, key: str, version: str = "") -> int:
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
    def local_path(self, key: str, version: str = "") -> Iterator[Path]:
        """A path PyAV can open (the stored file itself here: open it read-only)."""
        yield self.path(key)

    # What derivation reads: the stored file itself (S3: a ranged stream, issue 14 item 6).
    media_source = local_path

    # -- writing -------------------------------------------------------------------------
    def _incoming(self) -> Path:
        incoming = self.root / INCOMING_DIR
        incoming.mkdir(parents=True, exist_ok=True)
        return incoming

    def _write(self, fh, chunk: bytes) -> None:
        """One chunk to a temporary file (a seam: tests make it raise ENOSPC)."""
        fh.write(chunk)

    def stage(self, source: Path, *, digests: Digests | None = None,
              durable: bool = False) -> Staged:
        """Bring ``source`` into ``.incoming``: hard-linked when its digests are known already
        (tus assembled it and hashed it while it arrived), else copied while being hashed.
        ``durable``: the caller vouches that the source's bytes were fsynced (a tus upload:
        each PATCH is synced before its offset is recorded), so a hard link of it need not be
        synced again; a copy made here is synced here."""
        source = Path(source)
        try:
            target = self._incoming() / f"{uuid.uuid4().hex}.part"
            if digests is not None:
                try:
                    os.link(source, target)
                    return Staged(target, digests, temporary=True, durable=durable)
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
            # ``finish`` fsynced the copy: commit() need not sync its bytes again.
            return Staged(target, digests or writer.digests(), temporary=True, durable=True)
        except OSError as exc:
            raise _os_error(exc) from exc

    def commit(self, staged: Staged, key: str, *, sync_later: set | None = None) -> str:
        """Make the staged bytes visible under ``key`` atomically (fsync of the bytes unless
        staging did it, rename, fsync of the directory); returns "" (a folder has no object
        versions to pin).

        ``sync_later`` (a group of ingests, ``services.ingest_group``): the directory is added
        to it instead, and the caller syncs them all (:meth:`sync_directories`) before it
        commits the rows that name the objects.

        If ``key`` exists already it is an object left by an interrupted ingest (no row):
        replacing it with the bytes just verified is the same content, so the rename is safe.
        """
        final = self.path(key)
        try:
            final.parent.mkdir(parents=True, exist_ok=True)
            if not staged.durable:
                fd = os.open(staged.path, os.O_RDONLY)
                try:
                    os.fsync(fd)
                finally:
                    os.close(fd)
            os.chmod(staged.path, 0o444)
            os.rename(staged.path, final)
            staged.temporary = False
            if sync_later is None:
                _fsync_dir(final.parent)
            else:
                sync_later.add(final.parent)
        except OSError as exc:
            raise _os_error(exc) from exc
        return ""

    def sync_directories(self, directories) -> None:
        """fsync each directory: the renames and creations in them are durable after this."""
        try:
            for directory in sorted(directories):
                _fsync_dir(directory)
        except OSError as exc:
            raise _os_error(exc) from exc

    def put_bytes(self, key: str, data: bytes) -> str:
        """A small file (an audit anchor) written atomically under ``key``; returns its path."""
        if key.startswith(ORIGINALS_PREFIX):
            raise ValueError("originals are stored by the ingest service only")
        path = self.path(key)
        path.parent.mkdir(parents=True, exist_ok=True)
        write_atomically(path, data.decode("utf-8"))
        return str(path)

    def read_bytes(self, key: str) -> bytes:
        return self.path(key).read_bytes()

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

    # -- disposal: the one way an original leaves (evidence.disposal) ---------------------
    def retained_until(self, key: str):
        """Local files have no Object Lock: nothing but the database keeps them."""
        return None

    def erase_original(self, key: str, *, permit) -> dict:
        """Remove a disposed original and its derived files. ``permit`` is the committed
        ``RecordingDisposal`` of the tombstone that names ``key`` (evidence.disposal checks it
        against the database before calling); anything else is refused."""
        check_erase_permit(key, permit)
        removed = []
        path = self.path(key)
        try:
            if path.exists():
                path.unlink()
                removed.append(key)
                _fsync_dir(path.parent)
            prefix = derived_of_permit(permit)
            derived = self.root / prefix if prefix else None
            if derived is not None and derived.is_dir():
                for entry in sorted(derived.iterdir()):
                    entry.unlink()
                    removed.append(str(entry.relative_to(self.root)))
                derived.rmdir()
        except OSError as exc:
            raise _os_error(exc) from exc
        return {"removed": removed}
