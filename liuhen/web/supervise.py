"""Keeping the background processes alive: the job worker and the scheduler (issue 16 item 2).

`liuhen serve` used to start the worker and the scheduler once; when the worker died with the
database (an OperationalError after a few seconds of outage), nothing restarted it and 141
recordings stayed pending. A :class:`Supervisor` starts each child, and when one exits restarts
it after a back-off that doubles on every quick failure (1 s, 2 s, 4 s … at most a minute) and
starts over once a child has run for a while; every exit and restart is logged with its status.

The supervisor runs in a process of its own (`liuhen supervise`, started by `liuhen serve`, or
alone on a node that only runs jobs): gunicorn's arbiter reaps *every* child of its process
(``waitpid(-1)``), so children of the web server's own process would die without a status.
"""

from __future__ import annotations

import logging
import os
import signal
import subprocess
import sys
import time
from dataclasses import dataclass, field

log = logging.getLogger("liuhen.supervise")

FIRST_DELAY = 1.0
MAX_DELAY = 60.0
# A child that ran this long before exiting is restarted after FIRST_DELAY again.
STABLE_AFTER = 60.0


def liuhen_command(*args: str) -> list[str]:
    """The command line of a `liuhen` subcommand run with this interpreter."""
    return [sys.executable, "-m", "liuhen", *args]


@dataclass
class Child:
    """One supervised process: its name, its command line and its restart state."""

    name: str
    argv: list[str]
    proc: subprocess.Popen | None = None
    started: float = 0.0
    delay: float = FIRST_DELAY
    restart_at: float | None = None
    restarts: int = 0
    history: list[int] = field(default_factory=list)  # exit statuses, newest last

    @property
    def pid(self) -> int | None:
        return self.proc.pid if self.proc is not None and self.proc.poll() is None else None


class Supervisor:
    """Start children, restart those that exit with back-off, stop them all on request."""

    def __init__(self, children: list[Child], *, first_delay: float = FIRST_DELAY,
                 max_delay: float = MAX_DELAY, stable_after: float = STABLE_AFTER,
                 clock=time.monotonic):
        self.children = children
        self.first_delay, self.max_delay, self.stable_after = first_delay, max_delay, stable_after
        self.clock = clock
        self.stopping = False

    def start(self) -> None:
        for child in self.children:
            child.delay = self.first_delay
            self._spawn(child)

    def _spawn(self, child: Child) -> None:
        child.proc = subprocess.Popen(child.argv)
        child.started = self.clock()
        child.restart_at = None
        log.warning("supervise: %s started (pid %s)", child.name, child.proc.pid)

    def poll(self) -> None:
        """One round: note exited children, restart those whose back-off has passed."""
        now = self.clock()
        for child in self.children:
            if self.stopping:
                return
            if child.restart_at is not None:
                if now >= child.restart_at:
                    child.restarts += 1
                    self._spawn(child)
                continue
            status = child.proc.poll() if child.proc is not None else None
            if status is None:
                continue
            child.history.append(status)
            ran = now - child.started
            if ran >= self.stable_after:
                child.delay = self.first_delay
            child.restart_at = now + child.delay
            log.error("supervise: %s (pid %s) exited with status %s after %.0f s; "
                      "restarting in %.0f s", child.name, child.proc.pid, describe(status), ran,
                      child.delay)
            child.delay = min(child.delay * 2, self.max_delay)

    def run(self, interval: float = 0.5) -> None:
        """Supervise until :meth:`stop` (a signal handler) is called, then stop the children."""
        self.start()
        try:
            while not self.stopping:
                self.poll()
                time.sleep(interval)
        finally:
            self.terminate()

    def stop(self, *_args) -> None:
        self.stopping = True

    def terminate(self, timeout: float = 10.0) -> None:
        """SIGTERM every running child, then SIGKILL those still there after ``timeout``."""
        self.stopping = True
        running = [c.proc for c in self.children if c.proc is not None and c.proc.poll() is None]
        for proc in running:
            proc.send_signal(signal.SIGTERM)
        deadline = time.monotonic() + timeout
        for proc in running:
            try:
                proc.wait(timeout=max(0.1, deadline - time.monotonic()))
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()


def describe(status: int) -> str:
    """``-9`` → ``SIGKILL``; a plain exit code stays a number."""
    if status < 0:
        try:
            return signal.Signals(-status).name
        except ValueError:
            return str(status)
    return str(status)


def pid_alive(pid: int) -> bool:
    """Whether a process with this id exists on this machine (a zombie counts as gone)."""
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    try:
        with open(f"/proc/{pid}/stat", encoding="ascii", errors="replace") as fh:
            return fh.read().rsplit(")", 1)[-1].split()[0] != "Z"
    except OSError:
        return True
