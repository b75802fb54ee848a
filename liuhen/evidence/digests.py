"""SHA-256 and SM3 side by side, computed while bytes stream past (no second read).

The two digests are the recording's 固定值: SHA-256 for interoperability, SM3 (GB/T 32905) as
the national standard a Chinese court or auditor will ask for.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass

CHUNK = 1024 * 1024  # 1 MiB: large enough for throughput, small enough to keep memory flat


@dataclass(frozen=True)
class Digests:
    sha256: str
    sm3: str
    size: int


# hashlib releases the GIL for buffers over 2 KiB, so SHA-256 on a helper thread runs while SM3
# runs on the caller's: both digests cost about as much as SM3 alone (bench/bench_tus_upload.py).
_HASH_POOL = ThreadPoolExecutor(max_workers=4, thread_name_prefix="liuhen-digest")
_PARALLEL_MIN = 64 * 1024  # below this the hand-off costs more than it saves


class DigestWriter:
    """Feed chunks with ``update``; read ``digests()`` at the end."""

    def __init__(self) -> None:
        self._sha256 = hashlib.sha256()
        self._sm3 = hashlib.new("sm3")
        self.size = 0

    def update(self, chunk: bytes) -> None:
        if len(chunk) >= _PARALLEL_MIN:
            pending = _HASH_POOL.submit(self._sha256.update, chunk)
            self._sm3.update(chunk)
            pending.result()  # the chunk is fully hashed before the caller may reuse it
        else:
            self._sha256.update(chunk)
            self._sm3.update(chunk)
        self.size += len(chunk)

    def digests(self) -> Digests:
        return Digests(self._sha256.hexdigest(), self._sm3.hexdigest(), self.size)


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
