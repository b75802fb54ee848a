"""`liuhen serve` keeps its job worker and scheduler alive (issue 16 item 2): a killed worker is
started again (back-off, logged), and a worker waits out a database outage instead of exiting
(after a few seconds of PostgreSQL outage the old worker died and 141 recordings stayed pending)."""

from __future__ import annotations

import logging
import os
import signal
import socket
import sys
import time
from pathlib import Path

import pytest
from django.db import OperationalError

from liuhen.web import jobs
from liuhen.web.supervise import Child, Supervisor, describe, pid_alive


class FakeClock:
    def __init__(self):
        self.now = 1000.0

    def __call__(self):
        return self.now


def _wait_exit(child: Child) -> None:
    child.proc.wait(timeout=30)


def test_a_child_that_exits_is_restarted_with_a_doubling_back_off(caplog):
    clock = FakeClock()
    child = Child("worker", [sys.executable, "-c", "raise SystemExit(3)"])
    supervisor = Supervisor([child], first_delay=1, max_delay=4, stable_after=60, clock=clock)
    caplog.set_level(logging.WARNING, logger="liuhen.supervise")
    supervisor.start()
    first_pid = child.proc.pid
    delays = []
    for _ in range(4):
        _wait_exit(child)
        supervisor.poll()  # notes the exit, schedules the restart
        delays.append(child.restart_at - clock.now)
        supervisor.poll()  # too early: nothing happens
        assert child.pid is None and child.restart_at is not None
        clock.now = child.restart_at
        supervisor.poll()  # restarted
    assert delays == [1, 2, 4, 4]  # doubles up to max_delay
    assert child.restarts == 4 and child.proc.pid != first_pid
    assert child.history == [3, 3, 3, 3]
    assert f"worker (pid {first_pid}) exited with status 3" in caplog.text
    assert "restarting in 1 s" in caplog.text and "restarting in 4 s" in caplog.text
    # A child that ran a while before exiting starts the back-off over.
    _wait_exit(child)
    clock.now += 120
    supervisor.poll()
    assert child.restart_at - clock.now == 1
    supervisor.terminate()


def test_terminate_stops_running_children():
    child = Child("sleeper", [sys.executable, "-c", "import time; time.sleep(60)"])
    supervisor = Supervisor([child])
    supervisor.start()
    supervisor.terminate(timeout=5)
    assert child.proc.returncode == -signal.SIGTERM
    assert describe(-9) == "SIGKILL" and describe(2) == "2"


def test_the_worker_waits_out_a_database_outage(monkeypatch, caplog):
    """Two outages in a row: the worker logs each, closes its connections, backs off, and is
    still running (it used to end with the OperationalError)."""
    runs, sleeps = [], []

    def run(self):
        runs.append(self.worker_id)
        raise OperationalError("connection to server at \"127.0.0.1\" failed: Connection refused")

    worker_class = jobs._django_tasks_db_worker()
    monkeypatch.setattr(worker_class, "run", run)
    monkeypatch.setattr(worker_class, "configure_signals", lambda self: None)
    caplog.set_level(logging.ERROR, logger="liuhen.jobs")
    jobs.run_db_worker(queue_names=["default"], sleep=sleeps.append, stop_after_outages=3)
    assert len(runs) == 3 and sleeps == [1.0, 2.0]
    assert caplog.text.count("database unavailable (OperationalError") == 3
    host, pid, _ = runs[0].split(":")
    assert int(pid) == os.getpid()  # the claim names this process: released at once if it dies


def _children(pid: int) -> list[tuple[int, str]]:
    found = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
            ppid = int(stat.rsplit(")", 1)[1].split()[1])
            if ppid == pid:
                found.append((int(entry.name),
                              (entry / "cmdline").read_bytes().replace(b"\0", b" ").decode()))
        except (OSError, ValueError, IndexError):
            continue
    return found


def _wait_for(predicate, timeout=30.0, what=""):
    deadline = time.time() + timeout
    while time.time() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(0.2)
    raise AssertionError(f"timed out waiting for {what}")


def _worker_pid(serve_pid: int) -> int | None:
    for pid, cmd in _children(serve_pid):
        if "liuhen supervise" in cmd:
            for child, child_cmd in _children(pid):
                if "liuhen worker" in child_cmd:
                    return child
    return None


def test_serve_restarts_a_killed_worker(server_process):
    server = server_process().start(worker=True)
    first = _wait_for(lambda: _worker_pid(server.proc.pid), what="the worker")
    os.kill(first, signal.SIGKILL)
    second = _wait_for(lambda: (pid := _worker_pid(server.proc.pid)) and pid != first and pid,
                       what="a new worker")
    assert second != first
    log = _wait_for(lambda: (text := (server.data_dir / "server.log").read_text(errors="replace"))
                    and f"worker (pid {first}) exited with status SIGKILL" in text and text,
                    what="the log line")
    assert "restarting in 1 s" in log


@pytest.mark.parametrize("stop_signal", [signal.SIGINT, signal.SIGTERM])
def test_a_stop_signal_to_the_whole_group_restarts_nothing(server_process, stop_signal):
    """Ctrl+C in a terminal (SIGINT) or systemd's stop (SIGTERM to the control group) reaches
    `liuhen serve` and its `liuhen supervise` at once. The supervisor then exits on its own
    signal, and the watcher in `liuhen serve` used to take that for a crash: "supervise exited
    with status 0 … restarting in 1 s", and sometimes a new supervisor with a new worker and
    scheduler, started during the shutdown and killed a moment later (seen at the end of the
    pages bench, 2026-12-04). A stop is a stop: nothing is restarted, nothing is left."""
    server = server_process().start(worker=True)
    _wait_for(lambda: _worker_pid(server.proc.pid), what="the worker")
    supervisors = [pid for pid, cmd in _children(server.proc.pid) if "liuhen supervise" in cmd]
    assert len(supervisors) == 1
    everyone = {server.proc.pid, *supervisors, *(p for p, _ in _children(supervisors[0]))}
    # A request still in flight (a form whose body is slow to come, as an upload over a poor
    # line), so that gunicorn's graceful stop lasts, as it does under real use.
    slow = socket.create_connection(("127.0.0.1", server.port), timeout=30)
    slow.sendall(b"POST /login/ HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Length: 1000\r\n"
                 b"Content-Type: application/x-www-form-urlencoded\r\n\r\nusername=a")
    time.sleep(0.5)
    os.killpg(server.proc.pid, stop_signal)
    assert server.proc.wait(timeout=30) is not None
    log = (server.data_dir / "server.log").read_text(errors="replace")
    assert "supervise (pid" not in log, log[-2000:]  # neither "exited … restarting" nor a restart
    assert log.count("supervise: supervise started") == 1, log[-2000:]
    _wait_for(lambda: not any(pid_alive(pid) for pid in everyone), timeout=15,
              what="every process of the server to end")
    slow.close()


def test_the_job_worker_yields_the_cpu_to_pages_and_ingest(server_process):
    """A derivation (FFmpeg on every core) ran at the web workers' priority and halved the
    station's and the pages' CPU while it lasted (issue 9): the worker runs niced
    (LIUHEN_JOB_WORKER_NICE, 10 by default), the web workers as started. Fails before: the
    worker had the web workers' niceness."""
    base = os.getpriority(os.PRIO_PROCESS, 0)  # a niced test run starts niced servers
    wanted = min(base + 5, 19)
    if wanted == base:
        pytest.skip("the tests already run at the lowest priority")
    server = server_process({"LIUHEN_JOB_WORKER_NICE": str(wanted)}).start(worker=True)
    worker = _wait_for(lambda: _worker_pid(server.proc.pid), what="the worker")
    assert _wait_for(lambda: os.getpriority(os.PRIO_PROCESS, worker) == wanted or None,
                     what="the worker's niceness")
    web = [pid for pid, cmd in _children(server.proc.pid) if "supervise" not in cmd]
    assert web and all(os.getpriority(os.PRIO_PROCESS, pid) == base for pid in web)
