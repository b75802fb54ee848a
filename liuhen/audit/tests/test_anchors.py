"""Anchors pin the audit chain's head outside the database (第二十六条 (二), (三)): a chain
recomputed from an edited entry onwards, or cut at its end, verifies on its own, but not
against an anchor taken before."""

import json

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from django.db import connection

from liuhen.audit import triggers
from liuhen.audit.anchors import anchor_files, check_anchors, make_anchor
from liuhen.audit.models import AuditEntry
from liuhen.audit.services import HASHED_FIELDS, entry_hash, record, verify
from liuhen.web import schedule


@pytest.fixture
def chain(db, settings, tmp_path):
    settings.AUDIT_ANCHOR_DIR = tmp_path / "anchors"
    return [record(actor=None, actor_name="测试", action="test.event", target=("x.y", str(i)),
                   detail={"i": i}) for i in range(6)]


def _rewrite_from(seq: int, actor_name: str) -> None:
    """What a forger with database access does: edit one entry and recompute every later hash."""
    triggers.remove(connection)
    prev = AuditEntry.objects.get(seq=seq - 1).hash if seq > 1 else None
    for entry in AuditEntry.objects.filter(seq__gte=seq).order_by("seq"):
        values = {f: getattr(entry, f) for f in HASHED_FIELDS}
        if entry.seq == seq:
            values["actor_name"] = actor_name
        values["prev_hash"] = prev or values["prev_hash"]
        prev = entry_hash(values)
        with connection.cursor() as cursor:
            cursor.execute("UPDATE audit_auditentry SET actor_name = %s, prev_hash = %s, hash = %s"
                           " WHERE seq = %s",
                           [values["actor_name"], values["prev_hash"], prev, entry.seq])
    triggers.install(connection)


def test_anchor_records_the_head_and_is_itself_audited(chain, settings, capsys):
    call_command("audit", "anchor")
    out = capsys.readouterr().out
    assert "第 6 条" in out and chain[-1].hash in out
    (path,) = anchor_files()
    data = json.loads(path.read_text(encoding="utf-8"))
    assert (data["seq"], data["hash"]) == (6, chain[-1].hash)
    entry = AuditEntry.objects.get(seq=7)
    assert entry.action == "audit.anchored" and entry.detail["hash"] == chain[-1].hash
    call_command("audit", "verify")
    assert "锚点 1 个均相符" in capsys.readouterr().out


def test_a_recomputed_chain_passes_alone_but_not_against_the_anchor(chain, capsys):
    make_anchor()
    _rewrite_from(3, "冒名")
    assert AuditEntry.objects.get(seq=3).actor_name == "冒名"
    assert verify().ok  # the chain is consistent again: this is what anchors are for
    with pytest.raises(CommandError) as failure:
        call_command("audit", "verify")
    assert "第 6 条的哈希与锚点不符" in str(failure.value)
    assert AuditEntry.objects.filter(action="audit.verified", outcome="failed").exists()


def test_a_chain_cut_at_its_end_is_caught_by_the_anchor(chain):
    make_anchor()
    triggers.remove(connection)
    with connection.cursor() as cursor:
        cursor.execute("DELETE FROM audit_auditentry WHERE seq >= 5")
    triggers.install(connection)
    assert verify().ok  # removing the newest entries leaves a valid, shorter chain
    assert check_anchors(anchor_files()) == [f"{anchor_files()[0].name}：第 6 条已不存在（日志被截短或重编号）"]


def test_unreadable_or_named_anchor_files(chain, tmp_path):
    bad = tmp_path / "anchor-broken.json"
    bad.write_text("{not json", encoding="utf-8")
    assert check_anchors([bad]) == ["anchor-broken.json：锚点文件无法读取"]
    with pytest.raises(CommandError, match="找不到锚点文件或目录"):
        call_command("audit", "verify", "--anchors", str(tmp_path / "no-such-folder"))
    _, path = make_anchor(tmp_path / "elsewhere")
    assert check_anchors(anchor_files([tmp_path / "elsewhere"])) == []
    assert anchor_files([path]) == [path]


def test_empty_log_has_no_anchor(db, settings, tmp_path):
    settings.AUDIT_ANCHOR_DIR = tmp_path / "anchors"
    assert not AuditEntry.objects.exists()
    with pytest.raises(CommandError, match="审计日志为空"):
        call_command("audit", "anchor")


def test_scheduler_anchors_daily(chain, settings):
    settings.AUDIT_ANCHOR_EVERY_HOURS = 24
    job = {j.name: j for j in schedule.jobs()}["audit-anchor"]
    job.enqueue()  # the immediate test backend runs it
    (path,) = anchor_files()
    assert json.loads(path.read_text(encoding="utf-8"))["seq"] == 6
    settings.AUDIT_ANCHOR_EVERY_HOURS = 0
    assert "audit-anchor" not in {j.name for j in schedule.jobs()}


def test_verify_says_when_it_checked_no_anchor(chain, settings, capsys):
    """Issue 14 item 3: a node whose anchor folder is empty (the anchors were written on
    another node) said nothing about anchors; now it says it checked none, and where it looked."""
    call_command("audit", "verify")
    out = capsys.readouterr().out
    assert f"未核对任何锚点：{settings.AUDIT_ANCHOR_DIR} 中没有锚点文件" in out
    make_anchor()
    call_command("audit", "verify")
    out = capsys.readouterr().out
    assert "锚点 1 个均相符" in out and "未核对任何锚点" not in out


def test_anchors_go_to_the_evidence_store_and_every_node_checks_them(chain, settings, capsys,
                                                                     tmp_path):
    """Issue 14 item 3: an anchor written on node A is also kept in the evidence store, which
    every node reaches; `audit verify` on node B (its own anchor folder empty) checks it and
    says how many it checked and where; an altered stored anchor fails there too."""
    from liuhen.evidence.storage import get_storage

    anchor, path = make_anchor()
    key = f"audit-anchors/{path.name}"
    stored = get_storage().read_bytes(key)
    assert stored == path.read_bytes()
    entry = AuditEntry.objects.filter(action="audit.anchored").latest("seq")
    assert entry.detail["stored"] == [str(settings.EVIDENCE_DIR / key)]

    settings.AUDIT_ANCHOR_DIR = tmp_path / "node-b-anchors"  # another node's own folder
    call_command("audit", "verify", "--quiet")
    out = capsys.readouterr().out
    assert (f"锚点 1 个均相符（{settings.AUDIT_ANCHOR_DIR} 中 0 个，证据存储中 1 个）"
            in out), out

    forged = json.loads(stored)
    forged["hash"] = "0" * 64
    (settings.EVIDENCE_DIR / key).chmod(0o644)
    (settings.EVIDENCE_DIR / key).write_text(json.dumps(forged), encoding="utf-8")
    with pytest.raises(CommandError) as err:
        call_command("audit", "verify", "--quiet")
    assert f"{key}：第 {anchor.seq} 条的哈希与锚点不符" in str(err.value)
