"""Written records of a case: documents (第四条), internal approvals (第十九条) and service
(第五条). Their tables keep the names they had in the cases app (``cases_document``, …)."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils import timezone

from liuhen.access.querysets import RestrictedQuerySet
from liuhen.access.use import UseTarget
from liuhen.cases.choices import Stage
from liuhen.core.per_request import remembered
from liuhen.evidence.models import DisposalPermit
from liuhen.records.choices import (
    ApprovalAction,
    ApprovalDecision,
    DocumentType,
    ServiceMethod,
    SignatureStatus,
)


class Document(models.Model):
    """One written record (文字记录) of a case with its stored file; never altered in place.

    A replacement is a new row with ``replaces`` pointing at the old one, which stays with
    ``is_current=False`` (第十条: every step keeps its trace).
    """

    case = models.ForeignKey(
        "cases.Case", on_delete=models.PROTECT, related_name="documents", verbose_name="案件"
    )
    doc_type = models.CharField(
        "文书类型", max_length=32, choices=DocumentType.choices, db_index=True
    )
    number = models.CharField("文号", max_length=80, blank=True)
    date = models.DateField("文书日期", null=True, blank=True)
    stage = models.CharField("环节", max_length=16, choices=Stage.choices, blank=True)
    parties = models.ManyToManyField(
        "cases.Party", related_name="documents", blank=True, verbose_name="当事人"
    )
    signature = models.CharField(
        "签收情况", max_length=16, choices=SignatureStatus.choices, default=SignatureStatus.PENDING
    )
    original_name = models.CharField("原始文件名", max_length=255, blank=True)
    size = models.BigIntegerField("文件大小", null=True, blank=True)
    media_type = models.CharField("文件类型", max_length=100, blank=True)
    sha256 = models.CharField("SHA-256 摘要", max_length=64, blank=True)
    sm3 = models.CharField("SM3 摘要", max_length=64, blank=True)
    storage_key = models.CharField("存储键", max_length=300, blank=True)
    version = models.PositiveIntegerField("版本", default=1)
    replaces = models.ForeignKey(
        "self",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="replaced_by",
        verbose_name="替换的版本",
    )
    is_current = models.BooleanField("现行版本", default=True, db_index=True)
    generated = models.BooleanField("系统生成", default=False)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+", verbose_name="登记人"
    )
    created_at = models.DateTimeField("登记时间", default=timezone.now)
    note = models.TextField("备注", blank=True)
    extra = models.JSONField("附加信息", default=dict, blank=True)
    # A tombstone (第十四条: kept with its case file, then lawfully disposed of through
    # keeping.disposal): the row stays, its stored scan is erased; only with a DocumentDisposal.
    disposed_at = models.DateTimeField("销毁时间", null=True, blank=True, db_index=True)
    disposal_register = models.CharField("销毁清册编号", max_length=60, blank=True, default="")

    objects = RestrictedQuerySet.as_manager()
    unit_lookup = "case__unit"
    case_lookup = "case"

    class Meta:
        verbose_name = "文字记录"
        verbose_name_plural = "文字记录"
        db_table = "cases_document"  # the table keeps its name from the cases app (issue 15)
        ordering = ["case", "date", "id"]
        indexes = [models.Index(fields=["case", "doc_type", "is_current"])]

    def __str__(self) -> str:
        label = self.get_doc_type_display()
        return f"{label} {self.number}".strip()

    @property
    def has_file(self) -> bool:
        return bool(self.storage_key)

    def use_target(self) -> UseTarget:
        """A document is used under its case's rules (``access.use``); its author counts as
        the one who produced it while the case is handled."""
        case = self.case
        return UseTarget(type="records.document", id=str(self.pk), label=str(self)[:200],
                         unit=case.unit, case_ids=frozenset({case.pk}),
                         handling_user_ids=case.handling_user_ids(),
                         producer_user_ids=frozenset({self.created_by_id}), open=case.is_handled)


class DocumentDisposal(DisposalPermit):
    """The authority for disposing of one written record and what remains of its scan
    (digests, approvals, register number): written once by ``keeping.disposal`` after both
    approvals; the database lets ``Document.disposed_at`` be set only when this row exists
    (``triggers.install_tombstone``) and never lets it be deleted."""

    tombstone = models.OneToOneField(Document, on_delete=models.PROTECT,
                                     related_name="disposal", verbose_name="文字记录")

    objects = RestrictedQuerySet.as_manager()
    unit_lookup = "tombstone__case__unit"
    case_lookup = "tombstone__case"

    class Meta(DisposalPermit.Meta):
        verbose_name = "文字记录销毁记录"
        verbose_name_plural = "文字记录销毁记录"


class Approval(models.Model):
    """One internal approval (内部审批, 第十九条): requested, then approved or rejected."""

    case = models.ForeignKey(
        "cases.Case", on_delete=models.PROTECT, related_name="approvals", verbose_name="案件"
    )
    action = models.CharField(
        "审批事项", max_length=32, choices=ApprovalAction.choices, db_index=True
    )
    requested_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+", verbose_name="申请人"
    )
    requested_at = models.DateTimeField("申请时间", default=timezone.now)
    approver = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
        verbose_name="审批人",
    )
    approver_role = models.CharField("审批人角色", max_length=32, blank=True)
    decision = models.CharField(
        "审批结果",
        max_length=16,
        choices=ApprovalDecision.choices,
        default=ApprovalDecision.PENDING,
        db_index=True,
    )
    opinion = models.TextField("审批意见", blank=True)
    decided_at = models.DateTimeField("审批时间", null=True, blank=True)
    requirement_code = models.CharField("豁免的要求", max_length=80, blank=True)
    reason = models.TextField("申请理由", blank=True)

    objects = RestrictedQuerySet.as_manager()
    unit_lookup = "case__unit"
    case_lookup = "case"

    class Meta:
        verbose_name = "内部审批"
        verbose_name_plural = "内部审批"
        db_table = "cases_approval"  # the table keeps its name from the cases app (issue 15)
        ordering = ["case", "requested_at", "id"]
        indexes = [models.Index(fields=["case", "action", "decision"])]

    def __str__(self) -> str:
        return f"{self.get_action_display()}（{self.get_decision_display()}）"


class Service(models.Model):
    """One service (送达) of a document on a party, with method and signature (第五条)."""

    case = models.ForeignKey(
        "cases.Case", on_delete=models.PROTECT, related_name="services", verbose_name="案件"
    )
    document = models.ForeignKey(
        Document, on_delete=models.PROTECT, related_name="services", verbose_name="送达文书"
    )
    method = models.CharField("送达方式", max_length=24, choices=ServiceMethod.choices)
    served_at = models.DateTimeField("送达时间")
    recipient = models.CharField("受送达人", max_length=200)
    signature = models.CharField(
        "签收情况", max_length=16, choices=SignatureStatus.choices, default=SignatureStatus.SIGNED
    )
    witnesses = models.CharField("见证人", max_length=200, blank=True)
    note = models.TextField("备注", blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+", verbose_name="登记人"
    )
    created_at = models.DateTimeField("登记时间", default=timezone.now)

    objects = RestrictedQuerySet.as_manager()
    unit_lookup = "case__unit"
    case_lookup = "case"

    class Meta:
        verbose_name = "送达记录"
        verbose_name_plural = "送达记录"
        db_table = "cases_service"  # the table keeps its name from the cases app (issue 15)
        ordering = ["case", "served_at", "id"]

    def __str__(self) -> str:
        return f"{self.get_method_display()} {self.recipient}"


def current_documents(case) -> tuple[Document, ...]:
    """The case's current documents (文书), oldest first; read once per reading request
    (``core.per_request``: the case page's deadlines panel counts from them, its retention
    panel asks whether a decision was made, its disclosure panel offers them to copy). Callers
    read them and change nothing."""

    def read() -> tuple[Document, ...]:
        return tuple(Document.objects.filter(case=case, is_current=True).order_by("date", "id"))

    return remembered(("case_current_documents", case.pk), read)

