"""The test suite's clock: every test runs at :data:`TEST_NOW`, never at the day it happens to run.

The root ``conftest.py`` travels to ``TEST_NOW`` (time-machine, ticking) before each test, and
factories derive every date from the frozen "today", so a suite that passes today passes on any
day. ``LIUHEN_TEST_NOW`` (an ISO 8601 time with offset) moves the whole suite: CI runs it once
more two years ahead (``make test-future``). Server processes started by tests get the same
clock through time-machine started at their start-up (:func:`subprocess_clock_env`).

Test support only: imported by conftest files and factories, never by application code.
"""

from __future__ import annotations

import datetime as dt
import os
import time
from pathlib import Path
from zoneinfo import ZoneInfo

__all__ = ["LOCAL_TZ", "TEST_NOW", "TEST_TODAY", "subprocess_clock_env", "today"]

LOCAL_TZ = ZoneInfo("Asia/Shanghai")
# A Thursday morning in Beijing, an ordinary working day (no holiday near it).
_DEFAULT_NOW = dt.datetime(2026, 12, 3, 10, 0, tzinfo=LOCAL_TZ)


def _parse(value: str) -> dt.datetime:
    moment = dt.datetime.fromisoformat(value)
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=LOCAL_TZ)
    return moment


TEST_NOW: dt.datetime = _parse(os.environ["LIUHEN_TEST_NOW"]) if os.environ.get(
    "LIUHEN_TEST_NOW") else _DEFAULT_NOW
TEST_TODAY: dt.date = TEST_NOW.astimezone(LOCAL_TZ).date()

_SUBPROCESS_CLOCK = Path(__file__).with_name("subprocess_clock")


def today() -> dt.date:
    """The frozen local date (Beijing), as ``timezone.localdate()`` gives it inside a test."""
    from django.utils import timezone

    return timezone.localdate()


def subprocess_clock_env(now: dt.datetime | None = None) -> dict[str, str]:
    """Environment for a Python subprocess whose wall clock should read ``now`` (default: the
    test's current frozen time). The offset is taken against the real clock, so it keeps
    ticking; monotonic clocks stay real, so timeouts and sleeps keep their length (see
    ``subprocess_clock/sitecustomize.py``, which applies it at the subprocess's start-up)."""
    target = (now or dt.datetime.now(dt.UTC)).timestamp()
    offset = target - _real_time()
    path = os.pathsep.join(p for p in (str(_SUBPROCESS_CLOCK), os.environ.get("PYTHONPATH", "")) if p)
    return {"PYTHONPATH": path, "LIUHEN_CLOCK_OFFSET": f"{offset:.6f}"}


def _real_time() -> float:
    """The machine's real clock, also while time-machine travels."""
    try:
        import time_machine

        return time_machine.escape_hatch.time.time()
    except ImportError:  # pragma: no cover - time-machine is a test dependency
        return time.time()
