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
