"""Outages answer 503, not a generic 500 (issue 16 item 4): a stopped PostgreSQL (an instance
this test starts itself with initdb/pg_ctl on a port of its own, never the shared one) and a
full disk under SQLite. API and tus clients get ``{code, message}`` JSON with Retry-After; pages
get a Chinese page saying the system is temporarily unavailable and nothing was lost; the log
names the cause."""

from __future__ import annotations

import os
import shutil
import subprocess
import tempfile
import time
from pathlib import Path

import pytest
import requests
from django.db import OperationalError, connection
from django.test import Client

from conftest import free_port
from liuhen.core.outage import outage_cause
from liuhen.evidence.tests.test_tus import _meta

PG_BIN = Path("/usr/lib/postgresql/15/bin")


def test_causes_are_told_apart():
    assert outage_cause(OperationalError("connection refused")) == "database_unavailable"
    assert outage_cause(OperationalError("database or disk is full")) == "disk_full"
    assert outage_cause(OSError(28, "No space left on device")) == "disk_full"
    wrapped = RuntimeError("while saving")
    wrapped.__cause__ = OperationalError("server closed the connection unexpectedly")
    assert outage_cause(wrapped) == "database_unavailable"
    assert outage_cause(ValueError("a bug")) is None
    assert outage_cause(OSError(13, "Permission denied")) is None


def _assert_json_503(response, code: str) -> None:
    assert response.status_code == 503, response.content[:300]
    assert response["Retry-After"] == "30"
    assert response["Content-Type"].startswith("application/json")
    body = response.json()
    assert body["code"] == code and "数据未丢失" in body["message"]


def _fill_the_disk(limit: int | None) -> None:
    """SQLite's SQLITE_FULL, as a full disk gives it: no page may be added to the database."""
    with connection.cursor() as cursor:
        if limit is None:
            cursor.execute("PRAGMA page_count")
            limit = cursor.fetchone()[0]
        cursor.execute(f"PRAGMA max_page_count = {limit}")


@pytest.mark.django_db
def test_a_full_disk_answers_503_to_api_tus_and_pages(people, caplog):
    if connection.vendor != "sqlite":
        pytest.skip("the full-disk simulation is SQLite's max_page_count; PostgreSQL: below")
    from liuhen.access.services import create_token

    token = create_token(user=people["officer_a"].user, name="采集站")[1]
    client = Client(raise_request_exception=False)
    caplog.set_level("ERROR", logger="liuhen.outage")
    _fill_the_disk(None)
    try:
        # Rows fit in the last page until it is full, as on a filling disk: write until then.
        for _ in range(200):
            tus = client.post("/api/uploads/", headers={
                "Authorization": f"Bearer {token}", "Tus-Resumable": "1.0.0",
                "Upload-Length": "10", "Upload-Metadata": _meta(filename="DSJ001.MP4")})
            if tus.status_code == 503:
                break
        _assert_json_503(tus, "disk_full")
        assert tus["Tus-Resumable"] == "1.0.0"
    finally:
        _fill_the_disk(4294967294)
    assert "outage: disk_full" in caplog.text and "POST /api/uploads/" in caplog.text


@pytest.mark.django_db
def test_pages_answer_the_chinese_503_page(people, monkeypatch, caplog):
    """A page whose session cannot be read (the error SQLite gives on a full disk) gets the
    Chinese page, rendered without the database (no menu, no user)."""
    from django.contrib.sessions.backends.db import SessionStore

    def full(self):
        raise OperationalError("database or disk is full")

    monkeypatch.setattr(SessionStore, "load", full)
    client = Client(raise_request_exception=False)
    client.cookies["sessionid"] = "x" * 32
    caplog.set_level("ERROR", logger="liuhen.outage")
    page = client.get("/")
    assert page.status_code == 503 and page["Retry-After"] == "30"
    html = page.content.decode()
    assert "系统暂时不可用，数据未丢失" in html and "存储空间已满" in html
    assert "outage: disk_full (OperationalError: database or disk is full)" in caplog.text


class OwnPostgres:
    """A PostgreSQL cluster of this test's own (initdb, pg_ctl) on a free port, which the test
    stops and starts; never the shared server. As root, it runs as the postgres user."""

    def __init__(self):
        if not (PG_BIN / "initdb").exists():
            pytest.fail(f"PostgreSQL's initdb is not installed at {PG_BIN}")
        self.folder = Path(tempfile.mkdtemp(prefix="liuhen-pg-"))
        self.data = self.folder / "data"
        self.port = free_port()
        self.as_user = ["runuser", "-u", "postgres", "--"] if os.geteuid() == 0 else []
        if self.as_user:
            shutil.chown(self.folder, "postgres", "postgres")
        self._run("initdb", "-D", str(self.data), "-A", "trust", "-U", "postgres", "-E", "UTF8",
                  "--no-sync")
        self.url = f"postgres://postgres@127.0.0.1:{self.port}/liuhen"

    def _run(self, tool: str, *args: str) -> None:
        subprocess.run([*self.as_user, str(PG_BIN / tool), *args], check=True,
                       capture_output=True, timeout=120)

    def start(self) -> OwnPostgres:
        self._run("pg_ctl", "-D", str(self.data), "-w", "-l", str(self.folder / "log"),
                  "-o", f"-p {self.port} -k {self.folder} -c listen_addresses=127.0.0.1 "
                        "-c fsync=off", "start")
        return self

    def createdb(self) -> None:
        self._run("createdb", "-h", "127.0.0.1", "-p", str(self.port), "-U", "postgres",
                  "liuhen")

    def stop(self) -> None:
        self._run("pg_ctl", "-D", str(self.data), "-w", "-m", "fast", "stop")

    def remove(self) -> None:
        try:
            self.stop()
        except subprocess.CalledProcessError:
            pass
        shutil.rmtree(self.folder, ignore_errors=True)


@pytest.mark.slow
def test_a_stopped_postgresql_answers_503(server_process):
    pg = OwnPostgres().start()
    try:
        pg.createdb()
        server = server_process({"LIUHEN_DATABASE_URL": pg.url}).start()
        token = {"Authorization": "Bearer lh_not-a-real-token"}
        assert requests.get(f"{server.url}/api/cases", headers=token, timeout=30).status_code == 401
        pg.stop()
        api = requests.get(f"{server.url}/api/cases", headers=token, timeout=30)
        tus = requests.post(f"{server.url}/api/uploads/", timeout=30, headers={
            **token, "Tus-Resumable": "1.0.0", "Upload-Length": "10"})
        page = requests.get(f"{server.url}/", cookies={"sessionid": "x" * 32}, timeout=30)
        for response in (api, tus):
            assert response.status_code == 503, response.text[:300]
            assert response.headers["Retry-After"] == "30"
            assert response.json()["code"] == "database_unavailable"
            assert "数据未丢失" in response.json()["message"]
        assert tus.headers["Tus-Resumable"] == "1.0.0"
        assert page.status_code == 503 and "系统暂时不可用，数据未丢失" in page.text
        log = (server.data_dir / "server.log").read_text(errors="replace")
        assert "outage: database_unavailable (OperationalError" in log
        assert "GET /api/cases" in log
        # Back up: answered as before, without restarting the server.
        pg.start()
        deadline = time.time() + 30
        while time.time() < deadline:
            status = requests.get(f"{server.url}/api/cases", headers=token, timeout=30).status_code
            if status == 401:
                break
            time.sleep(0.5)
        assert status == 401
        server.kill()
    finally:
        pg.remove()
