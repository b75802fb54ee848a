"""The test clock reaches the server processes a test starts, and leaves their waits alone.

A `liuhen serve` or worker started by a test must read the test's time (so a recording made
"now" is within 24 hours, 第十条), while every timed wait keeps its real length: under libfaketime
a ``threading`` wait with a timeout blocked until notified and RQ's burst worker hung at exit.
"""

from __future__ import annotations

import datetime as dt
import json
import os
import subprocess
import sys

import pytest

from liuhen.core.testing import TEST_NOW, subprocess_clock_env

PROBE = """
import datetime as dt, json, threading, time
from django.utils import timezone
started = time.perf_counter()
waited = threading.Event().wait(0.2)
lock = threading.Lock(); lock.acquire()
acquired = lock.acquire(timeout=0.2)
time.sleep(0.1)
print(json.dumps({"now": time.time(), "django": timezone.now().isoformat(), "waited": waited,
                  "acquired": acquired, "elapsed": time.perf_counter() - started}))
"""


def _probe(env: dict) -> dict:
    full = {**os.environ, "DJANGO_SETTINGS_MODULE": "liuhen.settings_test", **env}
    result = subprocess.run([sys.executable, "-c", PROBE], env=full, capture_output=True,
                            text=True, timeout=60, check=True)
    return json.loads(result.stdout.strip().splitlines()[-1])


@pytest.mark.parametrize("days", [0, -400, 800])
def test_a_subprocess_reads_the_test_clock_and_its_waits_end(days):
    """The subprocess's clock is the test's (today, a year before, two years after), ticking;
    an Event wait, a lock timeout and a sleep end after their real length, not never."""
    target = TEST_NOW + dt.timedelta(days=days)
    seen = _probe(subprocess_clock_env(target))
    assert abs(seen["now"] - target.timestamp()) < 30
    assert abs(dt.datetime.fromisoformat(seen["django"]).timestamp() - target.timestamp()) < 30
    assert (seen["waited"], seen["acquired"]) == (False, False)
    assert 0.45 <= seen["elapsed"] < 20


def test_without_the_clock_a_subprocess_reads_the_real_time():
    """The clock only comes with the environment: a subprocess without it reads the machine's
    real time (read here past the test's own frozen clock), while one with it is moved."""
    import time_machine

    seen = _probe({"LIUHEN_CLOCK_OFFSET": ""})
    assert abs(seen["now"] - time_machine.escape_hatch.time.time()) < 30
    moved = _probe(subprocess_clock_env(dt.datetime.fromtimestamp(seen["now"], dt.UTC)
                                        + dt.timedelta(days=3)))
    assert moved["now"] - seen["now"] > 2 * 86400
