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
    past = time.time() - 7200
    os.utime(old, (past, past))
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
