"""What leaves the bureau (第十七条): party copies (当事人复制, 第十七条第二款) — what a party
asked for, who approved it, exactly what was handed over — and supplies to a review body or a
court (第十七条第三款) with the signed evidence package kept as supplied (复制留存)."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils import timezone

from liuhen.access.querysets import RestrictedQuerySet
from liuhen.disclosure.choices import (
    BodyKind,
    Confidentiality,
    CopyStatus,
    IdentityCheck,
    MadeStatus,
    SupplyStatus,
)


class PartyCopy(models.Model):
    """One party's request for a copy of a recording or of a case document (文书), from
    registration to hand-over.

    The copy is never the original: a new file with the recipient, the time and this
    register's number burnt into every frame, onto the photo or over every PDF page
    (liuhen.redaction), stored beside the original with its own SHA-256 and SM3, so the bureau
    can later prove what it gave."""

    number = models.CharField("登记编号", max_length=30, unique=True)
    recording = models.ForeignKey("evidence.Recording", on_delete=models.PROTECT, null=True,
                                  blank=True, related_name="party_copies",
                                  verbose_name="音像记录")
    # 第十七条第二款: a party may ask for copies of the case's documents (文书 PDFs) too.
    document = models.ForeignKey("records.Document", on_delete=models.PROTECT, null=True,
                                 blank=True, related_name="party_copies",
                                 verbose_name="文字记录")
    # The unit that owns the record (the recording's, or the document's case's): the register
    # is scoped by it whichever kind of record was asked for.
    unit = models.ForeignKey("org.Unit", on_delete=models.PROTECT, null=True, blank=True,
                             related_name="+", verbose_name="记录所属单位")
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
    # 第十七条第四款: what the copy hides (liuhen.redaction.RedactionPlan as JSON), set before
    # approval so the approver sees it; empty: nothing hidden.
    redaction_plan = models.JSONField("遮挡方案", default=dict, blank=True)

    objects = RestrictedQuerySet.as_manager()
    unit_lookup = "unit"

    class Meta:
        verbose_name = "当事人复制登记"
        verbose_name_plural = "当事人复制登记"
        ordering = ["-registered_at", "-id"]
        constraints = [models.CheckConstraint(
            condition=models.Q(recording__isnull=False, document__isnull=True)
            | models.Q(recording__isnull=True, document__isnull=False),
            name="disclosure_partycopy_one_record")]

    def __str__(self) -> str:
        return f"{self.number} {self.recipient_name}"

    @property
    def record(self):
        """The recording or the document the party asked for."""
        return self.recording if self.recording_id else self.document

    @property
    def record_name(self) -> str:
        if self.recording_id:
            return self.recording.original_name
        return f"{self.document.get_doc_type_display()} {self.document.number}".strip()


class Supply(models.Model):
    """One supply of records to a review body or a court (第十七条第三款), from their letter to
    the package handed over: what was asked (the body, their letter's 文号, the records), who
    approved it (the leader in charge), and the signed package as supplied, kept unchanged
    (复制留存) with the digests of its manifest and of the ZIP file given out."""

    number = models.CharField("提供登记编号", max_length=30, unique=True)
    body_kind = models.CharField("提供对象", max_length=10, choices=BodyKind.choices)
    body_name = models.CharField("机关名称", max_length=200)
    letter_number = models.CharField("来函文号/案号", max_length=100)
    received_on = models.DateField("收到申请书/起诉状副本之日")
    response_due = models.DateField("答复/举证期限", null=True, blank=True)
    response_rule = models.CharField("期限依据", max_length=200, blank=True)
    case = models.ForeignKey("cases.Case", on_delete=models.PROTECT, related_name="supplies",
                             verbose_name="案件")
    recordings = models.ManyToManyField("evidence.Recording", blank=True, related_name="supplies",
                                        verbose_name="音像记录")
    documents = models.ManyToManyField("records.Document", blank=True, related_name="supplies",
                                       verbose_name="文字记录")
    note = models.TextField("说明", blank=True)
    status = models.CharField("状态", max_length=10, choices=SupplyStatus.choices,
                              default=SupplyStatus.REQUESTED, db_index=True)
    requested_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT,
                                     related_name="+", verbose_name="登记人")
    requested_at = models.DateTimeField("登记时间", default=timezone.now)
    decided_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT,
                                   null=True, blank=True, related_name="+",
                                   verbose_name="审批人（主管负责人）")
    decided_at = models.DateTimeField("审批时间", null=True, blank=True)
    decision_note = models.TextField("审批意见", blank=True)
    package_id = models.CharField("证据包编号", max_length=100, blank=True)
    package_path = models.CharField("留存位置", max_length=500, blank=True)
    manifest_sha256 = models.CharField("清单 SHA-256", max_length=64, blank=True)
    manifest_sm3 = models.CharField("清单 SM3", max_length=64, blank=True)
    zip_sha256 = models.CharField("压缩包的 SHA-256 摘要", max_length=64, blank=True)
    zip_sm3 = models.CharField("压缩包的 SM3 摘要", max_length=64, blank=True)
    zip_size = models.BigIntegerField("ZIP 大小（字节）", null=True, blank=True)
    file_count = models.PositiveIntegerField("文件数", null=True, blank=True)
    payload_bytes = models.BigIntegerField("内容大小（字节）", null=True, blank=True)
    key_fingerprint = models.CharField("签名公钥指纹", max_length=64, blank=True)
    sm2_key_fingerprint = models.CharField("SM2 签名公钥指纹", max_length=64, blank=True,
                                           default="")
    built_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True,
                                 blank=True, related_name="+", verbose_name="制作人")
    built_at = models.DateTimeField("制作时间", null=True, blank=True)
    supplied_at = models.DateTimeField("提供时间", null=True, blank=True)
    supplied_how = models.CharField("提供方式", max_length=200, blank=True)

    objects = RestrictedQuerySet.as_manager()
    unit_lookup = "case__unit"
    case_lookup = "case"

    class Meta:
        verbose_name = "提供登记（复议、诉讼）"
        verbose_name_plural = "提供登记（复议、诉讼）"
        ordering = ["-requested_at", "-id"]

    def __str__(self) -> str:
        return f"{self.number} {self.body_name}"


class ConfidentialityMark(models.Model):
    """A confidentiality mark on a case or a recording (第十七条第四款), with its reason.

    Never changed in place: a change is a new current row and the old one stays with
    ``is_current=False``, so who marked what, when and why can always be read back."""

    case = models.ForeignKey("cases.Case", on_delete=models.PROTECT, null=True, blank=True,
                             related_name="confidentiality_marks", verbose_name="案件")
    recording = models.ForeignKey("evidence.Recording", on_delete=models.PROTECT, null=True,
                                  blank=True, related_name="confidentiality_marks",
                                  verbose_name="音像记录")
    level = models.CharField("保密标记", max_length=14, choices=Confidentiality.choices)
    reason = models.TextField("理由")
    set_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT,
                               related_name="+", verbose_name="标记人")
    set_at = models.DateTimeField("标记时间", default=timezone.now)
    is_current = models.BooleanField("现行", default=True, db_index=True)

    class Meta:
        verbose_name = "保密标记"
        verbose_name_plural = "保密标记"
        ordering = ["-set_at", "-id"]
        constraints = [models.CheckConstraint(
            condition=models.Q(case__isnull=False, recording__isnull=True)
            | models.Q(case__isnull=True, recording__isnull=False),
            name="disclosure_mark_one_target")]

    def __str__(self) -> str:
        return f"{self.get_level_display()}：{self.case or self.recording}"


class UnusualUseThresholds(models.Model):
    """The thresholds the unusual-use listing applies (第二十六条第三项), as the bureau set them.

    Each change is a new row with its reason, never an edit: raising a threshold hides uses
    from the legal affairs office, so who did it, when and why stays on record (and in the
    audit log). The newest row is in force; with none, ``unusual.DEFAULTS``."""

    burst_count = models.PositiveSmallIntegerField("短时大量使用：次数（不少于）")
    burst_minutes = models.PositiveSmallIntegerField("短时大量使用：时间窗（分钟）")
    work_start = models.TimeField("工作时间起")
    work_end = models.TimeField("工作时间止")
    reason = models.TextField("调整理由")
    set_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT,
                               related_name="+", verbose_name="调整人")
    set_at = models.DateTimeField("调整时间", default=timezone.now)

    class Meta:
        verbose_name = verbose_name_plural = "异常使用阈值"
        ordering = ["-set_at", "-pk"]

    def __str__(self):
        return (f"{self.burst_minutes} 分钟内不少于 {self.burst_count} 次；"
                f"工作时间 {self.work_start:%H:%M}–{self.work_end:%H:%M}")


class UseCopy(models.Model):
    """An internal copy (复制, 第十六条) made for the holder of a copy grant: never the original,
    a derived file with the holder's name and number, the time and the grant number burnt into
    every frame, page or photo, stored beside the original with its own SHA-256 and SM3 and
    linked to the original (its digests) and the grant it was made under."""

    number = models.CharField("复制件编号", max_length=30, unique=True)
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT,
                             related_name="+", verbose_name="复制人")
    grant = models.ForeignKey("access.Grant", on_delete=models.PROTECT, related_name="copies",
                              verbose_name="调阅授权")
    recording = models.ForeignKey("evidence.Recording", on_delete=models.PROTECT, null=True,
                                  blank=True, related_name="use_copies", verbose_name="音像记录")
    document = models.ForeignKey("records.Document", on_delete=models.PROTECT, null=True,
                                 blank=True, related_name="use_copies", verbose_name="文字记录")
    status = models.CharField("状态", max_length=10, choices=MadeStatus.choices,
                              default=MadeStatus.PENDING, db_index=True)
    watermark = models.CharField("水印内容", max_length=300)
    source_sha256 = models.CharField("原件的 SHA-256 摘要", max_length=64)
    source_sm3 = models.CharField("原件的 SM3 摘要", max_length=64, blank=True)
    copy_key = models.CharField("复制件存储键", max_length=300, blank=True)
    copy_sha256 = models.CharField("复制件的 SHA-256 摘要", max_length=64, blank=True)
    copy_sm3 = models.CharField("复制件的 SM3 摘要", max_length=64, blank=True)
    copy_size = models.BigIntegerField("复制件大小（字节）", null=True, blank=True)
    copy_description = models.JSONField("复制件说明", default=dict, blank=True)
    requested_at = models.DateTimeField("申请时间", default=timezone.now)
    made_at = models.DateTimeField("生成时间", null=True, blank=True)
    failure = models.TextField("失败原因", blank=True)

    class Meta:
        verbose_name = "内部复制件登记"
        verbose_name_plural = "内部复制件登记"
        ordering = ["-requested_at", "-id"]
        constraints = [models.CheckConstraint(
            condition=models.Q(recording__isnull=False, document__isnull=True)
            | models.Q(recording__isnull=True, document__isnull=False),
            name="disclosure_usecopy_one_record")]

    def __str__(self) -> str:
        return self.number

    @property
    def record(self):
        return self.recording if self.recording_id else self.document


class Export(models.Model):
    """An export (拷贝/导出, 第十六条) under an export grant: the chosen records as one signed
    package built by the shared ``liuhen.packaging`` builder with the offline verifier inside,
    every file a watermarked derived copy. What left (each file with the digests of its
    original and of its copy) and the package's digests are registered, and the package is
    kept read-only under ``settings.EXPORT_DIR`` as it was handed out."""

    number = models.CharField("导出编号", max_length=30, unique=True)
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT,
                             related_name="+", verbose_name="导出人")
    grant = models.ForeignKey("access.Grant", on_delete=models.PROTECT, related_name="exports",
                              verbose_name="调阅授权")
    case = models.ForeignKey("cases.Case", on_delete=models.PROTECT, null=True, blank=True,
                             related_name="+", verbose_name="案件")
    recordings = models.ManyToManyField("evidence.Recording", blank=True, related_name="+",
                                        verbose_name="音像记录")
    documents = models.ManyToManyField("records.Document", blank=True, related_name="+",
                                       verbose_name="文字记录")
    status = models.CharField("状态", max_length=10, choices=MadeStatus.choices,
                              default=MadeStatus.PENDING, db_index=True)
    watermark = models.CharField("水印内容", max_length=300)
    items = models.JSONField("导出的文件", default=list, blank=True)
    package_id = models.CharField("导出包编号", max_length=100, blank=True)
    package_path = models.CharField("留存位置", max_length=500, blank=True)
    manifest_sha256 = models.CharField("清单的 SHA-256 摘要", max_length=64, blank=True)
    manifest_sm3 = models.CharField("清单的 SM3 摘要", max_length=64, blank=True)
    zip_sha256 = models.CharField("压缩包的 SHA-256 摘要", max_length=64, blank=True)
    zip_sm3 = models.CharField("压缩包的 SM3 摘要", max_length=64, blank=True)
    zip_size = models.BigIntegerField("压缩包大小（字节）", null=True, blank=True)
    key_fingerprint = models.CharField("签名公钥指纹", max_length=64, blank=True)
    sm2_key_fingerprint = models.CharField("SM2 签名公钥指纹", max_length=64, blank=True)
    requested_at = models.DateTimeField("申请时间", default=timezone.now)
    made_at = models.DateTimeField("生成时间", null=True, blank=True)
    failure = models.TextField("失败原因", blank=True)

    class Meta:
        verbose_name = "拷贝导出登记"
        verbose_name_plural = "拷贝导出登记"
        ordering = ["-requested_at", "-id"]

    def __str__(self) -> str:
        return self.number
