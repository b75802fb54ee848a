"""Every byte of an upload hashed once per algorithm, whichever worker or node receives it
(issue 9 item 1, issue 14 item 1).

The design: **one hasher per upload, leased in the database, that follows the partial file.**
The process that first receives bytes of an upload takes a lease on it (``hasher``,
``hasher_until``) and keeps its running SHA-256 and SM3 in memory. When a PATCH reaches that
process while its digests are caught up, it hashes the body while receiving it (the lanes of
``digests.py``), as a single worker always did. When a PATCH reaches another worker or another
node, or the hasher while it is behind, that process only writes the bytes and advances the
durable offset; the hasher's follower thread sees the offset move and
hashes the new bytes by reading them back from the partial file (from the page cache on the
same machine, from the shared upload volume on another node). The last PATCH, wherever it
lands, waits for the hasher to publish the final digests in the row. Each byte is thus hashed
once by each algorithm; a process that dies loses its lease (30 s, or at once when its pid is
gone on the same machine) and the next process rebuilds the digests from the partial file,
once.

Why not the alternatives:
- *Exportable digest state* (save SHA-256 and SM3 state in the row after each PATCH) would be
  the simplest, but Python's hashlib cannot export a state, OpenSSL 3 offers the low-level
  ``SHA256_CTX`` (deprecated) and no SM3 one at all (``ossl_sm3_*`` is not exported), and a
  state copied out of a provider's private memory would break silently with a library update.
  An SM3 of our own in C would need a compiler on every installation.
- *Routing an upload's PATCHes to one process* is not in our hands: gunicorn hands connections
  to whichever worker accepts first, and a load balancer in front of several nodes does the
  same; tuspy opens a new connection per PATCH.
- *Rebuilding from byte 0 on every change of worker* (the old code) hashed a 1 GiB upload
  sent in 64 chunks over 2 workers about 16 times.

Reading the bytes back: both the writing request and the hasher use ``O_DIRECT`` (where the
file system allows it), so the bytes go from the request's buffer to the disk and from the
disk into the hasher's buffer without a CPU copy through the page cache. Through the page
cache (the earlier way) the write's copy in and the read's copy out, with the page faults of a
fresh buffer per read, were about a fifth of the server's CPU for an upload whose chunks
alternate between 2 workers (a ``perf`` profile of ``bench_serve_upload.py``, issue 9 item 1).
"""

from __future__ import annotations

import contextlib
import errno
import itertools
import logging
import os
import socket
import threading
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import timedelta
from pathlib import Path

from django.db import close_old_connections
from django.db.models import Q
from django.utils import timezone

from liuhen.core.errors import StorageUnavailable
from liuhen.evidence.digests import BufferPool, Digests, DigestWriter
from liuhen.evidence.models import UploadSession
from liuhen.evidence.uploads.paths import partial_path

log = logging.getLogger(__name__)

LEASE = timedelta(seconds=30)  # a dead hasher on another node is replaced after this
RENEW_EVERY = 5.0  # seconds between renewals of this process's leases
POLL_BUSY = 0.01  # follower's pause after it hashed something ...
POLL_BUSY_MAX = 0.08  # ... doubled after each pass that found nothing, up to this
POLL_IDLE = 0.5  # ... and once nothing moved for IDLE_AFTER seconds
IDLE_AFTER = 10.0
READ_CHUNK = 4 * 1024 * 1024  # bytes read back per hand-off to the digest lanes
READ_BUFFERS = 3  # read-back ring: one being read while the lanes hash the others
ALIGN = 4096  # O_DIRECT: offsets, lengths and addresses in whole blocks
_READ_RINGS = BufferPool(READ_CHUNK * READ_BUFFERS)
WAIT_POLL = 0.01  # a finishing request waiting for the hasher's digests

_identity: tuple[int, str] | None = None
_wait = time.sleep  # how a finishing request waits for the hasher (tests step it instead)


def me() -> str:
    """This process, as named in a lease: host, pid and a token that differs after a fork."""
    global _identity
    pid = os.getpid()
    if _identity is None or _identity[0] != pid:
        _identity = (pid, f"{socket.gethostname()}:{pid}:{uuid.uuid4().hex[:8]}")
    return _identity[1]


def _dead_here(holder: str) -> bool:
    """Whether ``holder`` was a process of this machine that no longer exists (or is another
    process now): its lease can be taken at once instead of after it expires."""
    host, _, rest = holder.partition(":")
    pid_text, _, _token = rest.partition(":")
    if host != socket.gethostname() or not pid_text.isdigit():
        return False
    if holder == me():
        return False
    pid = int(pid_text)
    if pid == os.getpid():
        return True  # this pid, another token: a forked child's leftover
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return True
    except PermissionError:
        return False
    return False


@dataclass
class _State:
    """The running digests of one upload, held by its hasher."""

    writer: DigestWriter = field(default_factory=DigestWriter)
    offset: int = 0  # bytes the writer has taken
    lock: threading.Lock = field(default_factory=threading.Lock)


_states: dict[str, _State] = {}
_guard = threading.Lock()
_follower: tuple[int, threading.Thread] | None = None  # (pid, thread): a fork has none
_wake = threading.Event()  # set when the follower has work now: don't wait for its next poll


def _held_elsewhere(upload: UploadSession, now) -> bool:
    """Whether the (fresh) row says another live process holds the lease: then asking the
    database would only find the same, with an UPDATE that takes SQLite's write lock for
    nothing on every PATCH of the worker that is not the hasher (issue 9 item 1)."""
    holder, until = upload.hasher, upload.hasher_until
    return bool(
        holder and holder != me() and until is not None and until >= now
        and not _dead_here(holder)
    )


def _take_lease(upload: UploadSession) -> bool:
    now = timezone.now()
    if _held_elsewhere(upload, now):
        return False
    free = Q(hasher="") | Q(hasher=me()) | Q(hasher_until__isnull=True) | Q(hasher_until__lt=now)
    if upload.hasher and _dead_here(upload.hasher):
        free |= Q(hasher=upload.hasher)
    taken = UploadSession.objects.filter(free, pk=upload.pk, completed_at__isnull=True).update(
        hasher=me(), hasher_until=now + LEASE
    )
    if taken:
        upload.hasher = me()
    return bool(taken)


def _claim(upload: UploadSession) -> _State | None:
    """This process's state for ``upload`` if it is (or now becomes) its hasher, else None.

    ``upload`` must be fresh from the database. A new state starts at byte 0: the follower
    (or ``final``) rebuilds it from the partial file (once, after a restart or a lost lease)."""
    key = str(upload.pk)
    with _guard:
        state = _states.get(key)
    if state is not None and upload.hasher == me():
        return state
    if not _take_lease(upload):
        return None
    with _guard:
        state = _states.setdefault(key, _State())
    _ensure_follower()
    _wake.set()
    return state


def _open_reader(path: Path) -> tuple[int, bool]:
    """A descriptor on the partial file, with O_DIRECT where the file system allows it."""
    direct = getattr(os, "O_DIRECT", 0)
    if direct:
        try:
            return os.open(path, os.O_RDONLY | direct), True
        except FileNotFoundError:
            raise
        except OSError:  # tmpfs and a few others refuse it
            pass
    return os.open(path, os.O_RDONLY), False


def _catch_up(state: _State, path: Path, target: int, upload_id) -> None:
    """Hash the durable bytes ``[state.offset, target)`` of the partial file.

    Read in whole blocks from a block boundary (O_DIRECT) into a pooled ring of buffers; the
    digest lanes hash one buffer while the next is read. Bytes past ``target`` that a read
    brings along (a PATCH writing now) are not hashed."""
    if state.offset >= target:
        return
    try:
        fd, direct = _open_reader(path)
    except FileNotFoundError as exc:
        raise StorageUnavailable(
            "上传的临时文件已丢失，请重新上传", detail={"upload": str(upload_id)}
        ) from exc
    memory = _READ_RINGS.take()
    whole = memoryview(memory)
    ring = [whole[i * READ_CHUNK : (i + 1) * READ_CHUNK] for i in range(READ_BUFFERS)]
    writer = state.writer
    first = [lane.submitted for lane in writer.lanes]
    position = state.offset - state.offset % ALIGN  # where the next read starts
    skip = state.offset - position  # bytes of the first read already hashed
    hashed = state.offset
    try:
        for index in itertools.count():
            if hashed >= target:
                break
            if index >= READ_BUFFERS:  # the buffer's previous bytes are through both lanes
                for lane, before in zip(writer.lanes, first, strict=True):
                    lane.wait_done(before + index - READ_BUFFERS + 1)
            buffer = ring[index % READ_BUFFERS]
            want = min(READ_CHUNK, -(-(target - position) // ALIGN) * ALIGN)
            try:
                count = os.preadv(fd, [buffer[:want]], position)
            except OSError as exc:
                if not (direct and exc.errno == errno.EINVAL):
                    raise
                os.close(fd)  # O_DIRECT accepted at open, refused at read: the page cache
                fd, direct = os.open(path, os.O_RDONLY), False
                count = os.preadv(fd, [buffer[:want]], position)
            end = min(position + count, target)
            if end <= hashed:
                raise StorageUnavailable(
                    "上传的临时文件不完整，请重新上传", detail={"upload": str(upload_id)}
                )
            writer.update(buffer[skip : end - position])
            hashed, position, skip = end, position + count, 0
            if count < want and hashed < target:
                raise StorageUnavailable(
                    "上传的临时文件不完整，请重新上传", detail={"upload": str(upload_id)}
                )
    finally:
        os.close(fd)
        writer.wait()  # nothing may still read the ring once it goes back to the pool
        buffer = ring = whole = None
        _READ_RINGS.give(memory)
    state.offset = target


def publish(upload_id, state: _State) -> Digests:
    """The final digests into the row, where a finishing request on any node reads them."""
    digests = state.writer.digests()
    UploadSession.objects.filter(pk=upload_id, hasher=me()).update(
        hashed_offset=state.offset, sha256=digests.sha256, sm3=digests.sm3
    )
    return digests


@contextlib.contextmanager
def inline(upload: UploadSession, path: Path) -> Iterator[_State | None]:
    """For a request holding the upload's write lock: this process's running digests, exactly
    at ``upload.offset``, to be fed the body as it arrives; None when the request should only
    write the body and leave it to the follower.

    None when another live process is the hasher, and also when this process is but its
    digests are behind (the previous PATCH reached another worker) or its follower is
    hashing now: catching up here, before the body, would make the client wait for SM3 over
    the previous chunk (0.2-0.5 s for 16 MiB on the 2-core machine) and then again over this
    one; written only, this body is received while the follower hashes the previous chunk,
    and the follower reads this one back from the page cache afterwards (issue 9 item 1)."""
    state = _claim(upload)
    if state is None:
        yield None
        return
    if not state.lock.acquire(blocking=False):
        yield None  # the follower is catching up
        return
    if state.offset != upload.offset:
        state.lock.release()
        _wake.set()
        yield None
        return
    try:
        yield state
    finally:
        state.lock.release()


def final(upload: UploadSession, path: Path) -> Digests:
    """The digests of the complete upload: published by its hasher, computed here when this
    process is (or becomes, the hasher having died) the hasher."""
    while True:
        row = UploadSession.objects.filter(pk=upload.pk).values(
            "sha256", "sm3", "hashed_offset", "hasher", "hasher_until"
        ).first()
        if row is None:
            raise StorageUnavailable("上传已终止", detail={"upload": str(upload.pk)})
        if row["sha256"] and row["hashed_offset"] == upload.length:
            return Digests(row["sha256"], row["sm3"], upload.length)
        holder, until = row["hasher"], row["hasher_until"]
        elsewhere = holder and holder != me() and until and until > timezone.now()
        if not elsewhere or _dead_here(holder):
            upload.hasher, upload.hasher_until = holder, until
            state = _claim(upload)
            if state is not None:
                with state.lock:
                    _catch_up(state, path, upload.length, upload.pk)
                    return publish(upload.pk, state)
        _wait(WAIT_POLL)  # the hasher, alive elsewhere, is catching up


def forget(upload_id) -> None:
    with _guard:
        _states.pop(str(upload_id), None)


def forget_all() -> None:
    """Drop every running digest of this process (tests: a restarted server)."""
    with _guard:
        _states.clear()


# -- the follower ------------------------------------------------------------------------
def _ensure_follower() -> None:
    global _follower
    if os.environ.get("LIUHEN_TEST_NO_UPLOAD_FOLLOWER"):
        return
    with _guard:
        if _follower is not None and _follower[0] == os.getpid() and _follower[1].is_alive():
            return
        thread = threading.Thread(target=_follow, name="liuhen-upload-hasher", daemon=True)
        _follower = (os.getpid(), thread)
        thread.start()


def _follow() -> None:
    """Hash what other processes appended to the uploads this process holds; renew leases;
    drop what finished, was terminated or was taken over."""
    last_renewal = last_progress = time.monotonic()
    pause = POLL_BUSY
    while True:
        try:
            moved = follow_once(renew=time.monotonic() - last_renewal >= RENEW_EVERY)
        except Exception:  # noqa: BLE001 - a database outage: keep the states, try again
            log.exception("upload hasher: follow failed")
            close_old_connections()
            moved = False
            time.sleep(1.0)
        now = time.monotonic()
        if now - last_renewal >= RENEW_EVERY:
            last_renewal = now
        # Each pass is a query: polled every 10 ms all through an upload, the passes that
        # found nothing (the other worker still receiving its chunk, or this one hashing
        # inline) cost about a tenth of the server's CPU (issue 9 item 1). Backed off to
        # 80 ms, the bytes of a PATCH on the other worker wait at most that before they are
        # hashed, while the next chunk arrives anyway.
        pause = POLL_BUSY if moved else min(pause * 2, POLL_BUSY_MAX)
        if moved:
            last_progress = now
        with _guard:
            holding = bool(_states)
        # Never sleep holding _guard: every request of this process takes it (_claim), and a
        # thread that sleeps with it and takes it again at once starves them (3259a36 made
        # each PATCH on a worker without uploads wait 0.5-2 s for it: bench_serve_upload.py).
        busy = holding and now - last_progress < IDLE_AFTER
        if _wake.wait(pause if busy else POLL_IDLE):
            _wake.clear()  # a new upload, or a request of this process left bytes to hash
            last_progress = time.monotonic()
            pause = POLL_BUSY


def follow_once(*, renew: bool = False) -> bool:
    """One pass of the follower; True when it hashed something. Called by the thread (and
    by tests, to step it)."""
    with _guard:
        keys = list(_states)
    if not keys:
        return False
    rows = {
        str(row["pk"]): row
        for row in UploadSession.objects.filter(pk__in=keys).values(
            "pk", "offset", "length", "hasher", "completed_at", "sha256"
        )
    }
    moved = False
    for key in keys:
        row = rows.get(key)
        if row is None or row["completed_at"] is not None or row["hasher"] != me():
            forget(key)
            continue
        with _guard:
            state = _states.get(key)
        if state is None or state.offset >= row["offset"]:
            continue
        if not state.lock.acquire(blocking=False):
            continue  # a request of this process is hashing it inline
        try:
            _catch_up(state, partial_path(key), row["offset"], key)
            moved = True
            if state.offset == row["length"] and not row["sha256"]:
                publish(key, state)
        except StorageUnavailable:
            forget(key)  # terminated or lost: the next request starts afresh
        finally:
            state.lock.release()
    if renew:
        UploadSession.objects.filter(pk__in=keys, hasher=me()).update(
            hasher_until=timezone.now() + LEASE
        )
    return moved
