"""Start-up loads no library that only a copy, a preview or a disc needs (core.lazy, issue 9:
every web worker, job worker, ``liuhen ingest`` run and CLI command pays each import)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from liuhen.core.lazy import lazy_module

ROOT = Path(__file__).resolve().parents[3]
HEAVY = ("numpy", "cv2", "pypdf", "pycdlib")

STARTED = """
import json, os, sys
os.environ["DJANGO_SETTINGS_MODULE"] = "liuhen.settings_test"
import django
django.setup()
from django.urls import get_resolver
get_resolver().url_patterns  # every view module, as a web worker loads them
from liuhen.disclosure import copies, services  # the copy and preview code itself
from liuhen.packaging import disc, readback
print(json.dumps({name: name in sys.modules for name in sys.argv[1:]}))
"""


def test_a_started_process_has_not_imported_numpy_opencv_pypdf_or_pycdlib(tmp_path):
    env = {**os.environ, "PYTHONPATH": str(ROOT), "LIUHEN_DATA_DIR": str(tmp_path)}
    out = subprocess.run([sys.executable, "-c", STARTED, *HEAVY], env=env, capture_output=True,
                         text=True, check=True, timeout=120).stdout
    assert json.loads(out.strip().splitlines()[-1]) == dict.fromkeys(HEAVY, False)


def test_a_lazy_module_is_the_module_once_read():
    import colorsys  # a small stdlib module, already importable

    lazy = lazy_module("colorsys")
    assert "not loaded yet" in repr(lazy)
    assert lazy.rgb_to_hsv(1.0, 0.0, 0.0) == colorsys.rgb_to_hsv(1.0, 0.0, 0.0)
    assert lazy.rgb_to_hsv is colorsys.rgb_to_hsv and "loaded" in repr(lazy)
    missing = lazy_module("liuhen_no_such_module")
    with pytest.raises(ModuleNotFoundError) as caught:
        getattr(missing, "anything")  # noqa: B009 - the read that loads it
    assert caught.value.name == "liuhen_no_such_module"
