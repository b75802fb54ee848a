"""Recording devices (执法记录设备): registered with the number printed on them (第二十一条);
their lifecycle (checkout, checks, maintenance, faults: 第二十二条) comes next."""

from __future__ import annotations

from django.db import models
from django.utils import timezone

from liuhen.access.querysets import RestrictedQuerySet
from liuhen.devices.choices import DeviceKind, DeviceStatus


class Device(models.Model):
    """A recording device, registered with the number printed on it (第十八条, 第二十一条)."""

    number = models.CharField("设备编号", max_length=64, unique=True)
    kind = models.CharField("设备类型", max_length=20, choices=DeviceKind.choices,
                            default=DeviceKind.BODY_CAMERA)
    unit = models.ForeignKey("org.Unit", on_delete=models.PROTECT, related_name="devices",
                             verbose_name="所属单位")
    officer = models.ForeignKey("org.Officer", on_delete=models.PROTECT, null=True, blank=True,
                                related_name="devices", verbose_name="配发人员")
    status = models.CharField("状态", max_length=16, choices=DeviceStatus.choices,
                              default=DeviceStatus.IN_SERVICE)
    model_name = models.CharField("型号", max_length=100, blank=True)
    notes = models.TextField("备注", blank=True)
    registered_at = models.DateTimeField("登记时间", default=timezone.now)

    objects = RestrictedQuerySet.as_manager()
    unit_lookup = "unit"

    class Meta:
        verbose_name = "执法记录设备"
        verbose_name_plural = "执法记录设备"
        ordering = ["number"]
        db_table = "evidence_device"  # the table keeps its name from the evidence app (issue 15)

    def __str__(self) -> str:
        return f"{self.number}（{self.get_kind_display()}）"
