"""Backup and restore of one installation (issue 16 item 5): `liuhen backup DEST`, `liuhen
restore SRC`.

A backup is a folder holding everything a restore needs and a manifest with the SHA-256 and size
of every file in it:

* ``database.sqlite3`` (SQLite, copied online through SQLite's backup API, so a running server
  keeps writing) or ``database.dump`` (PostgreSQL, ``pg_dump`` in its custom format: one
  consistent snapshot);
* ``evidence/``: the vault (originals, derived media, case files) when it is on local disk. An S3
  vault is not copied: its versioning and Object Lock keep every version (第二十六条 (二)), and
  its replication is the bucket's business; the manifest says so;
* ``audit-anchors/``: the anchors of the audit chain's head (copies kept elsewhere still count);
* ``secret_key``: the key sessions and tokens are signed with, unless it comes from
  ``LIUHEN_SECRET_KEY`` (then the operator keeps it, and the manifest says so);
* ``supplied/``, ``exported/``, ``archive/``: what the bureau handed out and must be able to show
  later, kept for good and not made again from the vault: each evidence package as supplied to a
  review body or court (复制留存, 第十七条第三款), each export under a grant (第十六条), each
  archive package with its disc images (第十五条);
* ``keys/``: the bureau's signing keys (Ed25519, and SM2 where it signs), mode 0600 as kept: a
  package signed after a restore must verify against the public key already handed out.

The manifest is written last: a folder without one is an unfinished backup. A restore checks
every file against the manifest before it writes anything, and only into an empty data folder
(an empty database), so it can never mix two installations. After a restore, `liuhen audit
verify` reaches the head recorded in the manifest and `liuhen verify --all` passes.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import sqlite3
import subprocess
from dataclasses import dataclass
from pathlib import Path

from django.conf import settings
from django.db import connection
from django.utils import timezone

from liuhen.audit.anchors import anchor_dir
from liuhen.audit.services import verify
from liuhen.core.errors import InvalidInput
from liuhen.core.files import write_atomically
from liuhen.packaging.keys import ed25519_key_path, sm2_key_path

FORMAT = "liuhen-backup/1"
MANIFEST = "manifest.json"
_CHUNK = 1024 * 1024


class BackupError(InvalidInput):
    code = "backup_failed"


@dataclass(frozen=True)
class BackupResult:
    folder: Path
    files: int
    bytes: int
    audit_head: dict


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as fh:
        while chunk := fh.read(_CHUNK):
            digest.update(chunk)
    return digest.hexdigest()


def _pg_env() -> tuple[list[str], dict]:
    """Connection arguments and environment for pg_dump / pg_restore from DATABASES."""
    db = settings.DATABASES["default"]
    args = ["-h", db.get("HOST") or "127.0.0.1", "-p", str(db.get("PORT") or 5432),
            "-U", db.get("USER") or "postgres", "-d", db["NAME"]]
    env = {**os.environ}
    if db.get("PASSWORD"):
        env["PGPASSWORD"] = db["PASSWORD"]
    return args, env


def _copy_tree(src: Path, dest: Path) -> None:
    if src.is_dir():
        shutil.copytree(src, dest, dirs_exist_ok=True, symlinks=False)


def _kept_folders() -> list[tuple[str, Path]]:
    """(name in the backup, folder here) of what was handed out and is kept for good."""
    return [("supplied", Path(settings.SUPPLY_DIR)), ("exported", Path(settings.EXPORT_DIR)),
            ("archive", Path(settings.ARCHIVE_DIR))]


def _signing_keys() -> list[tuple[str, Path]]:
    """(name in the backup, path here) of the bureau's signing keys, as the settings place them."""
    keys = [("keys/signing-ed25519.pem", ed25519_key_path())]
    sm2 = sm2_key_path()
    if sm2 is not None:
        keys.append(("keys/signing-sm2.pem", sm2))
    return keys


def _copy_key(src: Path, dest: Path) -> None:
    dest.parent.mkdir(parents=True, exist_ok=True)
    shutil.copy2(src, dest)
    os.chmod(dest, 0o600)


def make_backup(dest: Path) -> BackupResult:
    """Write a backup into ``dest`` (created; it must not hold anything yet)."""
    dest = Path(dest)
    if dest.exists() and any(dest.iterdir()):
        raise BackupError("备份目标文件夹不是空的：请指定一个新的或空的文件夹。")
    dest.mkdir(parents=True, exist_ok=True)
    head = verify()  # the chain is whole before we copy it, and this is the head we promise
    notes = []
    if connection.vendor == "sqlite":
        target = sqlite3.connect(dest / "database.sqlite3")
        try:
            connection.ensure_connection()
            connection.connection.backup(target)
        finally:
            target.close()
        database = {"engine": "sqlite", "file": "database.sqlite3"}
    else:
        args, env = _pg_env()
        subprocess.run(["pg_dump", "-Fc", "--no-owner", "-f", str(dest / "database.dump"), *args],
                       check=True, env=env, capture_output=True, timeout=None)
        database = {"engine": "postgresql", "file": "database.dump"}
    if settings.EVIDENCE_STORAGE == "local":
        _copy_tree(Path(settings.EVIDENCE_DIR), dest / "evidence")
    else:
        notes.append(f"音像原件在 S3 存储桶 {settings.S3_BUCKET}（版本控制与对象锁定）中，未复制到本备份。")
    _copy_tree(anchor_dir(), dest / "audit-anchors")
    key_file = Path(settings.DATA_DIR) / "secret_key"
    if os.environ.get("LIUHEN_SECRET_KEY"):
        notes.append("密钥来自 LIUHEN_SECRET_KEY 环境变量，未写入备份：请另行保管。")
    elif key_file.exists():
        shutil.copy2(key_file, dest / "secret_key")
        os.chmod(dest / "secret_key", 0o600)
    for name, folder in _kept_folders():
        _copy_tree(folder, dest / name)
    for name, path in _signing_keys():
        if path.is_file():
            _copy_key(path, dest / name)
    files = {}
    total = 0
    for path in sorted(p for p in dest.rglob("*") if p.is_file()):
        rel = path.relative_to(dest).as_posix()
        size = path.stat().st_size
        files[rel] = {"sha256": _sha256(path), "size": size}
        total += size
    # A broken chain is backed up all the same (the evidence of the break is kept), and said.
    audit_head = {"seq": head.head_seq, "hash": head.head_hash, "entries": head.checked,
                  "ok": head.ok}
    manifest = {"format": FORMAT, "created_at": timezone.now().isoformat(),
                "database": database, "evidence_storage": settings.EVIDENCE_STORAGE,
                "audit_head": audit_head, "notes": notes, "files": files}
    write_atomically(dest / MANIFEST, json.dumps(manifest, ensure_ascii=False, indent=1))
    return BackupResult(dest, len(files), total, audit_head)


def read_manifest(src: Path) -> dict:
    """The manifest, after checking every file it lists (and that nothing is missing)."""
    src = Path(src)
    try:
        manifest = json.loads((src / MANIFEST).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        raise BackupError(f"{src} 不是完整的留痕备份（缺少或无法读取 {MANIFEST}）。") from None
    if manifest.get("format") != FORMAT:
        raise BackupError(f"无法识别的备份格式：{manifest.get('format')!r}")
    bad = []
    for rel, expected in manifest["files"].items():
        path = src / rel
        if not path.is_file() or path.stat().st_size != expected["size"] \
                or _sha256(path) != expected["sha256"]:
            bad.append(rel)
    if bad:
        raise BackupError(f"备份已损坏：{len(bad)} 个文件与清单不符（如 {', '.join(bad[:3])}），未恢复任何内容。")
    return manifest


def _data_folder_empty() -> list[str]:
    """What already holds data where a restore would write (empty list: nothing)."""
    found = []
    if Path(settings.EVIDENCE_DIR).is_dir() and any(p.is_file() for p in Path(settings.EVIDENCE_DIR).rglob("*")):
        found.append(str(settings.EVIDENCE_DIR))
    if anchor_dir().is_dir() and any(anchor_dir().iterdir()):
        found.append(str(anchor_dir()))
    for _, folder in _kept_folders():
        if folder.is_dir() and any(p.is_file() for p in folder.rglob("*")):
            found.append(str(folder))
    for _, path in _signing_keys():
        if path.exists():  # never replaced: a key of this installation's own is kept
            found.append(str(path))
    if connection.vendor == "sqlite":
        db_file = Path(settings.DATABASES["default"]["NAME"])
        if db_file.exists() and db_file.stat().st_size > 0:
            found.append(str(db_file))
    elif connection.introspection.table_names():
        found.append(f"数据库 {settings.DATABASES['default']['NAME']}")
    return found


def restore_backup(src: Path) -> dict:
    """Restore ``src`` into this installation's data folder, which must be empty."""
    manifest = read_manifest(Path(src))
    src = Path(src)
    occupied = _data_folder_empty()
    if occupied:
        raise BackupError("只能恢复到空的数据文件夹和空数据库；这里已有数据：" + "、".join(occupied))
    engine = manifest["database"]["engine"]
    if engine != connection.vendor:
        raise BackupError(f"备份的数据库是 {engine}，这里配置的是 {connection.vendor}。")
    if engine == "sqlite":
        db_file = Path(settings.DATABASES["default"]["NAME"])
        connection.close()
        source = sqlite3.connect(src / manifest["database"]["file"])
        target = sqlite3.connect(db_file)
        try:
            source.backup(target)
        finally:
            source.close()
            target.close()
    else:
        args, env = _pg_env()
        connection.close()
        subprocess.run(["pg_restore", "--no-owner", "--exit-on-error", *args,
                        str(src / manifest["database"]["file"])],
                       check=True, env=env, capture_output=True)
    if (src / "evidence").is_dir():
        _copy_tree(src / "evidence", Path(settings.EVIDENCE_DIR))
    if (src / "audit-anchors").is_dir():
        _copy_tree(src / "audit-anchors", anchor_dir())
    for name, folder in _kept_folders():
        if (src / name).is_dir():
            _copy_tree(src / name, folder)
    for name, path in _signing_keys():
        if (src / name).is_file():
            _copy_key(src / name, path)
    if (src / "secret_key").is_file():
        # This process already made a key of its own for the empty folder: the backup's wins.
        key = Path(settings.DATA_DIR) / "secret_key"
        key.unlink(missing_ok=True)
        shutil.copy2(src / "secret_key", key)
        os.chmod(key, 0o600)
    return manifest


def nightly_backup() -> BackupResult | None:
    """The scheduler's nightly backup into ``LIUHEN_BACKUP_DIR/liuhen-<date>-<time>`` (only when
    that is set). Older backups are kept: copying them off the machine and pruning them is the
    operator's schedule (docs/使用指南.md)."""
    if not settings.BACKUP_DIR:
        return None
    stamp = timezone.localtime().strftime("%Y%m%d-%H%M%S")
    return make_backup(Path(settings.BACKUP_DIR) / f"liuhen-{stamp}")
