"""Backup and restore (issue 16 item 5): `liuhen backup DEST` of a live installation (SQLite
through its backup API, PostgreSQL through pg_dump: whichever the suite runs on), `liuhen restore
SRC` into an empty data folder only; after a restore `liuhen audit verify` reaches the same chain
head and `liuhen verify --all` passes (第二十六条: the records and their audit trail survive the
machine)."""

from __future__ import annotations

import hashlib
import json
import re
import uuid

import pytest

from liuhen.evidence.tests.test_tasks import INGEST_SCRIPT, _run_script

HEAD = re.compile(r"链头 #(\d+) ([0-9a-f]{64})")


def _head(server, *, anchors: int | None = None) -> tuple[str, str]:
    out = server.manage("audit", "verify", "--quiet").stdout
    match = HEAD.search(out)
    assert match, out
    if anchors is not None:
        assert f"锚点 {anchors} 个均相符" in out, out
    return match.groups()


def _empty_installation(server, tmp_path):
    """Environment of a second, empty installation: a new data folder and, on PostgreSQL, a new
    empty database. Nothing migrated."""
    env = dict(server.env)
    env["LIUHEN_DATA_DIR"] = str(tmp_path / "restored-var")
    if server.pg_db:
        name = f"{server.pg_db}_r"
        server._pg_admin(f'CREATE DATABASE "{name}"')
        env["LIUHEN_DATABASE_URL"] = env["LIUHEN_DATABASE_URL"].rsplit("/", 1)[0] + "/" + name
        return env, name
    return env, None


@pytest.mark.slow
@pytest.mark.timeout(900)  # a dozen `liuhen` processes, each starting Django, on a shared machine
def test_backup_restore_reaches_the_same_audit_head(server_process, tmp_path):
    server = server_process()
    created = _run_script(server, INGEST_SCRIPT, str(server.data_dir / f"{uuid.uuid4().hex}.mp4"))
    server.manage("audit", "anchor")
    server.manage("signing_key")
    # What was handed out and is kept for good (第十五条, 第十六条, 第十七条第三款): not made
    # again from the vault, so a backup that left it out would lose it (found 2026-12-05).
    handed_out = {"supplied/S-1/package.zip": b"supplied package", "exported/E-1/export.zip":
                  b"export under a grant", "archive/A-1/disc-1.iso": b"archive disc image"}
    for name, data in handed_out.items():
        (server.data_dir / name).parent.mkdir(parents=True, exist_ok=True)
        (server.data_dir / name).write_bytes(data)
    keys = {name: (server.data_dir / "keys" / name).read_bytes()
            for name in ("signing-ed25519.pem", "signing-sm2.pem")}
    head = _head(server)

    dest = tmp_path / "backup"
    out = server.manage("backup", str(dest)).stdout
    assert f"链头 #{head[0]} {head[1]}" in out
    manifest = json.loads((dest / "manifest.json").read_text())
    assert manifest["audit_head"]["seq"] == int(head[0])
    assert manifest["audit_head"]["hash"] == head[1] and manifest["audit_head"]["ok"]
    names = set(manifest["files"])
    assert manifest["database"]["file"] in names and "secret_key" in names
    assert any(name.startswith("evidence/") for name in names)
    assert any(name.startswith("audit-anchors/") for name in names)
    assert set(handed_out) | {f"keys/{name}" for name in keys} <= names
    for name, entry in manifest["files"].items():  # known answers: the files' own digests
        assert hashlib.sha256((dest / name).read_bytes()).hexdigest() == entry["sha256"]
    # A second backup into the same folder is refused.
    again = server.manage("backup", str(dest), check=False)
    assert again.returncode != 0 and "不是空的" in again.stderr

    # Restoring over the live installation is refused: it is not empty.
    refused = server.manage("restore", str(dest), check=False)
    assert refused.returncode != 0 and "已有数据" in refused.stderr

    # A damaged backup is refused before anything is written.
    env, db_name = _empty_installation(server, tmp_path)
    original = next(n for n in names if n.startswith("evidence/"))
    damaged = tmp_path / "damaged"
    import shutil

    shutil.copytree(dest, damaged)
    data = bytearray((damaged / original).read_bytes())
    data[len(data) // 2] ^= 0x01
    (damaged / original).write_bytes(bytes(data))
    server_env = server.env
    try:
        server.env = env
        bad = server.manage("restore", str(damaged), check=False)
        assert bad.returncode != 0 and "备份已损坏" in bad.stderr and original in bad.stderr

        restored = server.manage("restore", str(dest))
        assert f"#{head[0]} {head[1]}" in restored.stdout
        assert _head(server, anchors=1) == head  # the same chain, to the same head
        verified = server.manage("verify", "--all", check=False)
        assert verified.returncode == 0, verified.stdout + verified.stderr
        assert (tmp_path / "restored-var" / "secret_key").read_bytes() == \
            (server.data_dir / "secret_key").read_bytes()
        for name, data in handed_out.items():
            assert (tmp_path / "restored-var" / name).read_bytes() == data
        for name, data in keys.items():
            restored_key = tmp_path / "restored-var" / "keys" / name
            assert restored_key.read_bytes() == data
            assert restored_key.stat().st_mode & 0o777 == 0o600
        recording = _run_script(server, "import json\nfrom liuhen.evidence.models import "
                                "Recording\nprint(json.dumps(list(Recording.objects."
                                "values_list('pk', flat=True))))", "")
        assert recording == [created["id"]]
    finally:
        server.env = server_env
        if db_name:
            server._pg_admin(f'DROP DATABASE IF EXISTS "{db_name}" WITH (FORCE)')


@pytest.mark.timeout(300)
def test_the_scheduler_backs_up_nightly_into_the_configured_folder(server_process, tmp_path):
    """LIUHEN_BACKUP_DIR set: the scheduler's backup job (run in its own process, daily) writes
    a complete backup, manifest last, into a dated folder of its own; unset, there is no job."""
    server = server_process({"LIUHEN_BACKUP_DIR": str(tmp_path / "nightly")})
    listed = server.manage("scheduler", "--list").stdout
    assert "backup\t每日备份" in listed and "每 24 小时" in listed
    server.manage("scheduler", "--once")
    (folder,) = (tmp_path / "nightly").iterdir()
    assert re.fullmatch(r"liuhen-\d{8}-\d{6}", folder.name)
    manifest = json.loads((folder / "manifest.json").read_text())
    assert manifest["audit_head"]["ok"]  # the chain checked whole before it was copied
    for name, entry in manifest["files"].items():
        assert hashlib.sha256((folder / name).read_bytes()).hexdigest() == entry["sha256"]
    del server.env["LIUHEN_BACKUP_DIR"]
    assert "backup" not in server.manage("scheduler", "--list").stdout.split()
