"""Cases, parties, patrols and the stage log (第二条)."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils import timezone

from liuhen.access.querysets import RestrictedQuerySet
from liuhen.access.use import UseTarget
from liuhen.cases.choices import CaseKind, CaseSource, PartyKind, PenaltyOutcome, Stage
from liuhen.cases.validators import mask_number, mask_party_name
from liuhen.core.per_request import remembered


class Party(models.Model):
    """A person or organisation an enforcement act concerns (当事人)."""

    unit = models.ForeignKey("org.Unit", on_delete=models.PROTECT, related_name="parties",
                             verbose_name="登记单位")
    kind = models.CharField("类型", max_length=16, choices=PartyKind.choices)
    name = models.CharField("名称/姓名", max_length=200)
    id_number = models.CharField("身份证号/统一社会信用代码", max_length=18, db_index=True)
    legal_representative = models.CharField("法定代表人", max_length=50, blank=True)
    phone = models.CharField("联系电话", max_length=30, blank=True)
    address = models.CharField("地址", max_length=200, blank=True)
    created_at = models.DateTimeField("登记时间", default=timezone.now)

    objects = RestrictedQuerySet.as_manager()
    unit_lookup = "unit"

    class Meta:
        verbose_name = "当事人"
        verbose_name_plural = "当事人"
        ordering = ["name"]
        constraints = [models.UniqueConstraint(fields=["unit", "id_number"], name="party_unique_per_unit")]

    def __str__(self) -> str:
        # Masked: str() reaches the audit log (object_repr, its CSV), admin titles and any
        # default rendering, which people outside the handling unit read (第十七条第四款,
        # liuhen/cases/privacy.py). Code that needs the name reads ``name``.
        return self.masked_name

    @property
    def masked_id_number(self) -> str:
        return mask_number(self.id_number)

    @property
    def masked_name(self) -> str:
        return mask_party_name(self.kind, self.name)


class Patrol(models.Model):
    """A patrol shift (日常巡查); its recordings may later be linked to a case."""

    unit = models.ForeignKey("org.Unit", on_delete=models.PROTECT, related_name="patrols",
                             verbose_name="执法单位")
    date = models.DateField("巡查日期")
    area = models.CharField("巡查区域", max_length=200)
    officers = models.ManyToManyField("org.Officer", related_name="patrols", verbose_name="执法人员")
    notes = models.TextField("巡查情况", blank=True)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT,
                                   related_name="+", verbose_name="登记人")
    created_at = models.DateTimeField("登记时间", default=timezone.now)

    objects = RestrictedQuerySet.as_manager()
    unit_lookup = "unit"

    class Meta:
        verbose_name = "日常巡查"
        verbose_name_plural = "日常巡查"
        ordering = ["-date", "-id"]

    def __str__(self) -> str:
        return f"{self.date:%Y-%m-%d} {self.area}"


class CaseCounter(models.Model):
    """The last case number issued per unit prefix and year."""

    prefix = models.CharField("编号前缀", max_length=20)
    year = models.PositiveSmallIntegerField("年度")
    last = models.PositiveIntegerField("已发出的最后序号", default=0)

    class Meta:
        verbose_name = verbose_name_plural = "案件编号计数"
        constraints = [models.UniqueConstraint(fields=["prefix", "year"], name="case_counter_unique")]


class Case(models.Model):
    """One enforcement act (执法案件) from initiation to archiving."""

    number = models.CharField("案件编号", max_length=60, unique=True)
    year = models.PositiveSmallIntegerField("年度")
    unit = models.ForeignKey("org.Unit", on_delete=models.PROTECT, related_name="cases",
                             verbose_name="执法单位")
    kind = models.CharField("执法行为", max_length=16, choices=CaseKind.choices, db_index=True)
    cause = models.CharField("案由", max_length=300)
    source = models.CharField("案件来源", max_length=16, choices=CaseSource.choices)
    stage = models.CharField("环节", max_length=16, choices=Stage.choices,
                             default=Stage.INITIATION, db_index=True)
    parties = models.ManyToManyField(Party, related_name="cases", blank=True, verbose_name="当事人")
    officers = models.ManyToManyField("org.Officer", related_name="cases", verbose_name="承办人员")
    patrol = models.ForeignKey(Patrol, null=True, blank=True, on_delete=models.PROTECT,
                               related_name="cases", verbose_name="来源巡查")
    summary = models.TextField("案情摘要", blank=True)
    # Facts that make audio-visual recording mandatory (第五条); the rules app reads them.
    is_random_inspection = models.BooleanField("随机抽查", default=False)
    is_disputed = models.BooleanField("易引发争议的现场检查", default=False)
    is_major_incident = models.BooleanField("重大、突发事件", default=False)
    hearing_requested = models.BooleanField("当事人申请听证", default=False)
    # 行政处罚法第五十七条第二款 (集体讨论) and 第五十八条第一款第三项 (法制审核).
    is_complex_or_major = models.BooleanField("情节复杂或者重大违法行为", default=False)
    # 第五条第三款: “当场不利于制作劳动保障监察文书及书面记录的” and “其他需要音像记录的情况”
    # (with the reason) also make audio-visual recording mandatory.
    written_record_impractical = models.BooleanField(
        "当场不利于制作执法文书及书面记录", default=False
    )
    av_other_reason = models.CharField(
        "其他需要音像记录的情况（理由）", max_length=300, blank=True
    )
    # Acts recorded out of the law's order (a decision before the party's window closed, …),
    # computed by the deadlines app (deadlines/procedure.py) and read by the completeness rules:
    # a list of {"code", "text", "citation"}. Never typed by hand.
    procedure_flags = models.JSONField("程序顺序提示", default=list, blank=True, editable=False)
    complaint_received_on = models.DateField("收到投诉/举报日期", null=True, blank=True)
    opened_on = models.DateField("立案日期", db_index=True)
    decided_on = models.DateField("决定日期", null=True, blank=True)
    # 行政处罚法第六十七条, 第七十二条: a fine to pay starts the payment deadline and the surcharge;
    # a decision of 警告 only or 不予行政处罚 (第五十七条第一款第二、三项) starts neither.
    penalty_outcome = models.CharField("处罚决定内容", max_length=16, blank=True, default="",
                                       choices=PenaltyOutcome.choices)
    closed_on = models.DateField("结案日期", null=True, blank=True)
    archived_at = models.DateTimeField("归档时间", null=True, blank=True)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT,
                                   related_name="+", verbose_name="登记人")
    created_at = models.DateTimeField("登记时间", default=timezone.now)
    updated_at = models.DateTimeField("最近变更", default=timezone.now)

    objects = RestrictedQuerySet.as_manager()
    unit_lookup = "unit"
    case_lookup = "pk"

    class Meta:
        verbose_name = "执法案件"
        verbose_name_plural = "执法案件"
        ordering = ["-opened_on", "-id"]
        # The case list (cases.queries) orders by (opened_on, id) newest first. Each index is
        # that order behind one filter column, and ends in unit_id so that a unit head's scope
        # (unit IN the sub-units) is checked in the index: counts and deep pages are then
        # index-only scans, not a table lookup per case (bench/bench_cases.py).
        indexes = [
            models.Index(fields=["unit", "-opened_on", "-id"]),
            models.Index(fields=["stage", "-opened_on", "-id", "unit"], name="case_stage_opened_unit"),
            models.Index(fields=["kind", "-opened_on", "-id", "unit"], name="case_kind_opened_unit"),
            models.Index(fields=["-opened_on", "-id", "unit"], name="case_opened_unit"),
        ]

    def __str__(self) -> str:
        return f"{self.number} {self.cause}"

    @property
    def is_handled(self) -> bool:
        """Still being handled (办理期间): not archived."""
        return self.archived_at is None and self.stage != Stage.ARCHIVING

    def handling_user_ids(self) -> frozenset[int]:
        """The users of the case's own officers while it is handled (by right, 第十六条)."""
        if not self.is_handled:
            return frozenset()
        return frozenset(officer.user_id for officer in self.officer_list())

    def officer_list(self) -> tuple:
        """Its officers with their units, by name; read once per reading request
        (``core.per_request``: the case page lists them, and the rights it looks up ask who
        handles the case)."""

        def read() -> tuple:
            return tuple(self.officers.select_related("unit").order_by("name"))

        return remembered(("case_officers", self.pk), read)

    def party_list(self) -> tuple:
        """Its parties; read once per reading request (``core.per_request``: the case page
        shows them and its deadlines panel offers them to the forms)."""
        return remembered(("case_parties", self.pk), lambda: tuple(self.parties.all()))

    def stage_history(self) -> tuple[StageLog, ...]:
        """Its stage changes, oldest first; read once per reading request (``core.per_request``:
        the case page shows them and its deadlines panel counts from them)."""

        def read() -> tuple[StageLog, ...]:
            return tuple(self.stage_logs.order_by("at", "id"))

        return remembered(("case_stage_history", self.pk), read)

    def use_target(self) -> UseTarget:
        """What ``access.use.check_use`` needs to decide who may view or copy this case."""
        return UseTarget(type="cases.case", id=str(self.pk), label=str(self)[:200],
                         unit=self.unit, case_ids=frozenset({self.pk}),
                         handling_user_ids=self.handling_user_ids(), open=self.is_handled)


class StageLog(models.Model):
    """One stage change of a case: who moved it, from where to where, when and why."""

    case = models.ForeignKey(Case, on_delete=models.PROTECT, related_name="stage_logs",
                             verbose_name="执法案件")
    from_stage = models.CharField("原环节", max_length=16, choices=Stage.choices, blank=True)
    to_stage = models.CharField("新环节", max_length=16, choices=Stage.choices)
    actor = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+",
                              verbose_name="操作人账号")
    actor_name = models.CharField("操作人", max_length=150)
    at = models.DateTimeField("时间", default=timezone.now)
    note = models.TextField("说明", blank=True)

    objects = RestrictedQuerySet.as_manager()
    unit_lookup = "case__unit"
    case_lookup = "case"

    class Meta:
        verbose_name = "环节变更记录"
        verbose_name_plural = "环节变更记录"
        ordering = ["at", "id"]

    def __str__(self) -> str:
        return f"{self.case_id}: {self.from_stage} → {self.to_stage}"
