"""Shared helpers of the deployment benchmarks (issue 9): Liuhen as users run it.

Not a benchmark itself. ``Deployment`` is ``liuhen serve`` with its DEFAULT workers (gunicorn
with 2 web workers, the job worker, the scheduler) on a temporary data folder, SQLite by default
or a fresh PostgreSQL database (``PgDatabase``) when ``LIUHEN_DATABASE_URL`` is set. The CPU time
of the server is read from /proc for its whole process tree (utime + stime of every process,
plus cutime + cstime, so that a child that exits and is reaped inside the tree still counts);
a baseline's CPU time comes from ``wait4`` (its processes and everything they waited for).

The liuhen modules these benches use are imported in ONE place, ``liuhen()`` below (apps move:
issue 15); scripts reach liuhen only through it, ``python bench/_deploy.py setup`` (run inside
a deployment's environment) and the server's HTTP API.
"""

from __future__ import annotations

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
import uuid
from datetime import datetime
from pathlib import Path
from types import SimpleNamespace
from urllib.parse import urlparse

BENCH = Path(__file__).resolve().parent
ROOT = BENCH.parent
OUT = BENCH / "out"  # gitignored: caches of bulk-loaded databases
CLK_TCK = os.sysconf("SC_CLK_TCK")
PASSWORD = "liuhen-bench-2026"  # every bench login's password
DEVICE = "DSJ-BENCH-1"
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))


# -- the liuhen modules the deployment benches use: the one place to update when apps move ----
def liuhen() -> SimpleNamespace:
    """Import (Django must be set up for the models) and return what the benches use."""
    from liuhen.access.choices import Role
    from liuhen.access.services import create_token
    from liuhen.cases.choices import CaseKind, CaseSource, PartyKind, Stage
    from liuhen.cases.models import Case, Party
    from liuhen.cases.validators import uscc_check_char
    from liuhen.devices.models import Device
    from liuhen.evidence.models import Recording
    from liuhen.org.choices import UnitKind
    from liuhen.org.models import Officer, Unit
    from liuhen.org.tests.factories import OfficerFactory, UnitFactory
    from liuhen.web import schedule

    return SimpleNamespace(
        CaseKind=CaseKind,
        CaseSource=CaseSource,
        PartyKind=PartyKind,
        Stage=Stage,
        Case=Case,
        Party=Party,
        uscc_check_char=uscc_check_char,
        schedule=schedule,
        Device=Device,
        Recording=Recording,
        Role=Role,
        UnitKind=UnitKind,
        Officer=Officer,
        Unit=Unit,
        create_token=create_token,
        OfficerFactory=OfficerFactory,
        UnitFactory=UnitFactory,
    )


def mediafactory():
    """Real media for uploads (PyAV); needs no Django set-up."""
    from liuhen.evidence.tests import mediafactory as factory

    return factory


def quiet_scheduler() -> None:
    """Mark every periodic job as just run (``web.PeriodicRun`` rows), as on an
    installation that has been up for a while: otherwise the scheduler's first fixity pass falls
    ten minutes after start-up, inside a long benchmark, and re-reads every stored original."""
    from django.utils import timezone

    schedule = liuhen().schedule
    for job in schedule.jobs():
        schedule.record_run(job.name, timezone.now())


def _setup_people() -> dict:
    """An officer with a device and an API token; their login for the station's direct mode."""
    lh = liuhen()
    officer = lh.OfficerFactory(unit=lh.UnitFactory(name="监察一大队"), role=lh.Role.OFFICER)
    officer.user.set_password(PASSWORD)
    officer.user.save(update_fields=["password"])
    device = lh.Device.objects.create(number=DEVICE, unit=officer.unit, officer=officer)
    _, raw = lh.create_token(user=officer.user, name="bench")
    quiet_scheduler()
    return {
        "username": officer.user.username,
        "officer": officer.pk,
        "device": device.number,
        "token": raw,
    }


# -- PostgreSQL: a fresh database per run, always dropped ------------------------------------
class PgDatabase:
    """``liuhen_bench_<label>_<random>`` on the server of ``base_url``; dropped by ``drop()``."""

    def __init__(self, base_url: str, label: str) -> None:
        parsed = urlparse(base_url)
        self.server = f"{parsed.scheme}://{parsed.netloc}"
        self.name = f"liuhen_bench_{label}_{uuid.uuid4().hex[:8]}"
        self.url = f"{self.server}/{self.name}"
        self.admin = f"{self.server}/postgres"
        self.sql(f'CREATE DATABASE "{self.name}"')

    def sql(self, statement: str) -> None:
        import psycopg

        with psycopg.connect(self.admin, autocommit=True) as conn:
            conn.execute(statement)

    def drop(self) -> None:
        self.sql(f'DROP DATABASE IF EXISTS "{self.name}" WITH (FORCE)')


def database_url() -> str:
    """``LIUHEN_DATABASE_URL`` when it names PostgreSQL, else "" (SQLite)."""
    url = os.environ.get("LIUHEN_DATABASE_URL", "")
    return url if url.startswith("postgres") else ""


def database_from_env(label: str) -> PgDatabase | None:
    """A fresh PostgreSQL database when ``LIUHEN_DATABASE_URL`` is set, else None (SQLite)."""
    return PgDatabase(database_url(), label) if database_url() else None


# -- /proc ---------------------------------------------------------------------------------------
def proc_stat(pid: int) -> list[str] | None:
    try:
        text = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return None
    return text[text.rindex(")") + 2 :].split()  # fields from 3 (state) on


def cpu_seconds(pid: int) -> float:
    """utime + stime + cutime + cstime of one process (all its threads), in seconds."""
    fields = proc_stat(pid)
    if fields is None:
        return 0.0
    return sum(int(v) for v in fields[11:15]) / CLK_TCK


def children(pid: int) -> list[int]:
    found = []
    try:
        tasks = os.listdir(f"/proc/{pid}/task")
    except OSError:
        return found
    for tid in tasks:
        try:
            found += [int(c) for c in Path(f"/proc/{pid}/task/{tid}/children").read_text().split()]
        except OSError:
            pass
    return found


def tree(pid: int) -> list[int]:
    found, todo = [], [pid]
    while todo:
        p = todo.pop()
        found.append(p)
        todo += children(p)
    return found


def rss_kib(pid: int) -> int:
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    except OSError:
        pass
    return 0


def established_inodes(port: int) -> set[int]:
    """Socket inodes of the established TCP connections whose local port is ``port``: the
    server's end of each client connection (/proc/net/tcp and tcp6)."""
    found: set[int] = set()
    for table in ("/proc/net/tcp", "/proc/net/tcp6"):
        try:
            lines = Path(table).read_text().splitlines()[1:]
        except OSError:
            continue
        for line in lines:
            fields = line.split()
            if fields[3] == "01" and int(fields[1].rsplit(":", 1)[1], 16) == port:
                found.add(int(fields[9]))
    return found


def connections_held(pid: int, inodes: set[int]) -> int:
    """How many of the connections ``inodes`` process ``pid`` holds open."""
    held = 0
    try:
        fds = os.listdir(f"/proc/{pid}/fd")
    except OSError:
        return 0
    for fd in fds:
        try:
            target = os.readlink(f"/proc/{pid}/fd/{fd}")
        except OSError:
            continue
        if target.startswith("socket:[") and int(target[8:-1]) in inodes:
            held += 1
    return held


class WorkerSampler:
    """Every ``every`` s during a ``with`` block: each web worker's CPU time and the client
    connections it holds. A keep-alive connection stays on the worker process that accepted
    it, and each process runs Python on one core at a time (the GIL): whether the load used
    both cores is read here, per worker, not guessed from the total."""

    def __init__(self, deployment: Deployment, every: float = 0.25) -> None:
        self.deployment, self.every = deployment, every
        self.samples: dict[int, list[int]] = {}
        self.cpu_start: dict[int, float] = {}
        self.cpu_end: dict[int, float] = {}
        self._stop = threading.Event()
        self.thread = threading.Thread(target=self._run, daemon=True)

    def _run(self) -> None:
        while not self._stop.is_set():
            inodes = established_inodes(self.deployment.port)
            for pid in self.deployment.roles()["web"]:
                self.samples.setdefault(pid, []).append(connections_held(pid, inodes))
            self._stop.wait(self.every)

    def __enter__(self) -> WorkerSampler:
        self.cpu_start = {p: cpu_seconds(p) for p in self.deployment.roles()["web"]}
        self.thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self._stop.set()
        self.thread.join()
        self.cpu_end = {p: cpu_seconds(p) for p in self.deployment.roles()["web"]}

    def summary(self) -> list[dict]:
        """Per web worker: CPU seconds in the block, connections held (mean, min, max)."""
        found = []
        for pid in sorted(set(self.cpu_start) | set(self.cpu_end) | set(self.samples)):
            held = self.samples.get(pid) or [0]
            found.append(
                {
                    "pid": pid,
                    "cpu_s": round(self.cpu_end.get(pid, 0.0) - self.cpu_start.get(pid, 0.0), 2),
                    "connections_mean": round(sum(held) / len(held), 1),
                    "connections_min": min(held),
                    "connections_max": max(held),
                }
            )
        return found


def loadavg() -> str:
    one, five, fifteen = os.getloadavg()
    return f"{one:.2f} {five:.2f} {fifteen:.2f}"


def stamp() -> str:
    return datetime.now().astimezone().strftime("%Y-%m-%d %H:%M:%S %z")


def header(title: str) -> dict:
    """Print what the figures depend on (date, commit, CPUs, load); return it for the JSON."""
    commit = subprocess.run(
        ["git", "-C", str(ROOT), "rev-parse", "--short", "HEAD"],
        capture_output=True,
        text=True,
        check=False,
    ).stdout.strip()
    facts = {"date": stamp(), "commit": commit, "cpus": os.cpu_count(), "load_before": loadavg()}
    print(
        f"== {title} ==\n   {facts['date']}  commit {commit}  {facts['cpus']} CPUs  "
        f"load average before {facts['load_before']}",
        flush=True,
    )
    return facts


def footer(facts: dict) -> None:
    facts.update(load_after=loadavg(), finished=stamp())
    print(
        f"   load average after {facts['load_after']}  finished {facts['finished']}  (a load "
        f"near or above {os.cpu_count()} means other work shared the CPUs: compare CPU times)",
        flush=True,
    )


# -- baselines: shell commands in parallel, wall and CPU time -----------------------------------
def baseline(commands: list[str], timeout: float = 3600) -> dict:
    """Run each ``bash -c`` command at once; the wall time until the last one ends and the CPU
    time of all of them, from ``wait4`` (each shell and whatever it waited for: every member
    of a pipeline and, with ``wait $!``, a process substitution)."""
    started = time.perf_counter()
    procs = [subprocess.Popen(["bash", "-o", "pipefail", "-c", c]) for c in commands]
    timer = threading.Timer(timeout, lambda: [p.kill() for p in procs if p.returncode is None])
    timer.start()
    cpu, failed = 0.0, []
    try:
        for proc in procs:
            _, status, usage = os.wait4(proc.pid, 0)
            proc.returncode = os.waitstatus_to_exitcode(status)
            cpu += usage.ru_utime + usage.ru_stime
            if proc.returncode:
                failed.append(proc.returncode)
    finally:
        timer.cancel()
    return {"wall": time.perf_counter() - started, "cpu": cpu, "failed": failed}


class ChildCpu:
    """CPU time of this process's children (and whatever they waited for) that ended and were
    reaped during a ``with`` block (RUSAGE_CHILDREN)."""

    def __enter__(self) -> ChildCpu:
        self._start = self._now()
        return self

    def __exit__(self, *exc) -> None:
        self.seconds = self._now() - self._start

    @staticmethod
    def _now() -> float:
        import resource

        usage = resource.getrusage(resource.RUSAGE_CHILDREN)
        return usage.ru_utime + usage.ru_stime


class PgBackends:
    """CPU time of the PostgreSQL backends of one database (the server runs on this machine):
    polled every 0.5 s from ``pg_stat_activity`` on one connection of its own (excluded), the
    last value seen per backend kept, so a backend that ends between two readings still
    counts."""

    def __init__(self, url: str) -> None:
        self.url, self.name = url, urlparse(url).path.lstrip("/")
        self.seen: dict[int, float] = {}
        self.lock = threading.Lock()
        self._stop = threading.Event()
        self.thread: threading.Thread | None = None
        self.conn = None

    def start(self) -> None:
        self.thread = threading.Thread(target=self._run, daemon=True)
        self.thread.start()

    def _run(self) -> None:
        while not self._stop.is_set():
            self.poll()
            self._stop.wait(0.5)

    def poll(self) -> None:
        import psycopg

        with self.lock:
            try:
                if self.conn is None:
                    self.conn = psycopg.connect(self.url, autocommit=True)
                pids = [
                    row[0]
                    for row in self.conn.execute(
                        "SELECT pid FROM pg_stat_activity WHERE datname = %s "
                        "AND pid <> pg_backend_pid()",
                        (self.name,),
                    )
                ]
            except psycopg.Error:
                self.conn = None
                return
            for pid in pids:
                self.seen[pid] = max(self.seen.get(pid, 0.0), cpu_seconds(pid))

    def total(self) -> float:
        self.poll()
        with self.lock:
            return sum(self.seen.values())

    def stop(self) -> None:
        self._stop.set()
        if self.thread:
            self.thread.join()
        with self.lock:
            if self.conn is not None:
                self.conn.close()
                self.conn = None


# -- the deployment --------------------------------------------------------------------------
class Deployment:
    """``liuhen serve`` with its defaults on a data folder (temporary unless given)."""

    def __init__(
        self, *, data_dir: Path | None = None, database_url: str = "", extra_env: dict | None = None
    ) -> None:
        self.own_dir = data_dir is None
        self.dir = Path(tempfile.mkdtemp(prefix="liuhen-bench-")) if data_dir is None else data_dir
        self.dir.mkdir(parents=True, exist_ok=True)
        self.env = {k: v for k, v in os.environ.items() if not k.startswith(("LIUHEN_", "DJANGO_"))}
        self.env.update(
            {
                "LIUHEN_DATA_DIR": str(self.dir / "var"),
                "DJANGO_SETTINGS_MODULE": "liuhen.settings",
                "LIUHEN_UPLOAD_MAX_BYTES": str(1 << 40),
                "PYTHONPATH": str(ROOT),
            }
        )
        if database_url:
            self.env["LIUHEN_DATABASE_URL"] = database_url
        self.env.update(extra_env or {})
        self.proc = None
        self._backends = PgBackends(database_url) if database_url else None
        self.people: dict = {}
        self.log_path = self.dir / "server.log"

    def manage(self, *args: str, timeout: float | None = None) -> str:
        result = subprocess.run(
            [sys.executable, "-m", "liuhen", *args],
            env=self.env,
            cwd=ROOT,
            capture_output=True,
            text=True,
            check=False,
            timeout=timeout,
        )
        if result.returncode != 0:
            raise RuntimeError(f"liuhen {' '.join(args)}:\n{result.stdout}\n{result.stderr}")
        return result.stdout

    def script(self, *args: str) -> str:
        """``python bench/_deploy.py ARGS`` in this deployment's environment (Django set up)."""
        result = subprocess.run(
            [sys.executable, str(BENCH / "_deploy.py"), *args],
            env=self.env,
            cwd=ROOT,
            capture_output=True,
            text=True,
            check=False,
        )
        if result.returncode != 0:
            raise RuntimeError(f"_deploy.py {' '.join(args)}:\n{result.stdout}\n{result.stderr}")
        return result.stdout

    def prepare(self) -> Deployment:
        """Migrate, then an officer, a device and an API token (``self.people``)."""
        self.manage("migrate", "-v0")
        self.people = json.loads(self.script("setup").splitlines()[-1])
        return self

    def start(self, timeout: float = 180) -> Deployment:
        with socket.socket() as s:
            s.bind(("127.0.0.1", 0))
            self.port = s.getsockname()[1]
        self.url = f"http://127.0.0.1:{self.port}"
        log = open(self.log_path, "ab")  # noqa: SIM115 - closed with the process
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "liuhen", "serve", "--bind", f"127.0.0.1:{self.port}"],
            env=self.env,
            cwd=ROOT,
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        log.close()
        if self._backends:
            self._backends.start()
        deadline = time.time() + timeout
        while time.time() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"liuhen serve exited:\n{self.log_path.read_text()[-3000:]}")
            try:
                conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=5)
                conn.request("GET", "/login/")
                status = conn.getresponse().status
                conn.close()
                if status == 200 and len(self.roles()["web"]) >= 1:
                    self._wait_for_workers(deadline)
                    return self
            except OSError:
                pass
            time.sleep(0.3)
        raise RuntimeError("liuhen serve did not answer /login/ in time")

    def _wait_for_workers(self, deadline: float) -> None:
        """Every web worker booted (each answers once it has loaded the app)."""
        while time.time() < deadline and len(self.roles()["web"]) < 2:
            time.sleep(0.2)
        # Then until the job worker and the scheduler have started and the tree is quiet for
        # 1.5 s: at load 15-20 a single quiet half second came while they were still loading
        # Django, and their start-up (1-2 s of CPU each) was counted in the measurement.
        while time.time() < deadline and not (self.roles()["jobs"] and self.roles()["scheduler"]):
            time.sleep(0.2)
        last, quiet = self.cpu()["total"], 0
        while time.time() < deadline and quiet < 3:
            time.sleep(0.5)
            now = self.cpu()["total"]
            quiet = quiet + 1 if now - last < 0.05 else 0
            last = now

    def roles(self) -> dict[str, list[int]]:
        """The server's processes: gunicorn master (``liuhen serve``), web workers, job worker,
        scheduler."""
        found = {"master": [], "web": [], "jobs": [], "scheduler": []}
        if self.proc is None:
            return found
        for pid in tree(self.proc.pid):
            try:
                cmd = Path(f"/proc/{pid}/cmdline").read_bytes().split(b"\0")
            except OSError:
                continue
            if pid == self.proc.pid:
                found["master"].append(pid)
            elif b"db_worker" in cmd or b"rqworker" in cmd or b"worker" in cmd:
                found["jobs"].append(pid)  # `liuhen worker`, under `liuhen supervise`
            elif b"scheduler" in cmd:
                found["scheduler"].append(pid)
            elif b"supervise" in cmd:
                found["master"].append(pid)  # restarts the job worker and the scheduler
            else:
                found["web"].append(pid)
        return found

    def cpu(self) -> dict[str, float]:
        """CPU seconds so far per role and in all (``total``); ``postgres``: the backends
        serving this deployment's database (0 on SQLite, whose work is in the web workers)."""
        result = {role: sum(cpu_seconds(p) for p in pids) for role, pids in self.roles().items()}
        # The master's cutime/cstime hold its reaped children; they are not double counted as
        # long as the children live (a live child's time is only in its own stat).
        result["postgres"] = self._backends.total() if self._backends else 0.0
        result["total"] = sum(result.values())
        return result

    def errors_in_log(self, since: int = 0) -> dict[str, int]:
        """Exceptions in the server's log after byte ``since`` (the last line of each
        traceback, counted): what a 500 was."""
        try:
            with open(self.log_path, "rb") as fh:
                fh.seek(since)
                text = fh.read().decode("utf-8", "replace")
        except OSError:
            return {}
        found: dict[str, int] = {}
        for line in text.splitlines():
            if re.match(r"^[A-Za-z_][\w.]*(Error|Exception|Locked|Timeout)\b", line):
                found[line[:200]] = found.get(line[:200], 0) + 1
        return found

    def log_size(self) -> int:
        try:
            return self.log_path.stat().st_size
        except OSError:
            return 0

    def keep_log(self, name: str) -> Path | None:
        """Copy the server's log to ``bench/out/logs/<name>-<time>.log`` (evidence)."""
        if not self.log_path.exists():
            return None
        target = OUT / "logs" / f"{name}-{datetime.now():%Y%m%d-%H%M%S}.log"
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(self.log_path, target)
        return target

    def stop(self) -> None:
        if self._backends:
            self._backends.stop()
        if self.proc is not None:
            try:
                os.killpg(self.proc.pid, signal.SIGTERM)
                self.proc.wait(timeout=20)
            except ProcessLookupError:
                pass
            except subprocess.TimeoutExpired:
                os.killpg(self.proc.pid, signal.SIGKILL)
                self.proc.wait(timeout=10)
            self.proc = None

    def cleanup(self) -> None:
        self.stop()
        if self.own_dir:
            shutil.rmtree(self.dir, ignore_errors=True)


def cpu_delta(before: dict, after: dict) -> dict:
    return {k: round(after[k] - before.get(k, 0.0), 2) for k in after}


class RssSampler:
    """Every 50 ms: the largest RSS of one web worker and the whole tree's RSS (KiB), with the
    time since the start; ``at(fraction)`` reads the sample nearest a point of the run."""

    def __init__(self, deployment: Deployment, every: float = 0.05) -> None:
        self.deployment, self.every = deployment, every
        self.samples: list[tuple[float, int, int]] = []
        self._stop = threading.Event()
        self.thread = threading.Thread(target=self._run, daemon=True)

    def _run(self) -> None:
        t0 = time.perf_counter()
        while not self._stop.is_set():
            roles = self.deployment.roles()
            web = [rss_kib(p) for p in roles["web"]]
            total = sum(web) + sum(
                rss_kib(p) for r in ("master", "jobs", "scheduler") for p in roles[r]
            )
            self.samples.append((time.perf_counter() - t0, max(web, default=0), total))
            time.sleep(self.every)

    def __enter__(self) -> RssSampler:
        self.thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self._stop.set()
        self.thread.join()

    def at(self, fraction: float) -> tuple[int, int]:
        if not self.samples:
            return (0, 0)
        end = self.samples[-1][0]
        best = min(self.samples, key=lambda s: abs(s[0] - fraction * end))
        return best[1], best[2]

    def peak(self) -> tuple[int, int]:
        return (
            max((s[1] for s in self.samples), default=0),
            max((s[2] for s in self.samples), default=0),
        )


def mib(kib: int) -> float:
    return kib / 1024


def main() -> None:
    """``python bench/_deploy.py setup``: run by ``Deployment.prepare`` with its environment."""
    import django

    django.setup()
    if sys.argv[1:] == ["setup"]:
        print(json.dumps(_setup_people()))
    elif sys.argv[1:] == ["quiet-scheduler"]:
        quiet_scheduler()
    else:
        raise SystemExit(f"unknown: {sys.argv[1:]}")


if __name__ == "__main__":
    main()
