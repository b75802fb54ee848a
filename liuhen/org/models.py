"""Units and officers (第三条, 第十一条)."""

from __future__ import annotations

from datetime import date

from django.conf import settings
from django.db import models
from django.utils import timezone

from liuhen.access.choices import Role
from liuhen.access.querysets import RestrictedQuerySet
from liuhen.org.choices import UnitKind


class Unit(models.Model):
    """An enforcement unit (执法单位) in the bureau's tree: bureau → division → team."""

    name = models.CharField("单位名称", max_length=100)
    short_name = models.CharField("简称", max_length=30, blank=True)
    kind = models.CharField("类型", max_length=16, choices=UnitKind.choices, default=UnitKind.DIVISION)
    parent = models.ForeignKey("self", verbose_name="上级单位", null=True, blank=True,
                               on_delete=models.PROTECT, related_name="children")
    # Materialised path "/1/4/9/": sub-unit queries are one indexed prefix match.
    path = models.CharField("层级路径", max_length=255, editable=False, db_index=True, default="")
    case_number_prefix = models.CharField(
        "案件编号字号", max_length=20, blank=True,
        help_text="如「冀人社监」，案件编号为 字号〔年份〕序号号；留空时沿用上级单位的字号。")

    objects = RestrictedQuerySet.as_manager()
    unit_lookup = "pk"

    class Meta:
        verbose_name = "执法单位"
        verbose_name_plural = "执法单位"
        ordering = ["path"]

    def __str__(self) -> str:
        return self.name

    @property
    def depth(self) -> int:
        return max(self.path.count("/") - 2, 0)

    def number_prefix(self) -> str:
        unit = self
        while unit is not None:
            if unit.case_number_prefix:
                return unit.case_number_prefix
            unit = unit.parent
        return settings.CASE_NUMBER_PREFIX

    def save(self, *args, **kwargs):
        # The path is derived from the parent; it needs the row's id, hence two steps.
        if self.pk is None:
            super().save(*args, **kwargs)
            kwargs.pop("force_insert", None)
        old_path = self.path
        self.path = f"{self.parent.path if self.parent else '/'}{self.pk}/"
        if self.parent and self.parent.path and self.path.count(f"/{self.pk}/") > 1:
            raise ValueError("a unit cannot be its own ancestor")
        super().save(update_fields=["name", "short_name", "kind", "parent", "path",
                                    "case_number_prefix"])
        if old_path and old_path != self.path:
            for child in self.children.all():
                child.save()


class Officer(models.Model):
    """A member of staff, linked 1:1 to a login. Only formal staff with a valid enforcement
    qualification may be assigned to cases or be the subject of a record (第十一条)."""

    user = models.OneToOneField(settings.AUTH_USER_MODEL, on_delete=models.PROTECT,
                                related_name="officer", verbose_name="登录账号")
    name = models.CharField("姓名", max_length=50)
    unit = models.ForeignKey(Unit, on_delete=models.PROTECT, related_name="officers",
                             verbose_name="所在单位")
    role = models.CharField("角色", max_length=20, choices=Role.choices, default=Role.OFFICER)
    credential_number = models.CharField("执法证号", max_length=40, blank=True, db_index=True)
    is_formal_staff = models.BooleanField("正式在编", default=True)
    qualification_number = models.CharField("执法资格证书号", max_length=40, blank=True)
    qualification_valid_from = models.DateField("资格有效期自", null=True, blank=True)
    qualification_valid_to = models.DateField("资格有效期至", null=True, blank=True)

    objects = RestrictedQuerySet.as_manager()
    unit_lookup = "unit"

    class Meta:
        verbose_name = "执法人员"
        verbose_name_plural = "执法人员"
        ordering = ["unit__path", "name"]

    def __str__(self) -> str:
        return self.name

    def qualification_problem(self, on: date | None = None) -> str | None:
        """Why this officer may not act as an enforcement subject on ``on``, or None."""
        on = on or timezone.localdate()
        if not self.is_formal_staff:
            return f"{self.name}不是正式在编人员"
        if not self.qualification_number or not self.qualification_valid_to:
            return f"{self.name}没有行政执法资格"
        if self.qualification_valid_from and on < self.qualification_valid_from:
            return f"{self.name}的执法资格尚未生效"
        if on > self.qualification_valid_to:
            return f"{self.name}的执法资格已于{self.qualification_valid_to:%Y-%m-%d}过期"
        return None

    @property
    def is_qualified(self) -> bool:
        return self.qualification_problem() is None
