"""Background job: re-compute the stored open deadlines after the calendar was edited."""

from __future__ import annotations

import logging

from django_tasks import task

from liuhen.deadlines.services import refresh_open_deadlines

logger = logging.getLogger(__name__)


@task()
def refresh_open_deadlines_task() -> int:
    """Job: :func:`~liuhen.deadlines.services.refresh_open_deadlines`; returns cases done."""
    return refresh_open_deadlines()


def enqueue_refresh_open_deadlines() -> None:
    """Queue :func:`refresh_open_deadlines` (never raises: the calendar edit stands anyway)."""
    try:
        refresh_open_deadlines_task.enqueue()
    except Exception:  # a queue that is down must not undo the edit; `liuhen deadlines` catches up
        logger.exception("could not queue the deadline refresh; run `liuhen deadlines --refresh`")
