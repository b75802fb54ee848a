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
MAX_KEYS = 500  # scopes x days x kinds: a few dozen; never grow without bound


def kept(key, seconds: int, compute: Callable[[], T]) -> T:
    """``compute()``, or its answer for ``key`` if computed less than ``seconds`` ago."""
    if not seconds:
        return compute()
    now = time.monotonic()
    with _lock:
        found = _kept.get(key)
    if found is not None and now < found[0]:
        return found[1]
    value = compute()
    with _lock:
        if len(_kept) >= MAX_KEYS:
            _kept.clear()
        _kept[key] = (now + seconds, value)
    return value


def clear() -> None:
    with _lock:
        _kept.clear()
