"""Background jobs of the keeping app, queued by `liuhen scheduler`."""

from __future__ import annotations

from django_tasks import task

from liuhen.keeping.disposal import retry_erasures


@task()
def retry_erasures_task() -> dict:
    """Job: erase again the stored objects of tombstones whose erasure failed after the
    disposal committed (第十四条); idempotent, every attempt audited."""
    return retry_erasures()
