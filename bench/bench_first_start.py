"""Benchmark: the first start, `make run` in a fresh clone until /login/ answers 200 (< 120 s).

    python bench/bench_first_start.py                  # clone of this repository's HEAD
    python bench/bench_first_start.py --ref main --warm-cache
    python bench/bench_first_start.py --repo /work/main --timeout 600

What a new installation does (issue 13, item 6): ``git clone`` into a temporary folder, then
``make run`` there with no virtualenv yet, as a person would type it: system packages checked,
the virtualenv created and the project installed into it (``pip install -e .``, or whatever the
Makefile uses: it is the clone's own virtualenv, never the shared one), ``liuhen migrate``,
``liuhen demo``, ``liuhen serve``. The phases are read from the commands make echoes, each timed
until the next one starts; the last, "server up", runs until the first 200 on ``/login/``.
By default the package caches are switched off (``PIP_NO_CACHE_DIR``, ``UV_NO_CACHE``), as on a
fresh machine; ``--warm-cache`` lets pip and uv use theirs. The environment is cleaned of
``LIUHEN_*``, ``PYTHONPATH`` and ``VIRTUAL_ENV`` (they would point the clone at another tree),
and the server binds a free port (``LIUHEN_BIND``).

Then, with the server just up (``liuhen serve`` renders one PDF before its web workers fork,
so they start with the PDF library and fonts loaded), the first generated PDF: the demo's legal
affairs office (``legal1``) logs in through ``/login/`` and downloads the inspection ledger as
PDF (``/supervision/ledger.pdf``, rendered on request); the time from the request to the last
byte is printed (target < 3 s).

Printed: each phase's wall time and CPU time (the whole process tree under make, from /proc),
the total (target < 120 s) and the load average before and after. No baseline: the target is
absolute; the figures depend on the network and the package index, so the download phase is
printed apart. The server is stopped and the clone removed at the end.
"""

from __future__ import annotations

import argparse
import http.client
import json
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
import _deploy as d  # noqa: E402

TARGET_S = 120.0
PDF_TARGET_S = 3.0
PDF_USER, PDF_URL = "legal1", "/supervision/ledger.pdf"
# make echoes each command before it runs it; the first line matching a pattern starts the
# phase (in this order; a phase is never re-entered).
PHASES = (
    ("venv", re.compile(r"(-m venv|uv venv|virtualenv)\b")),
    ("install", re.compile(r"\b(pip|uv)\b.*\b(install|sync)\b")),
    ("migrate", re.compile(r"\bliuhen migrate\b")),
    ("demo data", re.compile(r"\bliuhen demo\b")),
    ("server up", re.compile(r"\bliuhen serve\b")),
)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def login_ok(port: int) -> bool:
    try:
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=5)
        conn.request("GET", "/login/")
        ok = conn.getresponse().status == 200
        conn.close()
        return ok
    except OSError:
        return False


def first_pdf(port: int, password: str) -> float:
    """Log in as the demo's legal affairs office and time the first PDF (request to last byte)."""
    import http.cookiejar
    import urllib.parse
    import urllib.request

    base = f"http://127.0.0.1:{port}"
    opener = urllib.request.build_opener(
        urllib.request.HTTPCookieProcessor(http.cookiejar.CookieJar()))
    page = opener.open(f"{base}/login/", timeout=60).read().decode()
    token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', page).group(1)
    form = urllib.parse.urlencode({"username": PDF_USER, "password": password,
                                   "csrfmiddlewaretoken": token}).encode()
    request = urllib.request.Request(f"{base}/login/", data=form, headers={"Referer": base})
    opener.open(request, timeout=60).read()
    started = time.perf_counter()
    with opener.open(f"{base}{PDF_URL}", timeout=120) as response:
        body = response.read()
        kind = response.headers.get("Content-Type", "")
    took = time.perf_counter() - started
    if not (kind.startswith("application/pdf") and body.startswith(b"%PDF")):
        raise RuntimeError(f"{PDF_URL} answered {kind!r}, not a PDF (logged in as {PDF_USER}?)")
    return took


def tree_cpu(pid: int) -> float:
    return sum(d.cpu_seconds(p) for p in d.tree(pid))


def first_start(clone: Path, port: int, warm_cache: bool, timeout: float) -> dict:
    env = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith(("LIUHEN_", "DJANGO_")) and k not in ("PYTHONPATH", "VIRTUAL_ENV")
    }
    env["LIUHEN_BIND"] = f"127.0.0.1:{port}"
    if not warm_cache:
        env.update(PIP_NO_CACHE_DIR="1", UV_NO_CACHE="1")
    log = (clone.parent / "make-run.log").open("w")
    started = time.perf_counter()
    proc = subprocess.Popen(
        ["make", "run"],
        cwd=clone,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        start_new_session=True,
    )
    marks: list[tuple[str, float, float]] = [("make (system packages)", 0.0, 0.0)]
    installer: list[str] = []  # the install command make echoed (uv or pip)
    done = threading.Event()

    def read() -> None:
        upcoming = list(PHASES)
        for line in proc.stdout:
            log.write(line)
            log.flush()
            for i, (name, pattern) in enumerate(upcoming):
                if pattern.search(line):
                    marks.append((name, time.perf_counter() - started, tree_cpu(proc.pid)))
                    if name == "install":
                        installer.append(line.strip())
                    del upcoming[: i + 1]
                    break
        done.set()

    reader = threading.Thread(target=read, daemon=True)
    reader.start()
    up = pdf_s = None
    try:
        while time.perf_counter() - started < timeout:
            if login_ok(port):
                up = time.perf_counter() - started
                break
            if proc.poll() is not None:
                break
            time.sleep(0.25)
        end_cpu = tree_cpu(proc.pid)
        if up is not None:
            pdf_s = first_pdf(port, demo_password(clone))
    finally:
        try:
            os.killpg(proc.pid, signal.SIGTERM)
            proc.wait(timeout=30)
        except ProcessLookupError:
            pass
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait()
        done.wait(10)
        log.close()
    if up is None:
        tail = (clone.parent / "make-run.log").read_text()[-4000:]
        raise RuntimeError(
            f"no 200 on /login/ after {time.perf_counter() - started:.0f} s "
            f"(make exited {proc.returncode}):\n{tail}"
        )
    phases = []
    for (name, at, cpu), nxt in zip(marks, [*marks[1:], ("end", up, end_cpu)], strict=True):
        phases.append(
            {
                "phase": name,
                "wall_s": round(nxt[1] - at, 1),
                "cpu_s": round(nxt[2] - cpu, 1),
                "started_at_s": round(at, 1),
            }
        )
    return {
        "total_s": round(up, 1),
        "first_pdf_s": round(pdf_s, 2),
        "installer": installer[0] if installer else "",
        "cpu_s": round(end_cpu, 1),
        "phases": phases,
        "warm_cache": warm_cache,
    }


def demo_password(clone: Path) -> str:
    text = (clone / "liuhen/web/management/commands/demo.py").read_text(encoding="utf-8")
    return re.search(r'^DEMO_PASSWORD = "([^"]+)"', text, re.MULTILINE).group(1)


def pip_sources() -> str:
    """Where pip looks (a local mirror or wheel folder makes "install" much shorter)."""
    out = subprocess.run(
        [sys.executable, "-m", "pip", "config", "list"], capture_output=True, text=True, check=False
    ).stdout
    found = [line for line in out.splitlines() if re.search(r"index-url|find-links", line)]
    return "; ".join(found) or "PyPI only"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repo", default=str(d.ROOT), help="repository to clone (this one)")
    parser.add_argument("--ref", default="HEAD", help="commit or branch to check out (HEAD)")
    parser.add_argument(
        "--warm-cache",
        action="store_true",
        help="let pip/uv use their download caches (a machine that installed before)",
    )
    parser.add_argument("--timeout", type=float, default=900)
    args = parser.parse_args()
    facts = d.header("first start: git clone, then make run until /login/ answers 200")
    work = Path(tempfile.mkdtemp(prefix="liuhen-bench-first-start-"))
    result = {}
    try:
        commit = subprocess.run(
            ["git", "-C", args.repo, "rev-parse", args.ref],
            check=True,
            capture_output=True,
            text=True,
        ).stdout.strip()
        clone = work / "liuhen"
        t0 = time.perf_counter()
        subprocess.run(
            ["git", "clone", "--quiet", "--no-checkout", args.repo, str(clone)], check=True
        )
        subprocess.run(["git", "-C", str(clone), "checkout", "--quiet", commit], check=True)
        cloned = time.perf_counter() - t0
        print(f"   package sources (pip config): {pip_sources()}")
        print(
            f"   cloned {args.repo} at {commit[:10]} in {cloned:.1f} s; caches "
            f"{'warm (allowed)' if args.warm_cache else 'off (fresh machine)'}",
            flush=True,
        )
        result = first_start(clone, free_port(), args.warm_cache, args.timeout)
        result.update(commit=commit, clone_s=round(cloned, 1))
        print(f"   installed with: {result['installer'] or '(no install command seen)'}")
        print(f"   {'phase':<24}{'wall s':>8}{'CPU s':>8}{'from s':>8}")
        for p in result["phases"]:
            print(
                f"   {p['phase']:<24}{p['wall_s']:>8.1f}{p['cpu_s']:>8.1f}{p['started_at_s']:>8.1f}"
            )
        verdict = "met" if result["total_s"] < TARGET_S else "MISSED"
        print(
            f"   total: make run to the first 200 on /login/ {result['total_s']:.1f} s "
            f"(target < {TARGET_S:.0f} s: {verdict}), CPU {result['cpu_s']:.1f} s",
            flush=True,
        )
        verdict = "met" if result["first_pdf_s"] < PDF_TARGET_S else "MISSED"
        print(
            f"   first PDF after start ({PDF_URL} as {PDF_USER}): {result['first_pdf_s']:.2f} s "
            f"(target < {PDF_TARGET_S:.0f} s: {verdict})",
            flush=True,
        )
    finally:
        shutil.rmtree(work, ignore_errors=True)
        d.footer(facts)
    print(json.dumps({**facts, **result}))


if __name__ == "__main__":
    main()
