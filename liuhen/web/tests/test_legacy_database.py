"""A database filled by the code before the apps were split (commit 17f8c74, issue 15) migrates
forward without losing a row: models that changed app keep their tables, content types follow
them, links survive, old audit entries are still found, and ``liuhen audit verify`` passes.

Runs on the suite's database engine: SQLite (a copy of the fixture file) or PostgreSQL (the
fixture's rows copied into a database built with the schema of that commit).
"""

from __future__ import annotations

import gzip
import json
import os
import shutil
import sqlite3
import subprocess
import sys
import uuid
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[3]
FIXTURE = Path(__file__).resolve().parent / "fixtures" / "legacy-17f8c74.sqlite3.gz"
MOVED_TABLES = ["cases_document", "cases_approval", "cases_service", "evidence_device",
                "org_apitoken", "rules_holidayyear", "rules_holiday", "rules_casedeadlineentry",
                "cases_document_parties"]


def _pg_admin(sql: str) -> None:
    import psycopg

    base = os.environ["LIUHEN_DATABASE_URL"].rsplit("/", 1)[0] + "/postgres"
    with psycopg.connect(base, autocommit=True) as conn:
        conn.execute(sql)


@pytest.fixture
def legacy_env(tmp_path):
    """Environment for `liuhen` processes on a database holding the fixture's data."""
    fixture = tmp_path / "legacy.sqlite3"
    with gzip.open(FIXTURE, "rb") as src, open(fixture, "wb") as dst:
        shutil.copyfileobj(src, dst)
    data_dir = tmp_path / "var"
    data_dir.mkdir()
    env = {k: v for k, v in os.environ.items() if not k.startswith("LIUHEN_TEST")}
    env.update(LIUHEN_DATA_DIR=str(data_dir), DJANGO_SETTINGS_MODULE="liuhen.settings",
               LIUHEN_TASKS="immediate", LIUHEN_AUDIT_ANCHOR_DIR=str(tmp_path / "anchors"))
    database = None
    if os.environ.get("LIUHEN_DATABASE_URL", "").startswith("postgres"):
        database = f"liuhen_legacy_{uuid.uuid4().hex[:10]}"
        _pg_admin(f'CREATE DATABASE "{database}"')
        env["LIUHEN_DATABASE_URL"] = (os.environ["LIUHEN_DATABASE_URL"].rsplit("/", 1)[0]
                                      + "/" + database)
    else:
        env.pop("LIUHEN_DATABASE_URL", None)
        shutil.copy(fixture, data_dir / "liuhen.sqlite3")
    yield env, fixture
    if database:
        _pg_admin(f'DROP DATABASE IF EXISTS "{database}" WITH (FORCE)')


def _run(env, *args) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, *args], env=env, cwd=ROOT, capture_output=True,
                          text=True, timeout=600)


@pytest.mark.slow
def test_database_of_the_old_code_migrates_forward(legacy_env):
    env, fixture = legacy_env
    with sqlite3.connect(fixture) as old:
        expected = {t: old.execute(f"SELECT COUNT(*) FROM {t}").fetchone()[0]  # noqa: S608
                    for t in MOVED_TABLES}
        chain = old.execute("SELECT COUNT(*) FROM audit_auditentry").fetchone()[0]
        old_stages = dict(old.execute("SELECT id, stage FROM cases_case").fetchall())
        old_logs = old.execute("SELECT COUNT(*) FROM cases_stagelog").fetchone()[0]
    assert all(expected.values()), expected  # the fixture has rows of every moved model

    result = _run(env, "-m", "liuhen.web.tests.legacy_migrate", str(fixture))
    assert result.returncode == 0, result.stderr[-3000:]
    report = json.loads(result.stdout.split("REPORT ", 1)[1])
    assert report["counts"] == expected
    types = set(report["content_types"])
    assert {"records.document", "records.approval", "records.service", "devices.device",
            "access.apitoken", "deadlines.holidayyear", "deadlines.holiday",
            "deadlines.casedeadlineentry"} <= types
    assert not types & {"cases.document", "evidence.device", "org.apitoken", "rules.holiday"}
    assert report["recording_device"] == "DSJ-LEGACY-1"
    assert report["document_parties"] >= 1
    # The device's registration was audited as "evidence.device": still its history.
    assert "evidence.device" in report["device_history"]
    assert report["recordings_with_case"] and report["primary_links"] == report["recordings_with_case"]
    assert report["originals_frozen"] is True
    # The triggers of before the one generator (issue 16 item 20) are gone, old names and
    # functions; the upgraded database has the generated ones, on SQLite word for word.
    assert report["triggers"] == report["expected_triggers"]
    if report["functions"]:  # PostgreSQL
        assert set(report["functions"]) == {"liuhen_audit_append",
                                            *report["expected_functions"]}
    # cases 0008 (行政处罚法第六十二条, 行政强制法第三十五条至第三十八条): a coercion case with a
    # 催告书 and a 强制执行决定书 at the old 送达执行 is at 执行; penalty cases at the old 审查决定
    # stay there when their decision is on record (决定日期 or 行政处罚决定书; the move to 事先告知
    # is tested in cases/tests/test_stage_migration.py); every old log row is kept.
    stages = {int(k): v for k, v in report["case_stages"].items()}
    assert (old_stages[3], stages[3]) == ("decision", "decision")  # 决定日期 on record
    assert (old_stages[15], stages[15]) == ("decision", "decision")  # 行政处罚决定书 on record
    assert (old_stages[28], stages[28]) == ("service", "enforcement")
    assert (old_stages[27], stages[27]) == ("decision", "decision")  # 强制执行决定书
    assert (old_stages[4], stages[4]) == ("service", "service")
    moved = {pk for pk in stages if stages[pk] != old_stages[pk]}
    assert {(pk, old_stages[pk], stages[pk]) for pk in moved} == {
        tuple(row) for row in report["upgrade_logs"]}
    assert report["old_logs"] == old_logs

    verified = _run(env, "-m", "liuhen", "audit", "verify")
    assert verified.returncode == 0, verified.stdout + verified.stderr
    assert str(chain) in verified.stdout
