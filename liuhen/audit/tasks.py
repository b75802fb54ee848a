"""Background job of the audit log: the daily anchor of the chain's head (from `liuhen scheduler`)."""

from __future__ import annotations

from django_tasks import task

from liuhen.audit.anchors import make_anchor


@task()
def anchor_task() -> int | None:
    """Job: write an anchor of the audit chain's head; returns its sequence number."""

    made = make_anchor(actor_name="liuhen scheduler")
    return made[0].seq if made else None
