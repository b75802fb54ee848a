"""Settings come from LIUHEN_* variables; a bad value stops start-up with a message naming the
variable and what to set (STYLE.md: settings). SQLite runs in WAL mode by default;
LIUHEN_DATABASE_URL=postgres://… switches to PostgreSQL."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
from django.core.exceptions import ImproperlyConfigured

from conftest import start_together
from liuhen import conf

ROOT = Path(__file__).resolve().parents[3]


def _liuhen(tmp_path, *args, **env):
    base = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith("LIUHEN_") and k != "DJANGO_SETTINGS_MODULE"
    }
    base.update({"LIUHEN_DATA_DIR": str(tmp_path / "var"), **env})
    return subprocess.run(
        [sys.executable, "-m", "liuhen", *args],
        env=base,
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,
    )


@pytest.mark.parametrize(
    ("name", "value", "hint"),
    [
        ("LIUHEN_LOCKOUT_FAILURES", "five", "whole number"),
        ("LIUHEN_DEBUG", "maybe", "true or false"),
        ("LIUHEN_TASKS", "celery", "db, rq, immediate"),
        ("LIUHEN_DATABASE_URL", "mysql://root@localhost/liuhen", "postgres://"),
    ],
)
def test_bad_value_stops_startup_naming_the_variable(tmp_path, name, value, hint):
    result = _liuhen(tmp_path, "check", **{name: value})
    assert result.returncode == 2, result.stdout + result.stderr
    assert name in result.stderr and hint in result.stderr
    assert "配置错误" in result.stderr and "Traceback" not in result.stderr


def test_good_environment_passes_check_and_sqlite_is_in_wal_mode(tmp_path):
    result = _liuhen(
        tmp_path,
        "shell",
        "-c",
        "from django.db import connection; c = connection.cursor(); "
        "c.execute('PRAGMA journal_mode'); print(c.fetchone()[0]); "
        "c.execute('PRAGMA cache_size'); print(c.fetchone()[0]); "
        "print(connection.settings_dict['NAME'])",
    )
    assert result.returncode == 0, result.stderr
    mode, cache, name = result.stdout.split()[-3:]
    assert mode == "wal" and name == str(tmp_path / "var" / "liuhen.sqlite3")
    assert cache == "-32768"  # 32 MiB, not SQLite's 2 MiB default


@pytest.mark.parametrize(
    ("name", "value", "reader"),
    [
        ("LIUHEN_X", "12k", lambda: conf.env_int("LIUHEN_X", 1)),
        ("LIUHEN_X", "-3", lambda: conf.env_int("LIUHEN_X", 1, minimum=1)),
        ("LIUHEN_X", "yes please", lambda: conf.env_bool("LIUHEN_X", False)),
        ("LIUHEN_X", "64 parsecs", lambda: conf.env_size("LIUHEN_X", 1)),
        ("LIUHEN_X", "-1G", lambda: conf.env_size("LIUHEN_X", 1)),
        ("LIUHEN_X", "ftp", lambda: conf.env_choice("LIUHEN_X", "db", ("db", "rq"))),
        ("LIUHEN_SECRET_KEY", "short", lambda: conf.secret_key(Path("/nonexistent"))),
    ],
)
def test_readers_refuse_bad_values(monkeypatch, name, value, reader):
    monkeypatch.setenv(name, value)
    with pytest.raises(ImproperlyConfigured, match=name):
        reader()


def test_readers_parse_good_values(monkeypatch):
    monkeypatch.setenv("LIUHEN_X", " 1_000 ")
    assert conf.env_int("LIUHEN_X", 1) == 1000
    monkeypatch.setenv("LIUHEN_X", "64GiB")
    assert conf.env_size("LIUHEN_X", 1) == 64 * 1024**3
    monkeypatch.setenv("LIUHEN_X", "1.5m")
    assert conf.env_size("LIUHEN_X", 1) == int(1.5 * 1024**2)
    monkeypatch.setenv("LIUHEN_X", "Off")
    assert conf.env_bool("LIUHEN_X", True) is False
    monkeypatch.setenv("LIUHEN_X", "GOVERNANCE")
    assert conf.env_choice("LIUHEN_X", "COMPLIANCE", ("COMPLIANCE", "GOVERNANCE")) == ("GOVERNANCE")
    monkeypatch.setenv("LIUHEN_X", "governance")
    assert conf.env_choice("LIUHEN_X", "COMPLIANCE", ("COMPLIANCE", "GOVERNANCE")) == ("GOVERNANCE")
    monkeypatch.setenv("LIUHEN_X", "a, b,,c ")
    assert conf.env_list("LIUHEN_X", []) == ["a", "b", "c"]
    monkeypatch.delenv("LIUHEN_X")
    assert conf.env_int("LIUHEN_X", 7) == 7 and conf.env_bool("LIUHEN_X", True) is True


def test_database_url_switches_engine(tmp_path, monkeypatch):
    monkeypatch.delenv("LIUHEN_TEST_DATABASE_NAME", raising=False)
    sqlite = conf.database("", tmp_path)
    assert sqlite["ENGINE"] == "django.db.backends.sqlite3"
    assert "journal_mode=WAL" in sqlite["OPTIONS"]["init_command"]
    assert sqlite["OPTIONS"]["transaction_mode"] == "IMMEDIATE"
    # Kept per server thread, not opened (PRAGMAs, schema parse) for every request (issue 9).
    assert sqlite["CONN_MAX_AGE"] == 60
    pg = conf.database("postgres://liuhen:pw@db.example:5433/liuhen", tmp_path)
    assert pg["ENGINE"] == "django.db.backends.postgresql"
    assert (pg["HOST"], pg["PORT"], pg["NAME"], pg["USER"]) == (
        "db.example",
        5433,
        "liuhen",
        "liuhen",
    )
    monkeypatch.setenv("LIUHEN_TEST_DATABASE_NAME", "liuhen_test_x")
    assert conf.database("postgresql://u@h/d", tmp_path)["TEST"] == {"NAME": "liuhen_test_x"}
    for bad in ("mysql://u@h/d", "oracle://x", "http://example.com"):
        with pytest.raises(ImproperlyConfigured, match="LIUHEN_DATABASE_URL"):
            conf.database(bad, tmp_path)


def test_the_running_suite_uses_the_database_it_was_given(db):
    from django.db import connection

    url = os.environ.get("LIUHEN_DATABASE_URL", "")
    assert connection.vendor == ("postgresql" if url.startswith("postgres") else "sqlite")


def test_multi_node_refuses_a_key_of_its_own(monkeypatch, tmp_path):
    """Issue 14 item 4: each node generating its own key logged users out on the other node."""
    monkeypatch.delenv("LIUHEN_SECRET_KEY", raising=False)
    monkeypatch.delenv("LIUHEN_SECRET_KEY_FILE", raising=False)
    monkeypatch.setenv("LIUHEN_MULTI_NODE", "true")
    with pytest.raises(ImproperlyConfigured, match="LIUHEN_SECRET_KEY"):
        conf.secret_key(tmp_path)
    assert not (tmp_path / "secret_key").exists()  # nothing generated
    shared = tmp_path / "shared-key"
    shared.write_text("k" * 40 + "\n")
    monkeypatch.setenv("LIUHEN_SECRET_KEY_FILE", str(shared))
    assert conf.secret_key(tmp_path) == "k" * 40
    monkeypatch.setenv("LIUHEN_SECRET_KEY_FILE", str(tmp_path / "missing"))
    with pytest.raises(ImproperlyConfigured, match="LIUHEN_SECRET_KEY_FILE"):
        conf.secret_key(tmp_path)
    monkeypatch.setenv("LIUHEN_SECRET_KEY", "s" * 40)
    assert conf.secret_key(tmp_path) == "s" * 40
    monkeypatch.delenv("LIUHEN_MULTI_NODE")
    monkeypatch.delenv("LIUHEN_SECRET_KEY")
    monkeypatch.delenv("LIUHEN_SECRET_KEY_FILE")
    single = conf.secret_key(tmp_path / "single")  # one node: a key of its own, kept
    assert single == (tmp_path / "single" / "secret_key").read_text()


RACE = """
import sys
from pathlib import Path
from liuhen import conf
print("ready", flush=True)
sys.stdin.readline()
print(conf.secret_key(Path(sys.argv[1])))
"""


def test_processes_starting_together_on_an_empty_data_folder_share_one_key(tmp_path):
    """`liuhen serve` starts its web workers, job worker and scheduler at once; on a fresh data
    folder each used to try to create the key, and all but one failed with FileExistsError
    (seen in CI, 2026-12-05, test_four_processes_append_without_breaking_the_chain)."""
    env = {k: v for k, v in os.environ.items()
           if k not in ("LIUHEN_SECRET_KEY", "LIUHEN_SECRET_KEY_FILE", "LIUHEN_MULTI_NODE")}
    env["PYTHONPATH"] = str(ROOT)
    for trial in range(3):
        data = tmp_path / f"var{trial}"
        keys = set(start_together(RACE, [[str(data)]] * 8, env))
        assert keys == {(data / "secret_key").read_text()}
        assert len(next(iter(keys))) >= 32
        assert [p.name for p in data.iterdir()] == ["secret_key"]  # no temporary file left
        assert (data / "secret_key").stat().st_mode & 0o777 == 0o600


def test_multi_node_start_up_says_what_to_set(tmp_path):
    import os
    import subprocess
    import sys

    env = {k: v for k, v in os.environ.items() if not k.startswith("LIUHEN_")}
    env.update({"LIUHEN_DATA_DIR": str(tmp_path / "var"), "LIUHEN_MULTI_NODE": "true",
                "DJANGO_SETTINGS_MODULE": "liuhen.settings"})
    result = subprocess.run([sys.executable, "-m", "liuhen", "check"], env=env,
                            capture_output=True, text=True, timeout=120)
    assert result.returncode == 2
    assert "LIUHEN_MULTI_NODE=true needs one key for every node" in result.stderr
