"""Derivation from S3 without a local copy (issue 14 item 6): PyAV and Pillow read the pinned
version of an original through ranged GETs (``S3Source``), against moto's server. MP4 files
made by PyAV with the index in front (faststart) and at the end (as body cameras write them);
what is fetched is measured against the file's size."""

from __future__ import annotations

import hashlib

import pytest

from liuhen.evidence import media
from liuhen.evidence.choices import DerivationStatus, DerivativeKind
from liuhen.evidence.models import Recording
from liuhen.evidence.services import ingest_recording
from liuhen.evidence.storage import S3Storage, get_storage
from liuhen.evidence.storage.s3 import S3Source
from liuhen.evidence.tests import mediafactory

BLOCK = 32 * 1024  # small blocks (1 MiB in use), so a test-sized file has many


def _pending(people, path) -> Recording:
    rec = ingest_recording(source_path=path, original_name=path.name, channel="web",
                           actor=people["officer_a"].user).recording
    Recording.objects.filter(pk=rec.pk).update(derivation_status=DerivationStatus.PENDING)
    return rec


def _derived_entry(rec):
    from liuhen.audit.models import AuditEntry
    from liuhen.evidence import events

    return AuditEntry.objects.filter(action=events.event_recording_derived,
                                     object_id=str(rec.pk)).latest("pk")


def _sha256(path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


@pytest.fixture
def no_local_copy(monkeypatch):
    """Derivation must not copy the original to disk: the copying path fails the test."""
    def refuse(self, key, version=""):
        raise AssertionError(f"a local copy of {key} was made")

    monkeypatch.setattr(S3Storage, "local_path", refuse)
    monkeypatch.setattr(S3Source, "BLOCK", BLOCK)


@pytest.mark.parametrize("faststart", [True, False], ids=["moov-first", "moov-last"])
def test_poster_and_thumbnails_fetch_a_fraction_of_the_original(people, s3, tmp_path,
                                                                no_local_copy, faststart):
    """A browser-playable H.264 recording needs a poster and six thumbnails: seeks to seven
    places, so only the blocks around them (and the index) are fetched, whether the ``moov``
    box is in front or at the end. The derivatives are the very files a local copy gives."""
    from liuhen.evidence.tasks import derive_recording

    s3()
    path = mediafactory.make_h264_mp4(tmp_path / f"DSJ_{faststart}.mp4", seconds=60, width=320,
                                      height=240, faststart=faststart)
    with open(path, "rb") as fh:  # the factory writes what the parameter says
        head = fh.read(64)
    assert (b"moov" in head or b"moov" in path.read_bytes()[:4096]) == faststart
    rec = _pending(people, path)

    assert derive_recording(recording_id=rec.pk) == DerivationStatus.DONE
    read = _derived_entry(rec).detail["source_read"]
    size = path.stat().st_size
    assert read["size"] == size > 40 * BLOCK
    # Seven seeks, each a block and the next two (FFmpeg reads 32 KiB at a time), plus the
    # index: bounded by the number of seeks, not by the length (measured: 22 and 24 blocks,
    # half of this 60 s file; with 1 MiB blocks, ~3 MiB a thumbnail of an hour-long recording).
    assert read["fetched"] <= (7 * 3 + 5) * BLOCK < 0.6 * size, read
    assert read["requests"] < 25, read  # measured: 16, 18

    kinds = sorted(rec.derivatives.values_list("kind", flat=True))
    assert kinds == [DerivativeKind.POSTER] + [DerivativeKind.THUMBNAIL] * 6
    media.make_poster(path, tmp_path / "poster.jpg")
    media.make_thumbnails(path, tmp_path / "thumbs")
    local = {"poster.jpg": _sha256(tmp_path / "poster.jpg")} | {
        p.name: _sha256(p) for p in (tmp_path / "thumbs").iterdir()}
    stored = {d.storage_key.rsplit("/", 1)[1]: d.sha256 for d in rec.derivatives.all()}
    assert stored == local


def test_a_proxy_reads_the_pinned_version_once(people, s3, tmp_path, no_local_copy, make_media):
    """HEVC needs a proxy: the whole original is decoded, each byte fetched once (the block
    cache serves probing, poster, thumbnails and the proxy), from the version pinned at ingest
    though a newer version was put on the key (第二十六条 (二), issue 14 item 5)."""
    from liuhen.evidence.tasks import derive_recording

    bucket = s3()
    path = make_media("hevc", seconds=3)
    rec = _pending(people, path)
    forged = bytearray(path.read_bytes())
    forged[len(forged) // 2] ^= 0xFF
    s3.client.put_object(Bucket=bucket, Key=rec.storage_key, Body=bytes(forged))

    assert derive_recording(recording_id=rec.pk) == DerivationStatus.DONE
    read = _derived_entry(rec).detail["source_read"]
    assert read["fetched"] == read["size"] == path.stat().st_size
    proxy = rec.derivatives.get(kind=DerivativeKind.PROXY)
    media.make_proxy(path, tmp_path / "proxy.mp4")
    info = media.probe(tmp_path / "proxy.mp4")
    assert info.video_codec == "h264" and proxy.width == info.width
    made_locally = media.probe(path)
    with get_storage().media_source(rec.storage_key, rec.storage_version) as src:
        assert media.probe(src) == made_locally
    media.make_poster(path, tmp_path / "poster.jpg")
    assert rec.derivatives.get(kind=DerivativeKind.POSTER).sha256 == _sha256(
        tmp_path / "poster.jpg")


def test_ranged_reader_seeks_and_reads_exact_bytes(people, s3, tmp_path, monkeypatch):
    """The reader under PyAV: any seek and read gives the pinned version's bytes, blocks are
    fetched once while cached and reading on fetches further ahead (1, 2, 4, 8 blocks)."""
    monkeypatch.setattr(S3Source, "BLOCK", BLOCK)
    s3()
    path = mediafactory.make_large_file(tmp_path / "big.bin", 40 * BLOCK + 123)
    data = path.read_bytes()
    rec = _pending(people, path)
    with get_storage().media_source(rec.storage_key, rec.storage_version) as src:
        with src.open() as fh:
            assert fh.read() == data
        assert src.fetched == len(data)
        assert src.requests == 8  # 1+2+4+8+8+8+8+2 blocks, the last one short (41 in all)
        with src.open() as fh:
            for offset, length in ((5, 100), (len(data) - 10, 50), (BLOCK - 3, 7), (0, 0)):
                fh.seek(offset)
                assert fh.read(length) == data[offset:offset + length]
        assert src.fetched == len(data)  # all from the cache
    monkeypatch.setattr(S3Source, "CACHE_BYTES", 2 * BLOCK)
    with get_storage().media_source(rec.storage_key, rec.storage_version) as src, \
            src.open() as fh:
        fh.seek(20 * BLOCK)
        assert fh.read(10) == data[20 * BLOCK:20 * BLOCK + 10]
        assert (src.fetched, src.requests) == (BLOCK, 1)
