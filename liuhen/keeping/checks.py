"""System check of the retention table (``liuhen check`` and start-up)."""

from __future__ import annotations

from django.core import checks

from liuhen.keeping import retention


@checks.register("liuhen")
def check_retention_table(app_configs=None, **kwargs):
    retention.reload()
    try:
        retention.load_table()
    except retention.RetentionDataError as exc:
        return [checks.Error(f"保存期限表有误：{exc}", id="liuhen.E201")]
    return []
