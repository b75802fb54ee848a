"""core.kept (issue 9 item 3): an answer is kept ``seconds`` per key, then computed again."""

from __future__ import annotations

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
