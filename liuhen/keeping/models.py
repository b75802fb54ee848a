"""What the keeping app stores: the bureau's audited changes to the retention table, legal
holds, and destruction registers (销毁清册) with their items."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils import timezone

from liuhen.access.querysets import RestrictedQuerySet
from liuhen.evidence.models import DisposalPermit
from liuhen.keeping.choices import DisposalItemOutcome, DisposalStatus, HoldKind, LongTermReason


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


class LegalHold(models.Model):
    """A hold on a case (all its records and every recording linked to it) or on one
    recording: nothing it covers is disposed of until it is released with a reason."""

    kind = models.CharField("事由", max_length=16, choices=HoldKind.choices)
    unit = models.ForeignKey("org.Unit", on_delete=models.PROTECT, related_name="+",
                             verbose_name="所属单位")
    case = models.ForeignKey("cases.Case", on_delete=models.PROTECT, null=True, blank=True,
                             related_name="legal_holds", verbose_name="案件")
    recording = models.ForeignKey("evidence.Recording", on_delete=models.PROTECT, null=True,
                                  blank=True, related_name="legal_holds", verbose_name="音像记录")
    reason = models.TextField("冻结理由")
    reference = models.CharField("文号/案号", max_length=120, blank=True)
    placed_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT,
                                  related_name="+", verbose_name="冻结人")
    placed_at = models.DateTimeField("冻结时间", default=timezone.now)
    released_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT,
                                    null=True, blank=True, related_name="+",
                                    verbose_name="解除人")
    released_at = models.DateTimeField("解除时间", null=True, blank=True)
    release_reason = models.TextField("解除理由", blank=True)

    objects = RestrictedQuerySet.as_manager()
    unit_lookup = "unit"
    case_lookup = "case"

    class Meta:
        verbose_name = "冻结（暂停销毁）"
        verbose_name_plural = "冻结（暂停销毁）"
        ordering = ["-placed_at", "-id"]
        constraints = [models.CheckConstraint(
            condition=models.Q(case__isnull=False) | models.Q(recording__isnull=False),
            name="legalhold_has_object")]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} {self.reference}".strip()

    @property
    def is_active(self) -> bool:
        return self.released_at is None


class DisposalList(models.Model):
    """A destruction register (销毁清册, 第十四条): the records keeper proposes the records
    past their date and not held; the unit head and the legal affairs office approve; only
    then is each original destroyed through ``evidence.disposal`` (its tombstone names this
    register's number)."""

    number = models.CharField("清册编号", max_length=60, unique=True)
    unit = models.ForeignKey("org.Unit", on_delete=models.PROTECT, related_name="+",
                             verbose_name="单位")
    status = models.CharField("状态", max_length=12, choices=DisposalStatus.choices,
                              default=DisposalStatus.PROPOSED)
    as_of = models.DateField("清理截止日")
    note = models.TextField("说明", blank=True)
    proposed_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT,
                                    related_name="+", verbose_name="提出人（档案管理人员）")
    proposed_at = models.DateTimeField("提出时间", default=timezone.now)
    head_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True,
                                blank=True, related_name="+", verbose_name="单位负责人")
    head_at = models.DateTimeField("单位负责人批准时间", null=True, blank=True)
    head_opinion = models.TextField("单位负责人意见", blank=True)
    legal_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True,
                                 blank=True, related_name="+", verbose_name="法制机构")
    legal_at = models.DateTimeField("法制机构批准时间", null=True, blank=True)
    legal_opinion = models.TextField("法制机构意见", blank=True)
    rejected_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT,
                                    null=True, blank=True, related_name="+",
                                    verbose_name="不予批准人")
    rejected_at = models.DateTimeField("不予批准时间", null=True, blank=True)
    executed_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT,
                                    null=True, blank=True, related_name="+",
                                    verbose_name="执行人")
    executed_at = models.DateTimeField("执行时间", null=True, blank=True)

    objects = RestrictedQuerySet.as_manager()
    unit_lookup = "unit"

    class Meta:
        verbose_name = "销毁清册"
        verbose_name_plural = "销毁清册"
        ordering = ["-proposed_at", "-id"]

    def __str__(self) -> str:
        return self.number


class DisposalItem(models.Model):
    """One record on a destruction register (a recording, a written record, or a version of a
    case file), with the retention that ended for it."""

    register = models.ForeignKey(DisposalList, on_delete=models.PROTECT, related_name="items",
                                 verbose_name="销毁清册")
    recording = models.ForeignKey("evidence.Recording", on_delete=models.PROTECT, null=True,
                                  blank=True, related_name="+", verbose_name="音像记录")
    document = models.ForeignKey("records.Document", on_delete=models.PROTECT, null=True,
                                 blank=True, related_name="+", verbose_name="文字记录")
    case_file = models.ForeignKey("keeping.CaseFile", on_delete=models.PROTECT, null=True,
                                  blank=True, related_name="+", verbose_name="卷宗")
    retention = models.JSONField("保存期限依据", default=dict)
    outcome = models.CharField("执行结果", max_length=12, choices=DisposalItemOutcome.choices,
                               default=DisposalItemOutcome.PENDING)
    outcome_note = models.CharField("说明", max_length=500, blank=True)

    objects = RestrictedQuerySet.as_manager()
    unit_lookup = "register__unit"

    class Meta:
        verbose_name = "销毁清册条目"
        verbose_name_plural = "销毁清册条目"
        ordering = ["register", "id"]
        constraints = [
            models.UniqueConstraint(fields=["register", "recording"],
                                    name="disposalitem_once_per_register"),
            models.UniqueConstraint(fields=["register", "document"],
                                    name="disposalitem_document_once"),
            models.UniqueConstraint(fields=["register", "case_file"],
                                    name="disposalitem_casefile_once"),
            models.CheckConstraint(
                condition=(models.Q(recording__isnull=False, document__isnull=True,
                                    case_file__isnull=True)
                           | models.Q(recording__isnull=True, document__isnull=False,
                                      case_file__isnull=True)
                           | models.Q(recording__isnull=True, document__isnull=True,
                                      case_file__isnull=False)),
                name="disposalitem_one_record"),
        ]

    def __str__(self) -> str:
        return f"{self.register_id}: {self.target}"

    @property
    def target(self):
        """The record this item destroys."""
        return self.recording or self.document or self.case_file


class CaseFile(models.Model):
    """One version of a case's file (卷宗, 第十二条) as PDF/A: cover, 卷内目录, the documents
    in their order, the audio-visual evidence list and the 备考表, pages numbered throughout.

    Assembled (a draft) when the case reaches the file stage; the records keeper checks and
    binds it, which gives it its 档号 and makes it immutable. A correction is a new version
    with a reason; the old one stays (``is_current`` false once the new one is bound).
    """

    case = models.ForeignKey("cases.Case", on_delete=models.PROTECT, related_name="case_files",
                             verbose_name="案件")
    version = models.PositiveIntegerField("版本", default=1)
    replaces = models.ForeignKey("self", on_delete=models.PROTECT, null=True, blank=True,
                                 related_name="+", verbose_name="更正的版本")
    correction_reason = models.TextField("更正理由", blank=True)
    is_bound = models.BooleanField("已装订", default=False)
    is_current = models.BooleanField("现行版本", default=True)
    archive_number = models.CharField("档号", max_length=80, blank=True, db_index=True)
    archive_year = models.PositiveSmallIntegerField("年度", null=True, blank=True)
    archive_period = models.CharField("保管期限代码", max_length=8, blank=True)
    archive_seq = models.PositiveIntegerField("件号", null=True, blank=True)
    retention_label = models.CharField("保管期限", max_length=40, blank=True)
    page_count = models.PositiveIntegerField("页数", default=0)
    contents = models.JSONField("卷内目录", default=list, blank=True)
    storage_key = models.CharField("存储键", max_length=300, blank=True)
    sha256 = models.CharField("SHA-256 摘要", max_length=64, blank=True)
    sm3 = models.CharField("SM3 摘要", max_length=64, blank=True)
    size = models.BigIntegerField("大小（字节）", default=0)
    assembled_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT,
                                     related_name="+", verbose_name="立卷人")
    assembled_at = models.DateTimeField("立卷时间", default=timezone.now)
    checked_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT,
                                   null=True, blank=True, related_name="+",
                                   verbose_name="检查人（档案管理人员）")
    checked_at = models.DateTimeField("检查装订时间", null=True, blank=True)
    # A tombstone (第十四条: the case file's period ended and it was lawfully disposed of,
    # keeping.disposal): the row stays, the PDF is erased; only with a CaseFileDisposal.
    disposed_at = models.DateTimeField("销毁时间", null=True, blank=True)
    disposal_register = models.CharField("销毁清册编号", max_length=60, blank=True, default="")

    objects = RestrictedQuerySet.as_manager()
    unit_lookup = "case__unit"
    case_lookup = "case"

    class Meta:
        verbose_name = "卷宗"
        verbose_name_plural = "卷宗"
        ordering = ["case", "-version"]
        constraints = [models.UniqueConstraint(fields=["case", "version"],
                                               name="casefile_version_once")]

    def __str__(self) -> str:
        return f"{self.archive_number or '（未装订）'} 第{self.version}版"


class CaseFileDisposal(DisposalPermit):
    """The authority for disposing of one case-file version, and what remains of its PDF
    (digests, approvals, register number); the database lets ``CaseFile.disposed_at`` be set
    only when this row exists (``triggers.install_tombstone``) and never lets it be deleted."""

    tombstone = models.OneToOneField(CaseFile, on_delete=models.PROTECT,
                                     related_name="disposal", verbose_name="卷宗")

    objects = RestrictedQuerySet.as_manager()
    unit_lookup = "tombstone__case__unit"
    case_lookup = "tombstone__case"

    class Meta(DisposalPermit.Meta):
        verbose_name = "卷宗销毁记录"
        verbose_name_plural = "卷宗销毁记录"


class LongTermMark(models.Model):
    """A case's recordings, or one recording, marked for long-term keeping (第十五条) with one
    of its four reasons; (四) needs a written explanation. Marked recordings are kept
    permanently (retention row ``recording.long_term``) and never listed for disposal."""

    reason = models.CharField("情形", max_length=16, choices=LongTermReason.choices)
    note = models.TextField("说明", blank=True)
    unit = models.ForeignKey("org.Unit", on_delete=models.PROTECT, related_name="+",
                             verbose_name="所属单位")
    case = models.ForeignKey("cases.Case", on_delete=models.PROTECT, null=True, blank=True,
                             related_name="long_term_marks", verbose_name="案件")
    recording = models.ForeignKey("evidence.Recording", on_delete=models.PROTECT, null=True,
                                  blank=True, related_name="long_term_marks",
                                  verbose_name="音像记录")
    marked_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT,
                                  related_name="+", verbose_name="标记人")
    marked_at = models.DateTimeField("标记时间", default=timezone.now)

    objects = RestrictedQuerySet.as_manager()
    unit_lookup = "unit"
    case_lookup = "case"

    class Meta:
        verbose_name = "长期保存标记"
        verbose_name_plural = "长期保存标记"
        ordering = ["-marked_at", "-id"]
        constraints = [models.CheckConstraint(
            condition=models.Q(case__isnull=False) | models.Q(recording__isnull=False),
            name="longtermmark_has_object")]

    def __str__(self) -> str:
        return self.get_reason_display()


class ArchivePackage(models.Model):
    """An archive package of one case (第十五条): where it was written, its signed manifest's
    digests, and the DA/T 70 four checks; ``preserved`` only when every check passed."""

    case = models.ForeignKey("cases.Case", on_delete=models.PROTECT,
                             related_name="archive_packages", verbose_name="案件")
    case_file = models.ForeignKey(CaseFile, on_delete=models.PROTECT, related_name="+",
                                  verbose_name="卷宗")
    external_id = models.CharField("包标识", max_length=120, unique=True)
    path = models.CharField("位置", max_length=500)
    manifest_sha256 = models.CharField("清单SHA-256", max_length=64)
    manifest_sm3 = models.CharField("清单SM3", max_length=64)
    payload_bytes = models.BigIntegerField("内容字节数")
    checks = models.JSONField("四性检测", default=dict)
    preserved = models.BooleanField("已登记长期保存", default=False)
    # The keys that signed it (as a supply records them): every later check compares with these.
    key_fingerprint = models.CharField("签名公钥指纹", max_length=64, blank=True, default="")
    sm2_key_fingerprint = models.CharField("SM2 签名公钥指纹", max_length=64, blank=True,
                                           default="")
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT,
                                   related_name="+", verbose_name="制作人")
    created_at = models.DateTimeField("制作时间", default=timezone.now)

    objects = RestrictedQuerySet.as_manager()
    unit_lookup = "case__unit"
    case_lookup = "case"

    class Meta:
        verbose_name = "档案包"
        verbose_name_plural = "档案包"
        ordering = ["-created_at", "-id"]

    def __str__(self) -> str:
        return self.external_id


class DiscBurn(models.Model):
    """光盘刻录登记 (第十五条: long-term keeping on disc): one disc image of an archive package,
    as written (its own size, SHA-256 and SM3, computed while it was written and checked by a
    read-back), then the disc burnt from it: label, medium, date, who burnt it and who checked
    it (two different people), where it is kept; and the latest read-back check of the disc.

    A row is made when the image is written (``burned_on`` empty: 待刻录); the records keeper
    registers the burn; a later check reads the disc (or its image) back and compares."""

    package = models.ForeignKey(ArchivePackage, on_delete=models.PROTECT,
                                related_name="disc_burns", verbose_name="档案包")
    archive_number = models.CharField("档号", max_length=80)
    volume = models.PositiveSmallIntegerField("卷号", default=1)
    volumes = models.PositiveSmallIntegerField("总卷数", default=1)
    medium = models.CharField("介质", max_length=8)
    volume_label = models.CharField("卷标", max_length=32)
    image_name = models.CharField("映像文件", max_length=200)
    image_path = models.CharField("映像位置", max_length=500)
    size = models.BigIntegerField("大小（字节）")
    sha256 = models.CharField("SHA-256 摘要", max_length=64)
    sm3 = models.CharField("SM3 摘要", max_length=64)
    written_at = models.DateTimeField("写入映像时间", default=timezone.now)
    disc_label = models.CharField("光盘标签", max_length=120, blank=True)
    burned_on = models.DateField("刻录日期", null=True, blank=True)
    operator = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True,
                                 blank=True, related_name="+", verbose_name="刻录人")
    checker = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True,
                                blank=True, related_name="+", verbose_name="检查人")
    location = models.CharField("存放位置", max_length=200, blank=True)
    registered_at = models.DateTimeField("登记时间", null=True, blank=True)
    checked_at = models.DateTimeField("最近回读校验时间", null=True, blank=True)
    check_ok = models.BooleanField("最近回读校验结果", null=True, blank=True)
    check_detail = models.TextField("回读校验说明", blank=True)

    objects = RestrictedQuerySet.as_manager()
    unit_lookup = "package__case__unit"
    case_lookup = "package__case"

    class Meta:
        verbose_name = "光盘刻录登记"
        verbose_name_plural = "光盘刻录登记"
        ordering = ["-written_at", "-id"]
        constraints = [models.UniqueConstraint(fields=["package", "volume"],
                                               name="discburn_volume_once")]

    def __str__(self) -> str:
        return self.disc_label or self.image_name
