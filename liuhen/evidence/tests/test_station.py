"""The ingest station (采集站, 第十三条): empties a dump folder, skips what is stored, verifies
digests, writes a receipt that says what is safe to erase; never deletes anything."""

from __future__ import annotations

import csv
import hashlib
import json
import shutil
import threading

import pytest
from django.core.management import call_command

from liuhen.evidence.models import Recording, RecordingSubmission


@pytest.fixture
def dump(tmp_path, make_media):
    """A camera dump: two videos, a photo, a truncated clip and a hidden system file."""
    folder = tmp_path / "DCIM" / "100MEDIA"
    folder.mkdir(parents=True)
    for kind, name in (
        ("h264", "DSJ001_20261127083000_0001.MP4"),
        ("h264", "DSJ001_20261127090000_0002.MP4"),
        ("jpeg", "IMG_20261127_091500.jpg"),
        ("truncated", "DSJ001_cut.MP4"),
    ):
        shutil.move(make_media(kind), folder / name)
    (folder / ".DS_Store").write_bytes(b"junk")
    return tmp_path / "DCIM"


def _receipt(folder):
    """The CSV's rows keyed by field name (its header is Chinese) and the JSON receipt."""
    from liuhen.evidence.station import RECEIPT_FIELDS, RECEIPT_HEADERS

    with open(next(folder.glob("receipt-*.csv")), encoding="utf-8-sig") as fh:
        reader = csv.DictReader(fh)
        assert reader.fieldnames == [
            "文件", "大小（字节）", "SHA-256 摘要", "SM3 摘要", "拍摄时间", "拍摄时间来源", "记录编号", "结果",
            "可从设备删除", "说明"]
        rows = [{f: row[RECEIPT_HEADERS[f]] for f in RECEIPT_FIELDS} for row in reader]
    return rows, json.loads(next(folder.glob("receipt-*.json")).read_text())


def test_local_station_run(people, bureau, make_device, dump, tmp_path, capsys):
    device = make_device(bureau["team_a"], officer=people["officer_a"], number="DSJ001")
    before = {p: p.read_bytes() for p in dump.rglob("*") if p.is_file()}
    receipts = tmp_path / "receipts"
    call_command(
        "ingest",
        str(dump),
        "--device",
        "DSJ001",
        "--user",
        people["keeper_a"].user.username,
        "--receipt-dir",
        str(receipts),
    )
    assert "新存储 4" in capsys.readouterr().out
    rows, body = _receipt(receipts)
    assert [r["file"] for r in rows] == [
        "100MEDIA/DSJ001_20261127083000_0001.MP4",
        "100MEDIA/DSJ001_20261127090000_0002.MP4",
        "100MEDIA/DSJ001_cut.MP4",
        "100MEDIA/IMG_20261127_091500.jpg",
    ]
    for row in rows:
        data = (dump / row["file"]).read_bytes()
        assert row["sha256"] == hashlib.sha256(data).hexdigest()
        assert row["sm3"] == hashlib.new("sm3", data).hexdigest()
        assert (row["status"], row["safe_to_erase"]) == ("已存储", "是")
        assert Recording.objects.get(pk=row["recording_id"]).sha256 == row["sha256"]
    assert body["totals"] == {"stored": 4, "duplicate": 0, "failed": 0}
    # The JSON receipt is for programs: field names and codes, not labels.
    assert {(i["status"], i["safe_to_erase"]) for i in body["items"]} == {("stored", "yes")}
    assert {r["capture_time_source"] for r in rows} <= {"", "媒体元数据", "EXIF", "文件名", "上传人填写",
                                                       "上传时间（无其他来源）"}
    assert (
        body["csv_sha256"] == hashlib.sha256(next(receipts.glob("*.csv")).read_bytes()).hexdigest()
    )
    recs = Recording.objects.all()
    assert {r.channel for r in recs} == {"station"} and {r.device for r in recs} == {device}
    assert {r.officer for r in recs} == {people["officer_a"]}
    assert Recording.objects.get(original_name="DSJ001_cut.MP4").flags == ["unreadable", "time_unknown"]
    # Nothing was erased or changed in the dump folder.
    assert {p: p.read_bytes() for p in dump.rglob("*") if p.is_file()} == before

    # A second run of the same dump skips everything: nothing is stored twice.
    shutil.rmtree(receipts)
    call_command(
        "ingest",
        str(dump),
        "--device",
        "DSJ001",
        "--user",
        people["keeper_a"].user.username,
        "--receipt-dir",
        str(receipts),
    )
    rows, body = _receipt(receipts)
    assert body["totals"] == {"stored": 0, "duplicate": 4, "failed": 0}
    assert {r["safe_to_erase"] for r in rows} == {"是"}
    assert Recording.objects.count() == 4 and RecordingSubmission.objects.count() == 4


def test_failed_files_are_not_safe_to_erase_and_exit_non_zero(
    people, bureau, make_device, dump, tmp_path, capsys, vault
):
    """第十一条: an officer without qualification is refused; the receipt says keep the files."""
    officer = people["officer_a2"]
    officer.is_formal_staff = False
    officer.save()
    make_device(bureau["team_a"], officer=officer, number="DSJ001")
    with pytest.raises(SystemExit) as exit_:
        call_command(
            "ingest",
            str(dump),
            "--device",
            "DSJ001",
            "--user",
            people["keeper_a"].user.username,
            "--receipt-dir",
            str(tmp_path / "r"),
        )
    assert exit_.value.code == 1
    rows, body = _receipt(tmp_path / "r")
    assert body["totals"]["failed"] == 4
    assert {(r["status"], r["safe_to_erase"]) for r in rows} == {("失败", "否")}
    assert "第十一条" in rows[0]["message"]
    assert "请勿清除" in capsys.readouterr().err
    assert not Recording.objects.exists()
    incoming = vault.root / ".incoming"  # the copies staged ahead were all discarded
    assert not incoming.is_dir() or not list(incoming.iterdir())


def test_unknown_device_is_a_clear_error(people, dump):
    from django.core.management.base import CommandError

    with pytest.raises(CommandError, match="未登记"):
        call_command(
            "ingest", str(dump), "--device", "NOPE", "--user", people["keeper_a"].user.username
        )


def test_direct_mode_reads_hashes_and_probes_each_file_once(
    people, bureau, make_device, dump, tmp_path, monkeypatch
):
    """Issue 9 item 2: on the server the station copies each file into the vault while both
    digests are computed, probes the copy once, and the receipt shows those digests."""
    from liuhen.evidence import media
    from liuhen.evidence.digests import DigestWriter

    make_device(bureau["team_a"], officer=people["officer_a"], number="DSJ001")
    counted = {"bytes": 0, "probes": 0}
    real_update, real_probe = DigestWriter.update, media.probe
    lock = threading.Lock()  # files are staged and probed on the station's pool threads

    def update(self, chunk):
        with lock:
            counted["bytes"] += len(chunk)
        real_update(self, chunk)

    def probe(path):
        with lock:
            counted["probes"] += 1
        return real_probe(path)

    monkeypatch.setattr(DigestWriter, "update", update)
    monkeypatch.setattr(media, "probe", probe)
    files = [p for p in dump.rglob("*") if p.is_file() and not p.name.startswith(".")]
    call_command("ingest", str(dump), "--device", "DSJ001", "--user",
                 people["keeper_a"].user.username, "--receipt-dir", str(tmp_path / "r"))
    assert counted == {"bytes": sum(p.stat().st_size for p in files), "probes": len(files)}
    rows, body = _receipt(tmp_path / "r")
    for row in rows:
        data = (dump / row["file"]).read_bytes()
        assert row["sm3"] == hashlib.new("sm3", data).hexdigest()
        assert row["safe_to_erase"] == "是"


def _staged_left(vault) -> list:
    incoming = vault.root / ".incoming"
    return sorted(incoming.iterdir()) if incoming.is_dir() else []


def test_direct_mode_prepares_the_next_file_while_registering_this_one(
    people, bureau, make_device, dump, tmp_path, monkeypatch, vault
):
    """Issue 9 item 2: the copy, digests and probe of the next file run on a pool thread
    while the main thread registers the current one (rows, audit entry, commit), instead of
    taking turns. The first registration waits until the second file is being prepared:
    without the pipeline it would wait in vain."""
    from liuhen.evidence import services, station

    make_device(bureau["team_a"], officer=people["officer_a"], number="DSJ001")
    names = sorted(p.name for p in dump.rglob("*") if p.is_file() and p.name != ".DS_Store")
    second_started = threading.Event()
    seen = []
    real_prepare, real_ingest = station.prepare_original, services.ingest_recording

    def prepare(path):
        seen.append(("prepare", path.name, threading.current_thread().name))
        if path.name == names[1]:
            second_started.set()
        return real_prepare(path)

    def ingest(**kwargs):
        seen.append(("ingest", kwargs["original_name"], threading.current_thread().name))
        if kwargs["original_name"] == names[0]:
            assert second_started.wait(10), "the next file was not prepared meanwhile"
        assert kwargs["prepared"] is not None
        return real_ingest(**kwargs)

    monkeypatch.setattr(station, "prepare_original", prepare)
    monkeypatch.setattr(services, "ingest_recording", ingest)
    call_command("ingest", str(dump), "--device", "DSJ001", "--user",
                 people["keeper_a"].user.username, "--receipt-dir", str(tmp_path / "r"))
    rows, body = _receipt(tmp_path / "r")
    assert body["totals"] == {"stored": 4, "duplicate": 0, "failed": 0}
    assert [n for kind, n, _t in seen if kind == "ingest"] == names  # registered in order
    assert {t for kind, _n, t in seen if kind == "prepare"} <= {
        f"liuhen-station_{i}" for i in range(station.PREPARE_WORKERS)}
    assert {t for kind, _n, t in seen if kind == "ingest"} == {"MainThread"}
    for row in rows:
        data = (dump / row["file"]).read_bytes()
        assert row["sha256"] == hashlib.sha256(data).hexdigest()
        assert Recording.objects.get(pk=row["recording_id"]).sm3 == row["sm3"]
    assert _staged_left(vault) == []


def test_a_file_that_cannot_be_prepared_fails_alone(
    people, bureau, make_device, dump, tmp_path, monkeypatch, vault
):
    """A file whose copy fails (an unreadable card sector) is failed on the receipt, in its
    own line; the files before and after it are stored; no staged copy is left behind."""
    from liuhen.evidence import station

    make_device(bureau["team_a"], officer=people["officer_a"], number="DSJ001")
    real_prepare = station.prepare_original

    def prepare(path):
        if path.name == "DSJ001_20261127090000_0002.MP4":
            raise OSError(5, "Input/output error")
        return real_prepare(path)

    monkeypatch.setattr(station, "prepare_original", prepare)
    with pytest.raises(SystemExit):
        call_command("ingest", str(dump), "--device", "DSJ001", "--user",
                     people["keeper_a"].user.username, "--receipt-dir", str(tmp_path / "r"))
    rows, body = _receipt(tmp_path / "r")
    assert body["totals"] == {"stored": 3, "duplicate": 0, "failed": 1}
    failed = [r for r in rows if r["status"] == "失败"]
    assert [r["file"] for r in failed] == ["100MEDIA/DSJ001_20261127090000_0002.MP4"]
    assert failed[0]["safe_to_erase"] == "否" and "Input/output" in failed[0]["message"]
    assert Recording.objects.count() == 3
    assert _staged_left(vault) == []


def test_an_interrupted_run_leaves_no_staged_copies(
    people, bureau, make_device, dump, tmp_path, monkeypatch, vault
):
    """Ctrl-C while the first file is registered: the files prepared ahead are discarded
    (their staged copies removed), nothing is half-stored (第二十六条)."""
    from liuhen.evidence import services, station

    make_device(bureau["team_a"], officer=people["officer_a"], number="DSJ001")
    prepared = []
    real_prepare = station.prepare_original

    def prepare(path):
        prepared.append(path.name)
        return real_prepare(path)

    def ingest(**kwargs):
        kwargs["prepared"].discard()
        raise KeyboardInterrupt

    monkeypatch.setattr(station, "prepare_original", prepare)
    monkeypatch.setattr(services, "ingest_recording", ingest)
    with pytest.raises(KeyboardInterrupt):
        call_command("ingest", str(dump), "--device", "DSJ001", "--user",
                     people["keeper_a"].user.username, "--receipt-dir", str(tmp_path / "r"))
    assert len(prepared) > 1  # files were prepared ahead ...
    assert _staged_left(vault) == []  # ... and their copies removed
    assert not Recording.objects.exists()


class _InProcess:
    """The few ``requests.Session`` methods the remote station uses, answered by this test's
    server in-process (Django's test client); every call is noted, ``cut(method, path,
    headers)`` may drop one as a broken connection would."""

    def __init__(self, token, calls, cut=None):
        from django.test import Client

        self.client, self.calls, self.cut = Client(), calls, cut
        self.headers = {"Authorization": f"Bearer {token}", "Tus-Resumable": "1.0.0"}

    def _call(self, method, url, data=None, headers=None, timeout=None):
        import requests

        path = url.split("://", 1)[-1]
        path = path[path.index("/"):]
        sent = {**self.headers, **(headers or {})}
        self.calls.append((method.upper(), path, sent, len(data or b"")))
        if self.cut and self.cut(method.upper(), path, sent):
            raise requests.ConnectionError("connection cut")
        body = {}
        if method in ("post", "patch"):
            body = {"data": data or b"", "content_type": sent.pop("Content-Type", "")}
        return getattr(self.client, method)(path, headers=sent, **body)

    def get(self, url, **kw):
        return self._call("get", url, **kw)

    def head(self, url, **kw):
        return self._call("head", url, **kw)

    def post(self, url, **kw):
        return self._call("post", url, **kw)

    def patch(self, url, **kw):
        return self._call("patch", url, **kw)


def _remote(people, tmp_path, calls, *, chunk_size=16 << 20, cut=None):
    """A remote (tus) station target talking to this test's server, one file at a time (the
    test database is this thread's), with its state file in ``tmp_path``."""
    from liuhen.access.services import create_token
    from liuhen.evidence import station

    token = create_token(user=people["officer_a"].user, name="采集站")[1]
    target = station.RemoteTarget(server="http://testserver", token=token, device="DSJ001",
                                  officer="", state_file=tmp_path / "state.json",
                                  chunk_size=chunk_size)
    target.workers = 1
    target._new_session = lambda: _InProcess(token, calls, cut)
    return target


def _count_state_writes(target) -> list[str]:
    """The changes ``target`` makes to its state file (each one rewrites the whole file)."""
    writes = []
    storage = target.url_storage
    set_item, remove_item = storage.set_item, storage.remove_item
    storage.set_item = lambda key, url: writes.append("set") or set_item(key, url)
    storage.remove_item = lambda key: writes.append("remove") or remove_item(key)
    return writes


def _b64sha(data: bytes) -> str:
    import base64

    return "sha256 " + base64.b64encode(hashlib.sha256(data).digest()).decode()


def test_remote_station_sends_a_small_file_in_its_creation_request(
    people, bureau, make_device, dump, tmp_path, monkeypatch
):
    """Issue 9 item 2, over tus: a file of one chunk is created, sent (with its sha256 as the
    chunk checksum) and stored in one POST (creation-with-upload); the answer's Liuhen-*
    headers give the receipt its digests, flags and capture time: no question by digest
    first, no PATCH, no GET .../result, and the station does not probe a file the server
    probed. Sent again, the server recognises the bytes: duplicates, nothing stored twice."""
    from liuhen.evidence import station

    make_device(bureau["team_a"], officer=people["officer_a"], number="DSJ001")
    probed = []
    real_read = station.read_capture_time
    monkeypatch.setattr(station, "read_capture_time",
                        lambda path: probed.append(path.name) or real_read(path))
    calls = []
    receipt = station.Receipt(device="DSJ001", officer="", server="http://testserver",
                              folder=str(dump))
    target = _remote(people, tmp_path, calls)
    writes = _count_state_writes(target)
    station.run(folder=dump, target=target, receipt=receipt)
    assert receipt.totals() == {"stored": 4, "duplicate": 0, "failed": 0}
    assert [(m, p.split("/")[2]) for m, p, _h, _n in calls] == [("POST", "uploads")] * 4
    # Nothing to resume, so the state file is never rewritten (it was twice per file).
    assert writes == []
    for item in receipt.items:
        data = (dump / item.file).read_bytes()
        post = next(h for m, p, h, n in calls if m == "POST" and n == len(data)
                    and h["Upload-Checksum"] == _b64sha(data))
        assert post["Upload-Length"] == str(len(data))
        rec = Recording.objects.get(pk=item.recording_id)
        assert (item.sha256, item.sm3) == (rec.sha256, rec.sm3) == (
            hashlib.sha256(data).hexdigest(), hashlib.new("sm3", data).hexdigest())
        assert item.safe_to_erase == "yes"
        assert (item.captured_at, item.capture_time_source) == (
            rec.captured_start.isoformat(), rec.capture_time_source)
    assert probed == []
    cut = next(i for i in receipt.items if i.file.endswith("DSJ001_cut.MP4"))
    assert cut.message == "已存储，带标记：unreadable,time_unknown"
    assert cut.capture_time_source == "upload_time"

    # Again: the server recognises every file by its digest; nothing is stored twice, each
    # second submission is on record, the receipt says duplicate and safe to erase.
    calls.clear()
    again = station.Receipt(device="DSJ001", officer="", server="x", folder=str(dump))
    station.run(folder=dump, target=_remote(people, tmp_path, calls), receipt=again)
    assert again.totals() == {"stored": 0, "duplicate": 4, "failed": 0}
    assert {m for m, *_ in calls} == {"POST"}
    assert Recording.objects.count() == 4
    assert RecordingSubmission.objects.filter(was_duplicate=True).count() == 4
    for item, first in zip(again.items, receipt.items, strict=True):
        assert (item.recording_id, item.sha256, item.sm3) == (
            first.recording_id, first.sha256, first.sm3)
        assert item.safe_to_erase == "yes" and "未重复存储" in item.message
    assert probed == []  # the server's reading of the stored recording's capture time


def test_remote_station_resumes_a_large_file_in_checksummed_chunks(
    people, bureau, make_device, tmp_path
):
    """A file of several chunks: the first in the creation request, the rest as PATCHes,
    each with its own sha256 (tus checksum). The connection is cut during the third chunk:
    that file fails on the receipt (keep it on the camera), its upload URL stays in the
    state file, and the next run resumes at the server's offset instead of starting again."""
    from liuhen.evidence import station
    from liuhen.evidence.tests import mediafactory

    make_device(bureau["team_a"], officer=people["officer_a"], number="DSJ001")
    folder = tmp_path / "dump"
    folder.mkdir()
    path = mediafactory.make_large_file(folder / "DSJ001_20261127083000_0001.MP4",
                                        (3 << 20) + 12345)
    data = path.read_bytes()
    calls = []

    def third_chunk(method, _path, headers):
        return method == "PATCH" and headers["Upload-Offset"] == str(2 << 20)

    first = _remote(people, tmp_path, calls, chunk_size=1 << 20, cut=third_chunk)
    first.RETRIES = 0
    writes = _count_state_writes(first)
    receipt = station.Receipt(device="DSJ001", officer="", server="x", folder=str(folder))
    station.run(folder=folder, target=first, receipt=receipt)
    assert receipt.totals()["failed"] == 1 and receipt.items[0].safe_to_erase == "no"
    assert writes == ["set"]  # once, after the first chunk (not again after each chunk)
    assert not Recording.objects.exists()
    url = first.url_storage.get_item(f"sha256:{hashlib.sha256(data).hexdigest()}")
    assert url and url.startswith("http://testserver/api/uploads/")

    calls.clear()
    receipt = station.Receipt(device="DSJ001", officer="", server="x", folder=str(folder))
    second = _remote(people, tmp_path, calls, chunk_size=1 << 20)
    writes = _count_state_writes(second)
    station.run(folder=folder, target=second, receipt=receipt)
    assert writes == ["remove"]
    assert receipt.totals() == {"stored": 1, "duplicate": 0, "failed": 0}
    assert [(m, h.get("Upload-Offset")) for m, _p, h, _n in calls] == [
        ("GET", None), ("HEAD", None), ("PATCH", str(2 << 20)), ("PATCH", str(3 << 20))]
    for _m, _p, headers, _n in calls[2:]:
        offset = int(headers["Upload-Offset"])
        assert headers["Upload-Checksum"] == _b64sha(data[offset:offset + (1 << 20)])
    rec = Recording.objects.get()
    assert (rec.sha256, rec.sm3) == (hashlib.sha256(data).hexdigest(),
                                     hashlib.new("sm3", data).hexdigest())
    assert receipt.items[0].recording_id == rec.pk and receipt.items[0].safe_to_erase == "yes"
    assert second.url_storage.get_item(f"sha256:{rec.sha256}") is None  # done: forgotten


def test_remote_station_keeps_the_new_url_of_an_upload_started_again(
    people, bureau, make_device, tmp_path
):
    """The saved upload is gone (expired, removed): the station starts again, and when that run
    is cut too the state file holds the new upload's URL (not the stale one), so the next run
    resumes it. The state file is rewritten only when its URL changes."""
    from liuhen.evidence import station
    from liuhen.evidence.models import UploadSession
    from liuhen.evidence.tests import mediafactory

    make_device(bureau["team_a"], officer=people["officer_a"], number="DSJ001")
    folder = tmp_path / "dump"
    folder.mkdir()
    path = mediafactory.make_large_file(folder / "DSJ001_20261127083000_0001.MP4",
                                        (3 << 20) + 777)
    key = f"sha256:{hashlib.sha256(path.read_bytes()).hexdigest()}"

    def third_chunk(method, _path, headers):
        return method == "PATCH" and headers["Upload-Offset"] == str(2 << 20)

    def cut_run():
        target = _remote(people, tmp_path, [], chunk_size=1 << 20, cut=third_chunk)
        target.RETRIES = 0
        writes = _count_state_writes(target)
        receipt = station.Receipt(device="DSJ001", officer="", server="x", folder=str(folder))
        station.run(folder=folder, target=target, receipt=receipt)
        assert receipt.totals()["failed"] == 1
        return target.url_storage.get_item(key), writes

    first_url, writes = cut_run()
    assert first_url and writes == ["set"]
    UploadSession.objects.filter(pk=first_url.rstrip("/").rsplit("/", 1)[1]).delete()
    second_url, writes = cut_run()
    assert second_url and second_url != first_url and writes == ["set"]


def test_remote_station_holds_a_bounded_number_of_chunks(tmp_path):
    """Four files at once over tus, each thread holding one chunk in memory: with very large
    chunks (--chunk-mib up to 1024) fewer threads, so the station's memory stays bounded."""
    from liuhen.evidence import station

    def workers(mib):
        return station.RemoteTarget(server="http://x", token="t", device="D", officer="",
                                    state_file=tmp_path / "s.json", chunk_size=mib << 20).workers

    assert [workers(m) for m in (1, 16, 64, 128, 1024)] == [4, 4, 4, 2, 1]
