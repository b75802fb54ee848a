"""Digests computed while streaming: SHA-256 and SM3 on lanes of their own must give exactly
hashlib's answer (第二十六条 (二): the 固定值 recorded is the file's), in order, whatever the
chunk sizes; a lane's failure reaches the producer."""

from __future__ import annotations

import errno
import hashlib
import os
import threading

import pytest

from liuhen.evidence.digests import DigestWriter, Lane, digest_file


def _chunks(data: bytes, sizes):
    position = 0
    for size in sizes:
        yield data[position : position + size]
        position += size
    if position < len(data):
        yield data[position:]


@pytest.mark.parametrize(
    "sizes",
    [
        [1, 2047, 2048, 70_000, 3, 4 << 20, 17, 1 << 20],  # small ones inline, big ones queued
        [5 << 20] * 3,
        [100] * 50,
    ],
)
def test_digest_writer_equals_hashlib_for_any_chunking(sizes):
    data = os.urandom(sum(sizes) + 12_345)
    writer = DigestWriter()
    for chunk in _chunks(data, sizes):
        writer.update(chunk)
    found = writer.digests()
    assert found.sha256 == hashlib.sha256(data).hexdigest()
    assert found.sm3 == hashlib.new("sm3", data).hexdigest()
    assert found.size == len(data)


def test_copy_is_independent_of_later_updates():
    first, second = os.urandom(3 << 20), os.urandom(2 << 20)
    writer = DigestWriter()
    writer.update(first)
    saved = writer.copy()
    writer.update(second)
    assert saved.digests().sm3 == hashlib.new("sm3", first).hexdigest()
    assert writer.digests().sm3 == hashlib.new("sm3", first + second).hexdigest()
    saved.update(b"x" * 100_000)
    assert saved.digests().sha256 == hashlib.sha256(first + b"x" * 100_000).hexdigest()


def test_lane_keeps_order_and_bounds_what_it_holds():
    seen, gate = [], threading.Event()

    def slow(chunk):
        gate.wait(5)
        seen.append(bytes(chunk[:1]))

    lane = Lane(slow, limit=3 << 20)
    blocked = threading.Thread(
        target=lambda: [lane.submit(bytes([i]) * (1 << 20)) for i in range(8)]
    )
    blocked.start()
    for _ in range(1000):  # until the producer reaches the limit (it never passes it)
        if lane.submitted >= 3:
            break
        threading.Event().wait(0.01)
    blocked.join(0.2)
    # Nothing is processed while the gate is shut, so the producer waits at the limit.
    assert blocked.is_alive() and lane.submitted == 3
    gate.set()
    blocked.join(5)
    lane.join()
    assert seen == [bytes([i]) for i in range(8)]
    lane.wait_done(8)


def test_lane_error_reaches_the_producer_and_drops_the_rest():
    written = []

    def disk(chunk):
        if len(written) == 2:
            raise OSError(errno.ENOSPC, "No space left on device")
        written.append(len(chunk))

    lane = Lane(disk)
    with pytest.raises(OSError) as err:
        for _ in range(50):
            lane.submit(b"\0" * (1 << 20))
        lane.join()
    assert err.value.errno == errno.ENOSPC and written == [1 << 20, 1 << 20]
    lane.wait_done(lane.submitted)  # a failed lane counts everything as done: no hang
    with pytest.raises(OSError):
        lane.join()


def test_digest_file(tmp_path):
    data = os.urandom(3 * (1 << 20) + 5)
    path = tmp_path / "f.bin"
    path.write_bytes(data)
    assert digest_file(path).sm3 == hashlib.new("sm3", data).hexdigest()


def test_lane_error_on_a_small_chunk_run_inline_is_kept_too():
    def disk(chunk):
        raise OSError(errno.EIO, "Input/output error")

    lane = Lane(disk)
    with pytest.raises(OSError):
        lane.submit(b"tiny")
    assert lane.error is not None and lane.error.errno == errno.EIO
    with pytest.raises(OSError):
        lane.join()
