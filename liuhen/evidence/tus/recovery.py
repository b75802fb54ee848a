"""Recovery of uploads the server was told about but never stored (issue 16, 第十三条).

An upload whose every byte arrived (``offset == length``) but whose ingest never committed —
the server was killed between the last fsync and the ingest's transaction — is stored here,
as HEAD and an empty PATCH would store it: at start-up (``liuhen serve`` queues the job) and
with the scheduler's upload upkeep. The same lock as a PATCH keeps the sweep and a request
from storing one upload twice, and the upload is marked finished in the ingest's own
transaction, so a finish retried after a crash leaves one recording and one submission.
"""

from __future__ import annotations

import logging

from django_tasks import task

from liuhen.evidence import uploads as upload_files
from liuhen.evidence.models import UploadSession
from liuhen.evidence.tus.receive import finish_full

log = logging.getLogger(__name__)


def finish_full_uploads() -> dict:
    """Store every complete but unstored upload; returns the counts (finished, busy, failed)."""
    counts = {"finished": 0, "busy": 0, "failed": 0}
    pending = UploadSession.objects.filter(completed_at__isnull=True).exclude(offset=0)
    for upload in pending.select_related("user").order_by("created_at"):
        if upload.offset != upload.length:
            continue
        try:
            answer = finish_full(upload)
        except upload_files.UploadBusy:
            counts["busy"] += 1  # a request is storing it now
            continue
        except Exception:  # noqa: BLE001 - one upload must not stop the sweep; logged
            log.exception("recovery: upload %s could not be finished", upload.pk)
            counts["failed"] += 1
            continue
        if answer is None:
            continue
        if answer.status_code >= 400:
            log.warning("recovery: upload %s refused: %s", upload.pk, answer.content[:300])
            counts["failed"] += 1
        else:
            log.info("recovery: upload %s stored after a restart", upload.pk)
            counts["finished"] += 1
    return counts


@task()
def upload_upkeep_task() -> dict:
    """Job (the scheduler's ``upload-cleanup``, and once at start-up): finish complete uploads
    left unstored by a crash, then drop unfinished ones past Upload-Expires."""
    counts = finish_full_uploads()
    counts["expired"] = upload_files.clean_expired_uploads()
    return counts
