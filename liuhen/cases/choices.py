from django.db import models


class CaseKind(models.TextChoices):
    """The five kinds of enforcement act (第二条)."""

    PENALTY = "penalty", "行政处罚"
    COERCION = "coercion", "行政强制"
    LEVY = "levy", "行政征收"
    FEE = "fee", "行政收费"
    INSPECTION = "inspection", "行政检查"


class Stage(models.TextChoices):
    """Steps of the enforcement process in the law's order. Each belongs to one of 第二条's
    phases (:data:`liuhen.cases.stages.PHASES`), the names cases are reported by; the finer
    steps are those the law orders (行政处罚法第五十七条、第五十八条、第六十二条至第六十五条,
    行政强制法第三十五条至第三十七条)."""

    INITIATION = "initiation", "程序启动"
    PATROL = "patrol", "日常巡查"
    INVESTIGATION = "investigation", "调查取证"
    NOTICE = "notice", "事先告知"
    REMINDER = "reminder", "催告、陈述申辩"
    HEARING = "hearing", "行政听证"
    LEGAL_REVIEW = "legal_review", "法制审核"
    COLLECTIVE = "collective", "集体讨论"
    DECISION = "decision", "审查决定"
    SERVICE = "service", "送达"
    ENFORCEMENT = "enforcement", "执行"
    CLOSING = "closing", "结案"
    CASE_FILE = "case_file", "案卷制作"
    ARCHIVING = "archiving", "归档管理"


class Phase(models.TextChoices):
    """The phases of 第二条 (程序启动、调查取证、审查决定、送达执行、行政听证、案卷制作、归档管理)."""

    INITIATION = "initiation", "程序启动"
    INVESTIGATION = "investigation", "调查取证"
    DECISION = "decision", "审查决定"
    SERVICE = "service", "送达执行"
    HEARING = "hearing", "行政听证"
    CASE_FILE = "case_file", "案卷制作"
    ARCHIVING = "archiving", "归档管理"


class PenaltyOutcome(models.TextChoices):
    """What a penalty decision imposed (行政处罚法第九条, 第五十七条第一款): whether a fine is to be
    paid decides the payment deadline (第六十七条) and the surcharge (第七十二条第一项)."""

    UNRECORDED = "", "未登记"
    FINE = "fine", "罚款（含并处其他处罚）"
    WARNING = "warning", "仅警告"
    OTHER_NO_FINE = "other_no_fine", "其他不含罚款的处罚（没收违法所得、责令停产停业等）"
    NO_PENALTY = "no_penalty", "不予行政处罚"


#: Outcomes with no fine: no payment deadline (第六十七条) and no surcharge (第七十二条).
NO_FINE_OUTCOMES = frozenset({PenaltyOutcome.WARNING, PenaltyOutcome.OTHER_NO_FINE,
                              PenaltyOutcome.NO_PENALTY})
#: Outcomes with nothing the party must do: nothing to enforce (行政强制法第五十三条).
NOTHING_TO_ENFORCE = frozenset({PenaltyOutcome.WARNING, PenaltyOutcome.NO_PENALTY})


class CaseSource(models.TextChoices):
    COMPLAINT = "complaint", "投诉"
    REPORT = "report", "举报"
    PATROL = "patrol", "日常巡查发现"
    REFERRAL = "referral", "移送"
    OTHER = "other", "其他"


class PartyKind(models.TextChoices):
    PERSON = "person", "自然人"
    ORGANISATION = "organisation", "单位"
