"""The test suite's clock: every test runs at :data:`TEST_NOW`, never at the day it happens to run.

The root ``conftest.py`` travels to ``TEST_NOW`` (time-machine, ticking) before each test, and
factories derive every date from the frozen "today", so a suite that passes today passes on any
day. ``LIUHEN_TEST_NOW`` (an ISO 8601 time with offset) moves the whole suite: CI runs it once
more two years ahead (``make test-future``). Server processes started by tests get the same
clock through libfaketime (:func:`faketime_env`).

Test support only: imported by conftest files and factories, never by application code.
"""

from __future__ import annotations

import datetime as dt
import os
import time
from pathlib import Path
from zoneinfo import ZoneInfo

__all__ = ["LOCAL_TZ", "TEST_NOW", "TEST_TODAY", "faketime_env", "today"]

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

_LIBFAKETIME = Path("/usr/lib/x86_64-linux-gnu/faketime/libfaketimeMT.so.1")


def today() -> dt.date:
    """The frozen local date (Beijing), as ``timezone.localdate()`` gives it inside a test."""
    from django.utils import timezone

    return timezone.localdate()


def faketime_env(now: dt.datetime | None = None) -> dict[str, str]:
    """Environment for a subprocess whose wall clock should read ``now`` (default: the test's
    current frozen time). The offset is taken against the real clock, so it keeps ticking.
    Monotonic clocks are shifted by the same offset: libfaketime's "don't fake monotonic" mode
    breaks Python's ``time.sleep`` (EINVAL from clock_nanosleep), while a shifted monotonic
    clock keeps every interval right. Empty when libfaketime is absent (``make test`` installs
    Debian's ``faketime``)."""
    if not _LIBFAKETIME.exists():
        return {}
    target = (now or dt.datetime.now(dt.UTC)).timestamp()
    real = _real_time()
    offset = int(round(target - real))
    return {
        "LD_PRELOAD": str(_LIBFAKETIME),
        "FAKETIME": f"{offset:+d}",
        "FAKETIME_DONT_RESET": "1",
        "FAKETIME_NO_CACHE": "1",
    }


def _real_time() -> float:
    """The machine's real clock, also while time-machine travels."""
    try:
        import time_machine

        return time_machine.escape_hatch.time.time()
    except ImportError:  # pragma: no cover - time-machine is a test dependency
        return time.time()
