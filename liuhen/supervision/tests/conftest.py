"""Fixtures of the supervision tests."""

from __future__ import annotations

from datetime import datetime, time, timedelta

import pytest
from django.utils import timezone


@pytest.fixture
def at_local():
    """A moment ``days`` before the frozen today at local ``hour`` (Asia/Shanghai)."""

    def make(days: int, hour: int, minute: int = 0):
        day = timezone.localdate() - timedelta(days=days)
        return timezone.make_aware(datetime.combine(day, time(hour, minute)))

    return make
