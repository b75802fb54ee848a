"""Personal API tokens: how machine clients (ingest stations) prove who they act for."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils import timezone

from liuhen.access.choices import RequestStatus


class ApiToken(models.Model):
    """A personal API token for machine clients (ingest stations). Only its hash is stored."""

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE,
                             related_name="api_tokens", verbose_name="用户")
    name = models.CharField("用途", max_length=100)
    prefix = models.CharField("令牌前缀", max_length=12, unique=True)
    token_hash = models.CharField("令牌的 SHA-256 摘要", max_length=64)
    created_at = models.DateTimeField("创建时间", default=timezone.now)
    expires_at = models.DateTimeField("过期时间", null=True, blank=True)
    last_used_at = models.DateTimeField("最近使用", null=True, blank=True)
    revoked_at = models.DateTimeField("吊销时间", null=True, blank=True)

    class Meta:
        verbose_name = "API 令牌"
        verbose_name_plural = "API 令牌"
        ordering = ["-created_at"]
        # The table keeps the name it had in the org app (issue 15: models move, tables stay).
        db_table = "org_apitoken"

    def __str__(self) -> str:
        return f"{self.name} ({self.prefix}…)"

    @property
    def is_active(self) -> bool:
        now = timezone.now()
        return self.revoked_at is None and (self.expires_at is None or self.expires_at > now)


class AccessRequest(models.Model):
    """An access request (调阅申请, 第十六条): who asks to view, copy or export which record,
    for what work and for how long. It goes to the head of the unit that owns the record;
    the decision makes a ``Grant`` (perhaps narrowed) or records the refusal and its reason.

    The record is named generically (``target_type`` "app.model" + ``target_id``): access
    sits below the apps that own records and never imports their models."""

    number = models.CharField("申请编号", max_length=30, unique=True)
    requester = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT,
                                  related_name="access_requests", verbose_name="申请人")
    target_type = models.CharField("记录类型", max_length=40)
    target_id = models.CharField("记录编号", max_length=64)
    target_label = models.CharField("记录", max_length=200)
    unit = models.ForeignKey("org.Unit", on_delete=models.PROTECT, related_name="+",
                             verbose_name="记录所属单位")
    actions = models.JSONField("申请事项", default=list)
    reason = models.TextField("工作事由")
    wanted_from = models.DateTimeField("申请期限自")
    wanted_until = models.DateTimeField("申请期限至")
    status = models.CharField("状态", max_length=12, choices=RequestStatus.choices,
                              default=RequestStatus.PENDING, db_index=True)
    created_at = models.DateTimeField("申请时间", default=timezone.now)
    decided_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT,
                                   null=True, blank=True, related_name="+",
                                   verbose_name="审批人")
    decided_at = models.DateTimeField("审批时间", null=True, blank=True)
    decision_note = models.TextField("审批意见", blank=True)

    class Meta:
        verbose_name = "调阅申请"
        verbose_name_plural = "调阅申请"
        ordering = ["-created_at", "-id"]
        indexes = [models.Index(fields=["status", "unit"], name="accessreq_status_unit")]

    def __str__(self) -> str:
        return f"{self.number} {self.target_label}"


class Grant(models.Model):
    """A time-boxed grant (调阅授权) made by approving a request: what the approver allowed,
    which may be narrower than what was asked (actions, period). Checked at every use
    (``access.use.check_use``); revocable; expiry needs no job, it is compared each time."""

    number = models.CharField("授权编号", max_length=30, unique=True)
    request = models.OneToOneField(AccessRequest, on_delete=models.PROTECT, related_name="grant",
                                   verbose_name="调阅申请")
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT,
                             related_name="access_grants", verbose_name="被授权人")
    target_type = models.CharField("记录类型", max_length=40)
    target_id = models.CharField("记录编号", max_length=64)
    actions = models.JSONField("授权事项", default=list)
    valid_from = models.DateTimeField("有效期自")
    valid_until = models.DateTimeField("有效期至")
    granted_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT,
                                   related_name="+", verbose_name="批准人")
    granted_at = models.DateTimeField("批准时间", default=timezone.now)
    revoked_at = models.DateTimeField("撤销时间", null=True, blank=True)
    revoked_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT,
                                   null=True, blank=True, related_name="+",
                                   verbose_name="撤销人")
    revoke_reason = models.TextField("撤销理由", blank=True)

    class Meta:
        verbose_name = "调阅授权"
        verbose_name_plural = "调阅授权"
        ordering = ["-granted_at", "-id"]
        indexes = [models.Index(fields=["user", "valid_until"], name="grant_user_until")]

    def __str__(self) -> str:
        return self.number

    def is_active_at(self, at) -> bool:
        return self.revoked_at is None and self.valid_from <= at < self.valid_until
