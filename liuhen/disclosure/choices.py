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
