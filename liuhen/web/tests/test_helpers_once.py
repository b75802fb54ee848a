"""Test helpers and test servers once (issue 16 item 22).

- What several test files need lives in the root ``conftest.py`` and nowhere else: the page
  client (``logged_in``), the newest audit entry (``last_entry``), the login form and TOTP code,
  the browser, the vault, the superuser, the factories' password, the PostgreSQL admin
  connection. A second definition is a copy that drifts (the suite had up to eight of some).
- A server no test stops is started once per session, not once per test or module: moto's S3
  server (each test makes a bucket of its own); the demo's data (``liuhen demo``, 45-80 s of a
  loaded machine each time) is made once per session and copied for each server that wants it
  (``server_process(demo=True)``), so a test that writes still has data of its own.

Read from the source, as a reviewer would: these fail on a copy before it is merged.
"""

from __future__ import annotations

import re
from pathlib import Path

from conftest import ROOT

TEST_FILES = sorted(path for path in (ROOT / "liuhen").rglob("*.py")
                    if "tests" in path.relative_to(ROOT).parts
                    and path != Path(__file__).resolve())  # this file names what it looks for
# name → what it is; defined once, in the root conftest (a fixture that overrides the root's to
# make it autouse, ``def vault(vault)``, takes it as its argument and is not a copy).
SHARED = {
    "logged_in": "a page client logged in as an officer",
    "last_entry": "the newest audit entry (of an action)",
    "login_post": "log in through the login form",
    "totp_code": "an authenticator's current code",
    "browser": "Chromium through Playwright",
    "browser_login": "log in in the browser",
    "vault": "the test's own evidence and upload folders",
    "superuser": "a Django superuser",
    "pg_admin": "CREATE / DROP DATABASE on the test PostgreSQL",
    "free_port": "a free TCP port on loopback",
}


def _text(path):
    return path.read_text(encoding="utf-8")


def test_shared_helpers_are_defined_only_in_the_root_conftest():
    copies = []
    for path in TEST_FILES:
        for match in re.finditer(r"^\s*def (_?)(\w+)\(([^)]*)\)", _text(path), re.MULTILINE):
            name, arguments = match.group(2), match.group(3)
            if name in SHARED and not re.match(rf"\s*{name}\b", arguments):
                copies.append(f"{path.relative_to(ROOT)}: def {match.group(1)}{name}")
    assert copies == [], f"use the root conftest's helper instead: {copies}"


def test_the_factories_password_is_written_once():
    # org.tests.factories.UserFactory's password; tests import it as conftest.FACTORY_PASSWORD
    written = [str(path.relative_to(ROOT)) for path in TEST_FILES
               if '"correct-horse-42"' in _text(path)]
    assert written == ["liuhen/org/tests/factories.py"], written
    assert '"correct-horse-42"' in _text(ROOT / "conftest.py")


def test_no_test_makes_the_demo_data_again():
    """``liuhen demo`` runs once per session (conftest ``_template``); a test's server gets a
    copy with ``server_process(demo=True)``."""
    again = [str(path.relative_to(ROOT)) for path in TEST_FILES
             if re.search(r"""\.manage\(\s*["']demo["']""", _text(path))]
    assert again == [], again


def test_servers_no_test_stops_start_once_per_session():
    conftest = _text(ROOT / "liuhen" / "evidence" / "tests" / "conftest.py")
    assert re.search(r'@pytest\.fixture\(scope="session"\)\ndef moto_url\(', conftest)
    # ... and nothing but its own fixture stops it
    stopped = [str(path.relative_to(ROOT)) for path in TEST_FILES
               if "ThreadedMotoServer" in _text(path)]
    assert stopped == ["liuhen/evidence/tests/conftest.py"], stopped
