"""Shared helpers of the vault benchmarks: a throw-away server, people, RSS and baselines.

Not a benchmark itself. Every benchmark runs on its own data folder (and SQLite database) under
a temporary directory, removed at the end, so it can run beside the test suite.
"""

from __future__ import annotations

import json
import os
import shutil
import socket
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

SETUP_SCRIPT = """
import json
from liuhen.access.choices import Role
from liuhen.org.tests.factories import OfficerFactory, UnitFactory
from liuhen.access.services import create_token
from liuhen.devices.models import Device
officer = OfficerFactory(unit=UnitFactory(name="监察一大队"), role=Role.OFFICER)
device = Device.objects.create(number="DSJ-BENCH-1", unit=officer.unit, officer=officer)
token, raw = create_token(user=officer.user, name="bench")
print(json.dumps({"username": officer.user.username, "officer": officer.pk,
                  "device": device.number, "token": raw}))
"""


class Server:
    """``liuhen serve`` (gunicorn, one worker, no job worker, no scheduler: it would only queue
    jobs for the absent worker) on a fresh data folder."""

    def __init__(self, extra_env: dict | None = None) -> None:
        self.dir = Path(tempfile.mkdtemp(prefix="liuhen-bench-"))
        self.env = {k: v for k, v in os.environ.items() if not k.startswith("LIUHEN_")}
        self.env.update({
            "LIUHEN_DATA_DIR": str(self.dir / "var"), "DJANGO_SETTINGS_MODULE": "liuhen.settings",
            "LIUHEN_FAST_PASSWORD_HASHER": "1", "LIUHEN_TASKS": "db",
            "LIUHEN_UPLOAD_MAX_BYTES": str(1 << 40),
        })
        self.env.update(extra_env or {})
        self.proc = None
        self.manage("migrate", "-v0")
        self.people = json.loads(self.manage("shell", "-c", SETUP_SCRIPT).splitlines()[-1])

    def manage(self, *args: str) -> str:
        result = subprocess.run([sys.executable, "-m", "liuhen", *args], env=self.env, cwd=ROOT,
                                capture_output=True, text=True, check=False)
        if result.returncode != 0:
            raise RuntimeError(f"liuhen {' '.join(args)}:\n{result.stdout}\n{result.stderr}")
        return result.stdout

    def start(self) -> Server:
        with socket.socket() as s:
            s.bind(("127.0.0.1", 0))
            self.port = s.getsockname()[1]
        self.url = f"http://127.0.0.1:{self.port}"
        self.log = open(self.dir / "server.log", "ab")
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "liuhen", "serve", "--bind", f"127.0.0.1:{self.port}",
             "--workers", "1", "--no-worker", "--no-scheduler"],
            env=self.env, cwd=ROOT, stdout=self.log, stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        deadline = time.time() + 60
        while time.time() < deadline:
            try:
                with socket.create_connection(("127.0.0.1", self.port), timeout=0.5):
                    return self
            except OSError:
                time.sleep(0.2)
        raise RuntimeError("server did not start")

    def pids(self) -> list[int]:
        """The server process and all its descendants (gunicorn master and worker)."""
        if self.proc is None:
            return []
        found, todo = [], [self.proc.pid]
        while todo:
            pid = todo.pop()
            found.append(pid)
            try:
                children = Path(f"/proc/{pid}/task/{pid}/children").read_text().split()
            except OSError:
                children = []
            todo += [int(c) for c in children]
        return found

    def stop(self) -> None:
        if self.proc is not None:
            import signal

            try:
                os.killpg(self.proc.pid, signal.SIGTERM)
                self.proc.wait(timeout=15)
            except (ProcessLookupError, subprocess.TimeoutExpired):
                os.killpg(self.proc.pid, signal.SIGKILL)
            self.proc = None
        shutil.rmtree(self.dir, ignore_errors=True)


def rss_kib(pid: int) -> int:
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    except OSError:
        pass
    return 0


class RssSampler:
    """Samples the largest RSS among ``pids_fn()`` every 20 ms while running."""

    def __init__(self, pids_fn) -> None:
        self.pids_fn, self.peak_kib, self._stop = pids_fn, 0, threading.Event()
        self.thread = threading.Thread(target=self._run, daemon=True)

    def _run(self) -> None:
        while not self._stop.is_set():
            for pid in self.pids_fn():
                self.peak_kib = max(self.peak_kib, rss_kib(pid))
            time.sleep(0.02)

    def __enter__(self) -> RssSampler:
        self.thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self._stop.set()
        self.thread.join()


def openssl_sm3_seconds(path: Path, *, copy: bool) -> float:
    """Time ``cat FILE | tee COPY | openssl dgst -sm3`` (``copy``) or ``openssl dgst -sm3 FILE``."""
    with tempfile.TemporaryDirectory(prefix="liuhen-bench-copy-", dir=path.parent) as tmp:
        command = (f"cat '{path}' | tee '{tmp}/copy' | openssl dgst -sm3 >/dev/null"
                   if copy else f"openssl dgst -sm3 '{path}' >/dev/null")
        t0 = time.perf_counter()
        subprocess.run(["bash", "-o", "pipefail", "-c", command], check=True)
        return time.perf_counter() - t0


def mib_per_s(size: int, seconds: float) -> float:
    return size / (1 << 20) / seconds if seconds else float("inf")
