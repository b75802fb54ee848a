"""Typed readers for LIUHEN_* environment variables: the one place settings are parsed.

A bad value stops start-up with ImproperlyConfigured naming the variable and what to set.
"""

from __future__ import annotations

import os
import secrets
from pathlib import Path

from django.core.exceptions import ImproperlyConfigured

from liuhen.core import files

_TRUE = {"1", "true", "yes", "on"}
_FALSE = {"0", "false", "no", "off", ""}


def _raw(name: str) -> str | None:
    value = os.environ.get(name)
    return value.strip() if value is not None else None


def env_str(name: str, default: str) -> str:
    value = _raw(name)
    return default if value in (None, "") else value


def env_bool(name: str, default: bool) -> bool:
    value = _raw(name)
    if value is None:
        return default
    if value.lower() in _TRUE:
        return True
    if value.lower() in _FALSE:
        return False
    raise ImproperlyConfigured(f"{name}={value!r} is not a boolean: set it to true or false.")


def env_int(name: str, default: int, *, minimum: int | None = None) -> int:
    value = _raw(name)
    if value in (None, ""):
        return default
    try:
        number = int(value.replace("_", ""))
    except ValueError:
        raise ImproperlyConfigured(f"{name}={value!r} is not a whole number: set e.g. {name}={default}.")
    if minimum is not None and number < minimum:
        raise ImproperlyConfigured(f"{name}={number} is below the minimum {minimum}.")
    return number


_SIZE_UNITS = {"": 1, "B": 1, "K": 1024, "KB": 1024, "KIB": 1024, "M": 1024**2, "MB": 1024**2,
               "MIB": 1024**2, "G": 1024**3, "GB": 1024**3, "GIB": 1024**3, "T": 1024**4,
               "TB": 1024**4, "TIB": 1024**4}


def env_size(name: str, default: int) -> int:
    """A byte size such as 64GiB, 500M or 1048576."""
    value = _raw(name)
    if value in (None, ""):
        return default
    text = value.upper().replace(" ", "")
    digits = text.rstrip("KMGTIB")
    unit = text[len(digits):]
    try:
        number = float(digits)
    except ValueError:
        number = -1
    if number < 0 or unit not in _SIZE_UNITS:
        raise ImproperlyConfigured(f"{name}={value!r} is not a size: set e.g. {name}=64GiB.")
    return int(number * _SIZE_UNITS[unit])


def env_list(name: str, default: list[str]) -> list[str]:
    value = _raw(name)
    if value is None:
        return default
    return [item.strip() for item in value.split(",") if item.strip()]


def env_choice(name: str, default: str, choices: tuple[str, ...]) -> str:
    # Case-insensitive, answering the spelling of ``choices`` (some are upper case, e.g. S3 modes).
    value = env_str(name, default)
    for choice in choices:
        if value.lower() == choice.lower():
            return choice
    raise ImproperlyConfigured(f"{name}={value!r} is not allowed: set one of {', '.join(choices)}.")


def env_path(name: str, default: Path) -> Path:
    value = _raw(name)
    path = Path(value).expanduser() if value else default
    return path.resolve()


def secret_key(data_dir: Path) -> str:
    """LIUHEN_SECRET_KEY, else LIUHEN_SECRET_KEY_FILE, else a random key kept in the data folder
    so sessions survive restarts.

    With several nodes (LIUHEN_MULTI_NODE=true) a key per data folder would log a user out
    whenever the load balancer picks the other node (issue 14 item 4): there the key must come
    from the environment or a file every node reads, and start-up stops without one.
    """
    value = _raw("LIUHEN_SECRET_KEY")
    key_path = _raw("LIUHEN_SECRET_KEY_FILE")
    if not value and key_path:
        try:
            value = Path(key_path).expanduser().read_text(encoding="utf-8").strip()
        except OSError as exc:
            raise ImproperlyConfigured(
                f"LIUHEN_SECRET_KEY_FILE={key_path!r} cannot be read ({exc.strerror}).") from None
    if value:
        if len(value) < 32:
            raise ImproperlyConfigured("LIUHEN_SECRET_KEY is too short: set at least 32 random characters.")
        return value
    if env_bool("LIUHEN_MULTI_NODE", False):
        raise ImproperlyConfigured(
            "LIUHEN_MULTI_NODE=true needs one key for every node: set LIUHEN_SECRET_KEY (at least "
            "32 random characters, the same on every node) or LIUHEN_SECRET_KEY_FILE (a file on a "
            "path every node reads). See docs/scale-out.md.")
    key_file = data_dir / "secret_key"
    if key_file.exists():
        return key_file.read_text().strip()
    key = secrets.token_urlsafe(50)
    if not files.create_once(key_file, key.encode()):  # another process made it first
        return key_file.read_text().strip()
    return key


def database(url: str | None, data_dir: Path) -> dict:
    """SQLite in WAL mode under the data folder by default; postgres://… switches to PostgreSQL."""
    if not url:
        return {
            "ENGINE": "django.db.backends.sqlite3",
            "NAME": str(data_dir / "liuhen.sqlite3"),
            "OPTIONS": {
                # WAL lets readers run while one writer appends; IMMEDIATE takes the write lock
                # at BEGIN so two writers never deadlock on the audit chain's head.
                "transaction_mode": "IMMEDIATE",
                "timeout": 30,
                # A 32 MiB page cache per connection (SQLite's default is 2 MiB) and reads through
                # mmap keep the list indexes of a million recordings in memory.
                "init_command": (
                    "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL; "
                    "PRAGMA foreign_keys=ON; PRAGMA busy_timeout=30000; "
                    "PRAGMA cache_size=-32768; PRAGMA mmap_size=268435456;"
                ),
            },
            # Kept open by each server thread for a minute, as PostgreSQL's are below: a new
            # SQLite connection runs the PRAGMAs above and parses the whole schema (368 tables,
            # indexes and triggers) before its first query, about 3.7 ms of CPU; with one per
            # request that was a tenth of the server's CPU for a 4 MiB-chunk tus upload (one
            # PATCH, one connection; issue 9 item 1) and every page paid it too.
            "CONN_MAX_AGE": 60,
            "TEST": {"NAME": os.environ.get("LIUHEN_TEST_SQLITE_NAME") or None},
        }
    import dj_database_url  # only a PostgreSQL URL needs the parser

    try:
        config = dj_database_url.parse(url, conn_max_age=60)
    except Exception as exc:  # dj_database_url raises several types for a bad URL
        raise ImproperlyConfigured(
            f"LIUHEN_DATABASE_URL is not a database URL ({exc}): set e.g. "
            "postgres://user@127.0.0.1:5432/liuhen"
        )
    if config.get("ENGINE") not in ("django.db.backends.postgresql", "django.db.backends.sqlite3"):
        raise ImproperlyConfigured("LIUHEN_DATABASE_URL must start with postgres:// or sqlite:///.")
    test_name = os.environ.get("LIUHEN_TEST_DATABASE_NAME")
    if test_name:
        config["TEST"] = {"NAME": test_name}
    return config
