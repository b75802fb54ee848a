from django.db import models


class CaseKind(models.TextChoices):
    """The five kinds of enforcement act (第二条)."""

    PENALTY = "penalty", "行政处罚"
    COERCION = "coercion", "行政强制"
    LEVY = "levy", "行政征收"
    FEE = "fee", "行政收费"
    INSPECTION = "inspection", "行政检查"


class Stage(models.TextChoices):
    """Stages of the enforcement process (第二条)."""

    INITIATION = "initiation", "程序启动"
    PATROL = "patrol", "日常巡查"
    INVESTIGATION = "investigation", "调查取证"
    DECISION = "decision", "审查决定"
    SERVICE = "service", "送达执行"
    HEARING = "hearing", "行政听证"
    CASE_FILE = "case_file", "案卷制作"
    ARCHIVING = "archiving", "归档管理"


class CaseSource(models.TextChoices):
    COMPLAINT = "complaint", "投诉"
    REPORT = "report", "举报"
    PATROL = "patrol", "日常巡查发现"
    REFERRAL = "referral", "移送"
    OTHER = "other", "其他"


class PartyKind(models.TextChoices):
    PERSON = "person", "自然人"
    ORGANISATION = "organisation", "单位"
