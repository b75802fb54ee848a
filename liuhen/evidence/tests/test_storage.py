"""Local storage: content-addressed keys, atomic writes, no path escapes, temp files cleaned
(第二十六条 (二))."""

from __future__ import annotations

import hashlib
import os
import time
from datetime import timedelta

import pytest

from liuhen.evidence.digests import digest_file, parse_sha256
from liuhen.evidence.storage import LocalStorage, derived_key, original_key


def test_keys():
    sha = "ab" * 32
    assert original_key(sha) == f"sha256/ab/ab/{sha}"
    assert derived_key(sha, "proxy.mp4") == f"derived/{sha}/proxy.mp4"


def test_stage_hashes_while_copying_and_commit_is_atomic(tmp_path, make_media):
    storage = LocalStorage(tmp_path / "vault")
    src = make_media("h264")
    data = src.read_bytes()
    staged = storage.stage(src)
    assert staged.digests.sha256 == hashlib.sha256(data).hexdigest()
    assert staged.digests.sm3 == hashlib.new("sm3", data).hexdigest()
    assert staged.path.parent == tmp_path / "vault" / ".incoming"
    assert list(storage.iter_keys()) == []  # staged bytes are invisible
    key = original_key(staged.digests.sha256)
    storage.commit(staged, key)
    assert list(storage.iter_keys()) == [key]
    assert storage.size(key) == len(data) and storage.exists(key)
    with storage.open(key) as fh:
        assert fh.read() == data
    assert os.stat(storage.path(key)).st_mode & 0o777 == 0o444
    assert not staged.path.exists()
    staged.discard()  # idempotent after commit


def test_stage_of_a_large_file_writes_behind_and_keeps_every_byte(tmp_path, monkeypatch):
    """The copy is written on a lane with write-behind every FLUSH_EVERY bytes (made small
    here): the staged file is byte-identical and its digests are hashlib's."""
    from liuhen.evidence.storage import StreamedFile
    from liuhen.evidence.tests.mediafactory import make_large_file

    monkeypatch.setattr(StreamedFile, "FLUSH_EVERY", 1 << 20)
    src = make_large_file(tmp_path / "DSJ_big.mp4", 9 * (1 << 20) + 4321)
    data = src.read_bytes()
    staged = LocalStorage(tmp_path / "vault").stage(src)
    assert staged.path.read_bytes() == data
    assert staged.digests.sm3 == hashlib.new("sm3", data).hexdigest()
    assert staged.digests.sha256 == hashlib.sha256(data).hexdigest()
    staged.discard()


def test_streamed_file_writes_aligned_blocks_directly_and_the_rest_cached(tmp_path, monkeypatch):
    """O_DIRECT for whole blocks at block offsets, the page cache for the unaligned head and
    tail; the file holds exactly the bytes given, in order, after ``finish`` (fsync)."""
    import mmap

    from liuhen.evidence.storage import StreamedFile

    block = StreamedFile.DIRECT_ALIGN
    memory = mmap.mmap(-1, 4 * block)  # page-aligned, as the tus ring is
    memory.write(os.urandom(4 * block))
    view = memoryview(memory)
    chunks = [view[: block - 1000], view[: 2 * block + 100], view[: 3 * block], view[:7]]
    path = tmp_path / "upload.part"
    path.write_bytes(b"h" * 1000)
    direct = []
    real_pwrite = os.pwrite

    def pwrite(fd, data, offset):
        if fd not in (fh.fileno(),):
            direct.append((offset, len(data)))
        return real_pwrite(fd, data, offset)

    monkeypatch.setattr(os, "pwrite", pwrite)
    with open(path, "r+b") as fh:
        out = StreamedFile(fh, offset=1000, direct_path=path)
        for chunk in chunks:
            out.write(chunk)
        out.finish()
    expected = b"h" * 1000 + b"".join(bytes(c) for c in chunks)
    assert path.read_bytes() == expected
    try:  # whether this file system takes O_DIRECT at all (ext4, xfs; not older tmpfs)
        os.close(os.open(path, os.O_WRONLY | os.O_DIRECT))
    except OSError:
        assert direct == []
    else:
        assert direct == [(block, 2 * block)]


def test_stage_with_known_digests_links_instead_of_copying(tmp_path, make_media):
    storage = LocalStorage(tmp_path / "vault")
    src = tmp_path / "vault-upload.part"
    src.write_bytes(make_media("h264").read_bytes())
    digests = digest_file(src)
    staged = storage.stage(src, digests=digests)
    assert os.stat(staged.path).st_ino == os.stat(src).st_ino  # same inode: no copy
    staged.discard()
    assert src.exists()


def test_keys_cannot_escape_the_root(tmp_path):
    storage = LocalStorage(tmp_path / "vault")
    with pytest.raises(ValueError):
        storage.path("../../etc/passwd")


def test_put_file_for_derivatives_only(tmp_path):
    storage = LocalStorage(tmp_path / "vault")
    poster = tmp_path / "poster.jpg"
    poster.write_bytes(b"jpeg")
    key = derived_key("cd" * 32, "poster.jpg")
    storage.put_file(key, poster)
    assert list(storage.iter_keys("derived/")) == [key] and poster.exists()
    with pytest.raises(ValueError):
        storage.put_file(original_key("cd" * 32), poster)


def test_clean_incoming_removes_only_old_temp_files(tmp_path):
    storage = LocalStorage(tmp_path / "vault")
    incoming = tmp_path / "vault" / ".incoming"
    incoming.mkdir(parents=True)
    old, new = incoming / "old.part", incoming / "new.part"
    old.write_bytes(b"x")
    new.write_bytes(b"y")
    # File times are the real clock's; set both from the frozen one so the test means the same
    # on any day (clean_incoming compares them with the wall clock).
    now = time.time()
    os.utime(new, (now, now))
    os.utime(old, (now - 7200, now - 7200))
    assert storage.clean_incoming(timedelta(hours=1)) == 1
    assert not old.exists() and new.exists()


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("AB" * 32, "ab" * 32),
        ("eHh4eHh4eHh4eHh4eHh4eHh4eHh4eHh4eHh4eHh4eHh4", None),  # 33 bytes
        ("not base64!", None),
        ("", None),
    ],
)
def test_parse_sha256(value, expected):
    assert parse_sha256(value) == expected


def test_parse_sha256_base64():
    raw = hashlib.sha256(b"x").digest()
    import base64

    assert parse_sha256(base64.b64encode(raw).decode()) == raw.hex()
