"""Background job of supervision: the 第二十六条 detectors, queued by `liuhen scheduler`."""

from __future__ import annotations

from django_tasks import task

from liuhen.supervision.services import detect_violations


@task()
def detect_violations_task() -> dict:
    """Job: run every detector once; a finding already listed stays one violation (its
    fingerprint), so running twice, or two workers at once, lists nothing twice."""
    return detect_violations()
