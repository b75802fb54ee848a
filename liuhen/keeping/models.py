"""What the keeping app stores: the bureau's audited changes to the retention table."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils import timezone


class RetentionChange(models.Model):
    """One change of a default period of the retention table (第十四条), with its reason.

    Never edited or deleted: the latest row of a table row's id is the period in force, the
    earlier ones are its history (who, when, from what, to what, why).
    """

    row_id = models.CharField("期限表条目", max_length=80, db_index=True)
    previous = models.CharField("原期限", max_length=20)
    period = models.CharField("新期限", max_length=20)
    reason = models.TextField("修改理由")
    changed_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT,
                                   related_name="+", verbose_name="修改人")
    changed_at = models.DateTimeField("修改时间", default=timezone.now)

    class Meta:
        verbose_name = "保存期限修改"
        verbose_name_plural = "保存期限修改"
        ordering = ["-changed_at", "-id"]

    def __str__(self) -> str:
        return f"{self.row_id}: {self.previous} → {self.period}"
