"""First start (issue 13 item 6): the Makefile installs with uv (from the PATH, or put into the
virtualenv by pip first) and with pip where uv cannot be had or NO_UV=1, from the same
pyproject.toml; `liuhen serve` renders one PDF before gunicorn forks its web workers, so they
start with the PDF library and fonts loaded and the first document after a start is quick.
(The timings: bench/bench_first_start.py, bench/bench_first_pdf.py.)"""

from __future__ import annotations

import os
import shutil
import subprocess
import time
from pathlib import Path

import pytest

from liuhen.web.management.commands import serve

ROOT = Path(__file__).resolve().parents[3]


def _install(tmp_path, *, uv: bool, extra=()):
    (tmp_path / "pyproject.toml").write_text("")
    shutil.copy(ROOT / "Makefile", tmp_path / "Makefile")
    fakebin = tmp_path / "fakebin"
    fakebin.mkdir()
    log = tmp_path / "uv.log"
    if uv:
        (fakebin / "uv").write_text(
            f'#!/bin/sh\necho "$*" >> {log}\n[ "$1" = venv ] && mkdir -p .venv/bin\nexit 0\n'
        )
        (fakebin / "uv").chmod(0o755)
    env = {**os.environ, "PATH": f"{fakebin}:{os.environ['PATH']}"}
    result = subprocess.run(
        ["make", "--no-print-directory", ".venv/bin/.installed", *extra],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    return result, (log.read_text() if log.exists() else "")


@pytest.mark.skipif(shutil.which("make") is None, reason="make is not installed")
def test_makefile_uses_uv_when_installed_and_pip_otherwise(tmp_path):
    (tmp_path / "uv").mkdir()
    result, calls = _install(tmp_path / "uv", uv=True)
    assert result.returncode == 0, result.stderr
    # The virtualenv is python's own (pip inside it, for `pip install X` and as the fallback);
    # uv, found on the PATH, installs the project into it.
    assert "-m venv .venv" in result.stdout and (tmp_path / "uv/.venv/bin/pip").exists()
    assert not any(line.startswith("venv") for line in calls.splitlines())
    assert "pip install -q --python .venv/bin/python -e .[test]" in calls
    # Without uv (or with NO_UV=1) it is python -m venv and pip; a failing step stops make.
    for extra in ((), ("NO_UV=1",)):
        where = tmp_path / f"pip{len(extra)}"
        where.mkdir()
        result, calls = _install(where, uv=bool(extra), extra=("PYTHON=/bin/false", *extra))
        assert result.returncode != 0 and "/bin/false -m venv .venv" in result.stdout
        assert calls == "" and not (where / ".venv/bin/.installed").exists()


def _mapped(pid: int, library: str) -> bool:
    return library in Path(f"/proc/{pid}/maps").read_text()


def _forked_workers(pid: int) -> list[int]:
    """gunicorn's workers: children that run the master's own command line (forked, not
    started anew as `liuhen supervise` is)."""
    command = Path(f"/proc/{pid}/cmdline").read_bytes()
    children = [
        int(c)
        for task in Path(f"/proc/{pid}/task").iterdir()
        for c in (task / "children").read_text().split()
    ]
    return [c for c in children if Path(f"/proc/{c}/cmdline").read_bytes() == command]


def test_serve_warms_the_pdf_fonts_in_this_process(monkeypatch):
    assert serve._warm_pdf_fonts() > 0
    monkeypatch.setenv("LIUHEN_WARM_PDF_FONTS", "0")
    assert serve._warm_pdf_fonts() is None


@pytest.mark.skipif(not Path("/proc/self/maps").exists(), reason="reads /proc")
def test_web_workers_start_with_the_pdf_library_loaded(server_process):
    """The warm-up happens in the gunicorn master before the fork: a web worker has Pango
    mapped before it has rendered anything (a warm-up in another process left every worker
    to load it on its first PDF: 7-10 s after a start, issue 13 item 6)."""
    server = server_process({"LIUHEN_WARM_PDF_FONTS": "1"}).start(workers=1)
    deadline = time.time() + 30
    while not (workers := _forked_workers(server.proc.pid)) and time.time() < deadline:
        time.sleep(0.1)
    assert len(workers) == 1, workers
    assert _mapped(server.proc.pid, "libpango-1.0") and _mapped(workers[0], "libpango-1.0")
