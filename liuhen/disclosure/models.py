"""Party copies (当事人复制, 第十七条第二款): what a party asked for, who approved it, and
exactly what was handed over (a derived, watermarked file with its own digests)."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils import timezone

from liuhen.access.querysets import RestrictedQuerySet
from liuhen.disclosure.choices import CopyStatus, IdentityCheck


class PartyCopy(models.Model):
    """One party's request for a copy of a recording, from registration to hand-over.

    The copy is never the original: a new file with the recipient, the time and this
    register's number burnt into every frame (liuhen.redaction), stored beside the original
    with its own SHA-256 and SM3, so the bureau can later prove what it gave."""

    number = models.CharField("登记编号", max_length=30, unique=True)
    recording = models.ForeignKey("evidence.Recording", on_delete=models.PROTECT,
                                  related_name="party_copies", verbose_name="音像记录")
    party = models.ForeignKey("cases.Party", on_delete=models.PROTECT, null=True, blank=True,
                              related_name="+", verbose_name="当事人")
    recipient_name = models.CharField("申请人", max_length=100)
    recipient_number = models.CharField("证件号码（脱敏）", max_length=40, blank=True)
    identity_check = models.CharField("身份核验方式", max_length=20,
                                      choices=IdentityCheck.choices)
    reason = models.TextField("申请理由")
    status = models.CharField("状态", max_length=12, choices=CopyStatus.choices,
                              default=CopyStatus.REGISTERED, db_index=True)
    registered_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT,
                                      related_name="+", verbose_name="登记人")
    registered_at = models.DateTimeField("登记时间", default=timezone.now)
    decided_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT,
                                   null=True, blank=True, related_name="+",
                                   verbose_name="审批人（主管负责人）")
    decided_at = models.DateTimeField("审批时间", null=True, blank=True)
    decision_note = models.TextField("审批意见", blank=True)
    copy_key = models.CharField("副本存储键", max_length=300, blank=True)
    copy_sha256 = models.CharField("副本 SHA-256", max_length=64, blank=True)
    copy_sm3 = models.CharField("副本 SM3", max_length=64, blank=True)
    copy_size = models.BigIntegerField("副本大小（字节）", null=True, blank=True)
    copy_description = models.JSONField("副本说明", default=dict, blank=True)
    made_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True,
                                blank=True, related_name="+", verbose_name="制作人")
    made_at = models.DateTimeField("制作时间", null=True, blank=True)
    handed_over_at = models.DateTimeField("交付时间", null=True, blank=True)

    objects = RestrictedQuerySet.as_manager()
    unit_lookup = "recording__unit"
    case_lookup = "recording__case"

    class Meta:
        verbose_name = "当事人复制登记"
        verbose_name_plural = "当事人复制登记"
        ordering = ["-registered_at", "-id"]

    def __str__(self) -> str:
        return f"{self.number} {self.recipient_name}"
