"""Choices of what leaves the bureau (第十七条): party copies."""

from django.db import models


class CopyStatus(models.TextChoices):
    """A party copy's states; one function per transition in disclosure.services."""

    REGISTERED = "registered", "已登记待审批"
    APPROVED = "approved", "已批准待制作"
    REFUSED = "refused", "不予批准"
    MADE = "made", "副本已制作"
    HANDED_OVER = "handed_over", "已交付"


class IdentityCheck(models.TextChoices):
    """How the person who asks was identified before anything is handed over."""

    ID_CARD = "id_card", "查验居民身份证原件"
    BUSINESS_LICENCE = "business_licence", "查验营业执照及法定代表人身份证明"
    POWER_OF_ATTORNEY = "power_of_attorney", "查验授权委托书及受托人身份证件"
    LAWYER = "lawyer", "查验律师执业证及委托手续"


class BodyKind(models.TextChoices):
    """Who the records are supplied to (第十七条第三款)."""

    REVIEW = "review", "行政复议机关"
    COURT = "court", "人民法院"


class SupplyStatus(models.TextChoices):
    """A supply's states; one function per transition in disclosure.supply."""

    REQUESTED = "requested", "已登记待审批"
    APPROVED = "approved", "已批准待制作"
    REFUSED = "refused", "不予批准"
    BUILT = "built", "证据包已制作"
    SUPPLIED = "supplied", "已提供"


class Confidentiality(models.TextChoices):
    """Confidentiality marks (第十七条第四款: 涉及国家秘密、商业秘密、个人隐私的，按照有关规定处理),
    from the least to the most restrictive; ``disclosure.marks`` says what each refuses."""

    NONE = "none", "无"
    PRIVACY = "privacy", "个人隐私"
    TRADE_SECRET = "trade_secret", "商业秘密"
    STATE_SECRET = "state_secret", "国家秘密"


class MadeStatus(models.TextChoices):
    """An internal copy's or an export's states (第十六条): asked, being made (a job for large
    files), made, or failed (the reason kept; nothing half-made is handed out)."""

    PENDING = "pending", "正在生成"
    MADE = "made", "已生成"
    FAILED = "failed", "生成失败"
