"""The ingest station (采集站, 第十三条): empties a dump folder, skips what is stored, verifies
digests, writes a receipt that says what is safe to erase; never deletes anything."""

from __future__ import annotations

import csv
import hashlib
import json
import shutil

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
    people, bureau, make_device, dump, tmp_path, capsys
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

    def update(self, chunk):
        counted["bytes"] += len(chunk)
        real_update(self, chunk)

    def probe(path):
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
