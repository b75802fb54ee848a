"""Choices of access control: the roles the permission matrix is keyed by."""

from django.db import models


class Role(models.TextChoices):
    """Roles from GLOSSARY.md; what each may do is the matrix in access/permissions.py."""

    OFFICER = "officer", "执法人员"
    UNIT_HEAD = "unit_head", "单位负责人"
    BUREAU_LEADER = "bureau_leader", "主管负责人"
    LEGAL_OFFICE = "legal_office", "法制机构"
    RECORDS_KEEPER = "records_keeper", "专门人员（归档/存储）"
    DEVICE_KEEPER = "device_keeper", "设备管理"
    ADMIN = "admin", "系统管理员"


class UseAction(models.TextChoices):
    """What a person does with a record's content (第十六条: 查阅、复制、拷贝)."""

    VIEW = "view", "查阅"
    COPY = "copy", "复制"
    EXPORT = "export", "拷贝/导出"


class RequestStatus(models.TextChoices):
    """The states of an access request (调阅申请); one function per transition in access.use."""

    PENDING = "pending", "待审批"
    APPROVED = "approved", "已批准"
    REFUSED = "refused", "不予批准"
    WITHDRAWN = "withdrawn", "已撤回"
