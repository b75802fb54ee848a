"""Choices of the keeping app, with Chinese labels."""

from django.db import models


class HoldKind(models.TextChoices):
    """Why records must not be disposed of while a proceeding lasts (第十四条, 第十七条)."""

    REVIEW = "review", "行政复议"
    LAWSUIT = "lawsuit", "行政诉讼"
    COMPLAINT = "complaint", "投诉、信访"
    INVESTIGATION = "investigation", "调查、审计、检查"


class DisposalStatus(models.TextChoices):
    """A destruction register (销毁清册) from proposal to execution."""

    PROPOSED = "proposed", "已提出，待批准"
    APPROVED = "approved", "已批准，待执行"
    REJECTED = "rejected", "未批准"
    EXECUTED = "executed", "已执行"


class DisposalItemOutcome(models.TextChoices):
    PENDING = "pending", "待执行"
    DISPOSED = "disposed", "已销毁"
    WAITING = "waiting", "存储锁定期未满，待重试"
    SKIPPED = "skipped", "未销毁（情况已变化）"


class LongTermReason(models.TextChoices):
    """The four situations of 第十五条 in which recordings are kept long-term on disc or media."""

    OBJECTION = "objection", "（一）当事人对现场执法、办案有异议或者投诉、上访"
    OBSTRUCTION = "obstruction", "（二）当事人逃避、拒绝、阻碍执行公务，或者谩骂、侮辱、殴打执法人员"
    INCIDENT = "incident", "（三）执法人员参与处置群体性事件、突发事件"
    OTHER = "other", "（四）其他需要长期保存的重要情况"
