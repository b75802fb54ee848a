"""core.kept (issue 9 item 3): an answer is kept ``seconds`` per key, then computed again."""

from __future__ import annotations

import pytest

from liuhen.core import kept


def test_kept_per_key_until_the_window_ends(monkeypatch):
    clock = {"now": 50.0}
    monkeypatch.setattr(kept.time, "monotonic", lambda: clock["now"])
    monkeypatch.setattr(kept, "_kept", {})
    calls = []

    def compute(value):
        def run():
            calls.append(value)
            return value

        return run

    assert kept.kept("a", 10, compute(1)) == 1
    assert kept.kept("a", 10, compute(2)) == 1  # kept
    assert kept.kept("b", 10, compute(3)) == 3  # another key is computed
    clock["now"] += 10
    assert kept.kept("a", 10, compute(4)) == 4  # the window ended
    assert kept.kept("a", 0, compute(5)) == 5  # 0 keeps nothing and reads nothing kept
    assert calls == [1, 3, 4, 5]


def test_kept_never_grows_past_its_bound(monkeypatch):
    monkeypatch.setattr(kept, "_kept", {})
    for i in range(kept.MAX_KEYS + 5):
        kept.kept(i, 30, lambda i=i: i)
    assert len(kept._kept) <= kept.MAX_KEYS


def test_one_refresh_at_a_time_the_others_read_the_last_answer(monkeypatch):
    """When a window ends, one request of the process computes afresh; those arriving while it
    does read the last answer instead of running the same query beside it (issue 9 item 3: on
    a million recordings each is 0.3 s of SQLite, and ten at once on 2 cores made the
    dashboard's p99). A refresh that fails leaves the next request to compute."""
    clock = {"now": 50.0}
    monkeypatch.setattr(kept.time, "monotonic", lambda: clock["now"])
    monkeypatch.setattr(kept, "_kept", {})
    assert kept.kept("a", 10, lambda: 1) == 1
    clock["now"] += 10
    meanwhile = []

    def refresh():
        meanwhile.append(kept.kept("a", 10, lambda: 3))  # another request, while this computes
        return 2

    assert kept.kept("a", 10, refresh) == 2
    assert meanwhile == [1]  # the last answer, not a second computation
    assert kept.kept("a", 10, lambda: 4) == 2  # the fresh answer is kept

    def fails():
        raise RuntimeError("database gone")

    clock["now"] += 10
    with pytest.raises(RuntimeError):
        kept.kept("a", 10, fails)
    assert kept.kept("a", 10, lambda: 5) == 5
