"""Choices of supervision: the items of 第二十六条, a violation's status and its measures."""

from django.db import models


class ViolationItem(models.IntegerChoices):
    """第二十六条 (一)–(六)."""

    NOT_RECORDED = 1, "（一）不按规定记录，或未及时存储"
    TAMPERED = 2, "（二）剪接、删改、损毁原始记录"
    LEAKED = 3, "（三）擅自查阅、复制、泄露记录"
    LOST = 4, "（四）因保管不当致记录丢失、损毁"
    MISUSED = 5, "（五）擅自使用设备或记录用于执法以外"
    OTHER = 6, "（六）其他违反本制度的行为"


class ViolationStatus(models.TextChoices):
    """open → confirmed → measure taken → closed, or open → dismissed (``services.ALLOWED``)."""

    OPEN = "open", "待核查"
    CONFIRMED = "confirmed", "已确认"
    MEASURE_TAKEN = "measure_taken", "已处理待办结"
    CLOSED = "closed", "已办结"
    DISMISSED = "dismissed", "已排除"


class Measure(models.TextChoices):
    """What the legal affairs office does with a confirmed violation (第二十六条)."""

    CRITICISM = "criticism", "批评教育"
    RECTIFICATION = "rectification", "限期整改"
    REFERRAL = "referral", "移送处分"


class Population(models.TextChoices):
    """What a spot check samples (第二十三条)."""

    RECORDINGS = "recordings", "音像记录"
    CASES = "cases", "执法案件"
    PATROLS = "patrols", "日常巡查"


class Strata(models.TextChoices):
    """How the population is divided before drawing: the sample size is met in each."""

    UNIT = "unit", "按单位"
    KIND = "kind", "按类型"
    UNIT_KIND = "unit_kind", "按单位和类型"


class ReviewResult(models.TextChoices):
    PASSED = "passed", "合格"
    PROBLEMS = "problems", "存在问题"
    FAILED = "failed", "不合格"


class RectificationStatus(models.TextChoices):
    REQUESTED = "requested", "待整改"
    REPORTED = "reported", "已报告整改"
    VERIFIED = "verified", "已验收"


class PeriodKind(models.TextChoices):
    """How often a circular reports (第二十四条 定期通报)."""

    MONTH = "month", "月度"
    QUARTER = "quarter", "季度"
    YEAR = "year", "年度"


class CircularStatus(models.TextChoices):
    DRAFT = "draft", "草稿"
    PUBLISHED = "published", "已发布"
