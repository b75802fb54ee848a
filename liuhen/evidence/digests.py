"""SHA-256 and SM3 side by side, computed while bytes stream past (no second read).

The two digests are the recording's 固定值: SHA-256 for interoperability, SM3 (GB/T 32905) as
the national standard a Chinese court or auditor will ask for.

SM3 is the slow one (about 350 MiB/s in C, against 1.7 GiB/s for SHA-256 with the CPU's SHA
instructions), so it sets the pace of every upload and every fixity check. Each digest and the
file write therefore run on a :class:`Lane` of their own, a pool thread that takes the chunks
in order (hashlib and file writes release the GIL), while the caller goes on reading the next
chunk: reading, writing, SHA-256 and SM3 overlap instead of taking turns.
"""

from __future__ import annotations

import base64
import binascii
import collections
import hashlib
import mmap
import threading
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass

CHUNK = 1024 * 1024  # 1 MiB: large enough for throughput, small enough to keep memory flat
LANE_LIMIT = 16 * 1024 * 1024  # bytes a lane may hold before the producer waits (flat memory)
_INLINE_MAX = 64 * 1024  # an idle lane runs smaller chunks on the caller's thread (no hand-off)

# Lanes only run their own function on these threads and never wait on another lane, so a
# lane can always make progress; sixteen covers eight concurrent uploads (gunicorn's threads)
# with their two digests each, the writes and checksums wait their turn.
_LANE_POOL = ThreadPoolExecutor(max_workers=16, thread_name_prefix="liuhen-lane")


@dataclass(frozen=True)
class Digests:
    sha256: str
    sm3: str
    size: int


class Lane:
    """Applies ``func`` to each submitted chunk, in order, on a pool thread.

    ``submit`` returns at once unless the lane already holds ``limit`` bytes (then it waits,
    so memory stays flat whatever the file size). ``join`` waits until every chunk is done and
    raises the first error ``func`` raised; after an error the remaining chunks are dropped and
    ``submit`` raises it too, so the producer stops early. A chunk must not change until the
    lane is done with it: always so for ``bytes``; a producer that reuses buffers waits with
    ``wait_done(n)`` (the lane has finished its first ``n`` chunks) before refilling one.
    """

    def __init__(self, func: Callable[[bytes], object], *, limit: int = LANE_LIMIT) -> None:
        self._func = func
        self._limit = limit
        self._queue: collections.deque[bytes] = collections.deque()
        self._held = 0  # bytes queued or being processed
        self._running = False
        self._error: BaseException | None = None
        self._cond = threading.Condition()
        self.submitted = 0  # chunks taken by submit
        self._done = 0  # chunks finished (or dropped after an error)

    def submit(self, chunk: bytes) -> None:
        size = len(chunk)
        with self._cond:
            while self._held and self._held + size > self._limit and self._error is None:
                self._cond.wait()
            if self._error is not None:
                raise self._error
            self.submitted += 1
            if not self._running and size <= _INLINE_MAX:
                try:
                    self._func(chunk)  # nothing pending: order is kept, no hand-off to pay
                except BaseException as exc:
                    self._error = exc
                    raise
                finally:
                    self._done += 1
                return
            self._queue.append(chunk)
            self._held += size
            start = not self._running
            self._running = True
        if start:
            _LANE_POOL.submit(self._drain)

    def _drain(self) -> None:
        while True:
            with self._cond:
                if not self._queue:
                    self._running = False
                    self._cond.notify_all()
                    return
                chunk = self._queue.popleft()
            size = len(chunk)
            try:
                self._func(chunk)
            except BaseException as exc:  # noqa: BLE001 - handed to the producer by join/submit
                del chunk  # done means the lane holds no reference to a reused buffer
                with self._cond:
                    self._error = self._error or exc
                    self._queue.clear()
                    self._held = 0
                    self._done = self.submitted
                    self._running = False
                    self._cond.notify_all()
                return
            del chunk
            with self._cond:
                self._held -= size
                self._done += 1
                self._cond.notify_all()

    @property
    def error(self) -> BaseException | None:
        return self._error

    def wait_done(self, count: int) -> None:
        """Wait until the lane has finished its first ``count`` chunks (or failed)."""
        with self._cond:
            while self._done < count:
                self._cond.wait()

    def join(self) -> None:
        """Wait for every submitted chunk; raise the lane's error, if any."""
        with self._cond:
            while self._running:
                self._cond.wait()
            if self._error is not None:
                raise self._error


class DigestWriter:
    """Feed chunks with ``update`` (hashed in the background, in order); ``digests()`` waits
    for them and returns both digests. A chunk must not change until both ``lanes`` are done
    with it (see :class:`Lane`); ``bytes`` never do."""

    def __init__(self, *, _state: tuple | None = None) -> None:
        if _state is None:
            self._sha256, self._sm3, self.size = hashlib.sha256(), hashlib.new("sm3"), 0
        else:
            self._sha256, self._sm3, self.size = _state
        self.lanes = (Lane(self._sm3.update), Lane(self._sha256.update))

    def update(self, chunk) -> None:
        for lane in self.lanes:
            lane.submit(chunk)
        self.size += len(chunk)

    def wait(self) -> None:
        for lane in self.lanes:
            lane.join()

    def copy(self) -> DigestWriter:
        """An independent writer at the same point (to roll back a refused chunk)."""
        self.wait()
        return DigestWriter(_state=(self._sha256.copy(), self._sm3.copy(), self.size))

    def digests(self) -> Digests:
        self.wait()
        return Digests(self._sha256.hexdigest(), self._sm3.hexdigest(), self.size)

    def sha256_so_far(self) -> bytes:
        """The SHA-256 of every byte fed so far (the writer goes on)."""
        self.wait()
        return self._sha256.digest()  # hashlib's digest() leaves the state as it was


class BufferPool:
    """Page-aligned anonymous mappings of one size, kept for reuse (at most ``keep`` spare).

    A fresh mapping costs a page fault and a zeroed page for every 4 KiB the first time it is
    filled; an upload's PATCHes and read-backs allocated one each, which a profile of a
    deployed upload showed as 5-9 % of the server's CPU (issue 9 item 1). A pooled one is
    faulted in once; the pool never holds more than ``keep`` idle, so memory stays flat.
    Page-aligned, so that ``O_DIRECT`` reads and writes can use it."""

    def __init__(self, size: int, *, keep: int = 2) -> None:
        self.size = size
        self._keep = keep
        self._free: list[mmap.mmap] = []
        self._lock = threading.Lock()

    def take(self) -> mmap.mmap:
        with self._lock:
            if self._free:
                return self._free.pop()
        return mmap.mmap(-1, self.size)

    def give(self, memory: mmap.mmap) -> None:
        """Back to the pool: only once nothing reads or writes it any more (lanes joined)."""
        with self._lock:
            if len(self._free) < self._keep:
                self._free.append(memory)
                return
        try:
            memory.close()
        except BufferError:  # a view still alive: unmapped when it goes
            pass


def iter_chunks(fileobj, chunk_size: int = CHUNK, limit: int | None = None) -> Iterator[bytes]:
    """Read ``fileobj`` in chunks, at most ``limit`` bytes when given."""
    remaining = limit
    while remaining is None or remaining > 0:
        want = chunk_size if remaining is None else min(chunk_size, remaining)
        chunk = fileobj.read(want)
        if not chunk:
            return
        if remaining is not None:
            remaining -= len(chunk)
        yield chunk


def digest_stream(fileobj, writer: DigestWriter | None = None) -> Digests:
    writer = writer or DigestWriter()
    for chunk in iter_chunks(fileobj):
        writer.update(chunk)
    return writer.digests()


def digest_file(path) -> Digests:
    with open(path, "rb") as fh:
        return digest_stream(fh)


def parse_sha256(value: str) -> str | None:
    """A declared SHA-256 as lowercase hex, from hex or base64 (tus sends base64); else None."""
    value = (value or "").strip()
    if len(value) == 64:
        try:
            bytes.fromhex(value)
            return value.lower()
        except ValueError:
            return None
    try:
        raw = base64.b64decode(value, validate=True)
    except (binascii.Error, ValueError):
        return None
    return raw.hex() if len(raw) == 32 else None
