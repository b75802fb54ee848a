"""Answers kept a few seconds per process, keyed by what they were computed from (issue 9
item 3): the dashboard's deadline list and the 待办 counts of deadlines and late uploads
repeat the same scoped query for everyone of one scope, and on a million recordings each of
those took 0.3 s of SQLite.

The key is the scoped query's SQL (it carries the user's units and the day), so one scope
never reads another's answer; ``seconds`` 0 (the test suite) keeps nothing.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from typing import TypeVar

T = TypeVar("T")

_kept: dict = {}  # key -> (monotonic deadline, value)
_lock = threading.Lock()
_computing: set = set()  # keys a thread of this process is computing now
MAX_KEYS = 500  # scopes x days x kinds: a few dozen; never grow without bound


def kept(key, seconds: int, compute: Callable[[], T]) -> T:
    """``compute()``, or its answer for ``key`` if computed less than ``seconds`` ago.

    When the window has ended, one request of the process computes afresh; the requests that
    ask while it does get the last answer (at most that computation's time older than the
    window), not a computation of their own: under load several threads of a worker could
    find the same key expired at once and run the same 0.3 s query side by side, each slowed
    by the others (issue 9 item 3)."""
    if not seconds:
        return compute()
    now = time.monotonic()
    with _lock:
        found = _kept.get(key)
        if found is not None and (now < found[0] or key in _computing):
            return found[1]
        _computing.add(key)
    try:
        value = compute()
        with _lock:
            if len(_kept) >= MAX_KEYS:
                _kept.clear()
            _kept[key] = (now + seconds, value)
    finally:
        with _lock:
            _computing.discard(key)
    return value


def clear() -> None:
    with _lock:
        _kept.clear()
