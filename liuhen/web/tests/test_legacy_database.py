"""A database filled by the code before the apps were split (commit 17f8c74, issue 15) migrates
forward without losing a row: models that changed app keep their tables, content types follow
them, links survive, old audit entries are still found, and ``liuhen audit verify`` passes.

Runs on the suite's database engine, each from a database that code made itself: SQLite (a
copy of the fixture file) or PostgreSQL (a database of the test's own, loaded from the
``pg_dump`` of a database the code of 17f8c74 migrated and filled on PostgreSQL: its own
migrations, its PL/pgSQL audit append and its triggers, as an upgraded bureau has them; issue
16 item 20). What the upgrade must keep is read from that database before it migrates.
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

from conftest import pg_admin

ROOT = Path(__file__).resolve().parents[3]
FIXTURES = Path(__file__).resolve().parent / "fixtures"
FIXTURE = FIXTURES / "legacy-17f8c74.sqlite3.gz"
# Made by fixtures/make_legacy_db.py run at 17f8c74 against PostgreSQL 15 (its docstring).
PG_FIXTURE = FIXTURES / "legacy-17f8c74.postgresql.sql.gz"
MOVED_TABLES = ["cases_document", "cases_approval", "cases_service", "evidence_device",
                "org_apitoken", "rules_holidayyear", "rules_holiday", "rules_casedeadlineentry",
                "cases_document_parties"]


def _on_postgresql() -> bool:
    return os.environ.get("LIUHEN_DATABASE_URL", "").startswith("postgres")


@pytest.fixture
def legacy_env(tmp_path):
    """Environment for `liuhen` processes on a database the old code made, and a DB-API
    connection factory to read it before the upgrade."""
    data_dir = tmp_path / "var"
    data_dir.mkdir()
    env = {k: v for k, v in os.environ.items() if not k.startswith("LIUHEN_TEST")}
    env.update(LIUHEN_DATA_DIR=str(data_dir), DJANGO_SETTINGS_MODULE="liuhen.settings",
               LIUHEN_TASKS="immediate", LIUHEN_AUDIT_ANCHOR_DIR=str(tmp_path / "anchors"))
    database = None
    if _on_postgresql():
        import psycopg

        database = f"liuhen_legacy_{uuid.uuid4().hex[:10]}"
        pg_admin(f'CREATE DATABASE "{database}"')
        env["LIUHEN_DATABASE_URL"] = (os.environ["LIUHEN_DATABASE_URL"].rsplit("/", 1)[0]
                                      + "/" + database)
        with gzip.open(PG_FIXTURE, "rb") as dump:
            loaded = subprocess.run(["psql", "-X", "-q", "-v", "ON_ERROR_STOP=1", "--dbname",
                                     env["LIUHEN_DATABASE_URL"]], input=dump.read(),
                                    capture_output=True, timeout=300)
        assert loaded.returncode == 0, loaded.stderr.decode()[-3000:]

        def connect():
            return psycopg.connect(env["LIUHEN_DATABASE_URL"])
    else:
        env.pop("LIUHEN_DATABASE_URL", None)
        with gzip.open(FIXTURE, "rb") as src, open(data_dir / "liuhen.sqlite3", "wb") as dst:
            shutil.copyfileobj(src, dst)

        def connect():
            return sqlite3.connect(data_dir / "liuhen.sqlite3")
    yield env, connect
    if database:
        pg_admin(f'DROP DATABASE IF EXISTS "{database}" WITH (FORCE)')


def _old_facts(connect) -> dict:
    """What the old database holds that the upgrade must keep (read before it migrates)."""
    conn = connect()
    try:
        def rows(sql):
            cursor = conn.cursor()
            cursor.execute(sql)
            return cursor.fetchall()

        return {
            "counts": {t: rows(f"SELECT COUNT(*) FROM {t}")[0][0]  # noqa: S608
                       for t in MOVED_TABLES},
            "chain": rows("SELECT COUNT(*) FROM audit_auditentry")[0][0],
            "stages": dict(rows("SELECT id, stage FROM cases_case")),
            "logs": rows("SELECT COUNT(*) FROM cases_stagelog")[0][0],
            "append_function": rows("SELECT COUNT(*) FROM pg_proc WHERE proname = "
                                    "'liuhen_audit_append'")[0][0] if _on_postgresql() else 0,
        }
    finally:
        conn.close()


def _run(env, *args) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, *args], env=env, cwd=ROOT, capture_output=True,
                          text=True, timeout=600)


@pytest.mark.slow
def test_database_of_the_old_code_migrates_forward(legacy_env):
    env, connect = legacy_env
    old = _old_facts(connect)
    expected, chain, old_stages, old_logs = (old["counts"], old["chain"], old["stages"],
                                             old["logs"])
    assert all(expected.values()), expected  # the fixture has rows of every moved model
    # on PostgreSQL the old release's own append function (audit 0003) is there to upgrade
    assert old["append_function"] == (1 if _on_postgresql() else 0)

    kept = Path(env["LIUHEN_DATA_DIR"]) / "old-release.json"
    result = _run(env, "-m", "liuhen.web.tests.legacy_migrate", "--before", str(kept))
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

    if _on_postgresql():
        # Every migration since the old release has a reverse (test_migrations_reverse): undone
        # on this upgraded database, the schema is the old release's again: tables, columns,
        # indexes, constraints, and its PL/pgSQL append function (audit 0003) word for word
        # (md5 of the source). One documented difference: reversed, the trigger generator's
        # migrations (audit 0004 and the like) keep the generated immutability triggers instead
        # of the old release's names; the old release's database stays protected by them.
        back = _run(env, "-m", "liuhen.web.tests.legacy_migrate", "--back", str(kept))
        assert back.returncode == 0, back.stderr[-3000:]
        undone = json.loads(back.stdout.split("REPORT ", 1)[1])
        diff = undone["diff"]
        assert set(diff) <= {"triggers", "functions"}, diff
        assert not [row for row in diff.get("functions", []) if "liuhen_audit_append" in row], diff
        with connect() as conn, conn.cursor() as cursor:
            with pytest.raises(Exception, match="append-only"):
                cursor.execute("UPDATE audit_auditentry SET reason = 'x' WHERE seq = 1")
