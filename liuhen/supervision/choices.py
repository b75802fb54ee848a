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
