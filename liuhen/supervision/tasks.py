"""Background jobs of supervision, queued by `liuhen scheduler`: the 第二十六条 detectors and the
monthly draft of last month's circular (第二十四条)."""

from __future__ import annotations

from django_tasks import task

from liuhen.supervision.circulars import draft_last_month
from liuhen.supervision.services import detect_violations


@task()
def detect_violations_task() -> dict:
    """Job: run every detector once; a finding already listed stays one violation (its
    fingerprint), so running twice, or two workers at once, lists nothing twice."""
    return detect_violations()


@task()
def draft_circular_task() -> int | None:
    """Job: last month's circular as a draft for the legal affairs office (第二十四条), once per
    month: a month already drafted or made by hand is left alone. Returns the draft's id."""
    made = draft_last_month()
    return made.pk if made else None
