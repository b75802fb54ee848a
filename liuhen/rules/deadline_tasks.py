"""Background job: re-compute the stored open deadlines after the calendar was edited."""

from __future__ import annotations

from django_tasks import task


@task()
def refresh_open_deadlines_task() -> int:
    """Job: :func:`~liuhen.rules.deadline_services.refresh_open_deadlines`; returns cases done."""
    from liuhen.rules.deadline_services import refresh_open_deadlines

    return refresh_open_deadlines()
