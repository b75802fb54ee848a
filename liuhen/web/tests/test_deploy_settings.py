"""The documented production setting behind a TLS reverse proxy (docs/deployment-tls.md,
issue 16 item 14): `liuhen check --deploy` is clean with it, and plain HTTP is redirected."""

from __future__ import annotations

import os
import subprocess
import sys


def _check_deploy(tmp_path, **env):
    clean = {k: v for k, v in os.environ.items()
             if not k.startswith("LIUHEN_") and k != "DJANGO_SETTINGS_MODULE"}
    clean.update({"LIUHEN_DATA_DIR": str(tmp_path), **env})
    return subprocess.run(
        [sys.executable, "-m", "liuhen", "check", "--deploy", "--fail-level", "WARNING"],
        env=clean, capture_output=True, text=True, timeout=120)


def test_check_deploy_is_clean_behind_the_tls_proxy(tmp_path):
    result = _check_deploy(tmp_path, LIUHEN_BEHIND_TLS_PROXY="1",
                           LIUHEN_ALLOWED_HOSTS="liuhen.example.gov.cn")
    assert result.returncode == 0, result.stdout + result.stderr


def test_check_deploy_warns_without_it(tmp_path):
    """So the test above can fail: the same check names HSTS and the redirect without it."""
    result = _check_deploy(tmp_path)
    assert result.returncode != 0
    assert "security.W004" in result.stderr + result.stdout
