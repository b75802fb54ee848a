"""The audit log: append-only and hash-chained (第二十六条 (二), (三))."""

from __future__ import annotations

import uuid

from django.db import models

from liuhen.audit.choices import Outcome

GENESIS_HASH = "0" * 64


class AuditEntry(models.Model):
    """One read, write, denial or login, chained to the one before it by an SM3 hash.

    The database refuses UPDATE and DELETE on this table (see migration 0002); the chain
    proves afterwards that no entry was edited, removed or reordered even by someone who
    dropped those triggers. Entries are appended by ``audit.services.record()`` only (on
    PostgreSQL through the ``liuhen_audit_append()`` function of migration 0003).
    """

    seq = models.BigIntegerField("序号", unique=True)
    uuid = models.UUIDField("记录编号", default=uuid.uuid4, unique=True, editable=False)
    at = models.DateTimeField("时间 (UTC)", db_index=True)
    actor_id = models.BigIntegerField("操作人ID", null=True, blank=True, db_index=True)
    actor_name = models.CharField("操作人", max_length=150, blank=True)
    actor_role = models.CharField("角色", max_length=32, blank=True)
    session = models.CharField("会话", max_length=64, blank=True)
    ip = models.CharField("来源IP", max_length=64, blank=True)
    via = models.CharField("渠道", max_length=16, blank=True)
    action = models.CharField("操作", max_length=64, db_index=True)
    object_type = models.CharField("对象类型", max_length=64, blank=True, db_index=True)
    object_id = models.CharField("对象ID", max_length=64, blank=True, db_index=True)
    object_repr = models.CharField("对象", max_length=200, blank=True)
    outcome = models.CharField("结果", max_length=16, choices=Outcome.choices, db_index=True)
    reason = models.TextField("原因", blank=True)
    detail = models.JSONField("详情", default=dict, blank=True)
    prev_hash = models.CharField("前一条哈希", max_length=64)
    hash = models.CharField("本条哈希 (SM3)", max_length=64, unique=True)

    class Meta:
        ordering = ["-seq"]
        verbose_name = "审计日志条目"
        verbose_name_plural = "审计日志"
        indexes = [models.Index(fields=["object_type", "object_id", "seq"])]
        default_permissions = ("view",)

    def __str__(self) -> str:
        return f"#{self.seq} {self.action} {self.outcome}"
