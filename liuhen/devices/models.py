"""Recording devices (执法记录设备) and their lifecycle: registered with the number printed on
them (第二十一条), who holds which device when, pre-use checks, maintenance (定期维护保养),
faults and repairs by a named professional (第二十二条). Every history row is written by one
service in ``services.py`` with its audit entry; none is edited afterwards."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils import timezone

from liuhen.access.querysets import RestrictedQuerySet
from liuhen.devices.choices import DeviceKind, DeviceStatus, HoldingKind, MaintenanceKind


class Device(models.Model):
    """A recording device, registered with the number printed on it (第十八条, 第二十一条)."""

    number = models.CharField("设备编号", max_length=64, unique=True)
    kind = models.CharField("设备类型", max_length=20, choices=DeviceKind.choices,
                            default=DeviceKind.BODY_CAMERA)
    unit = models.ForeignKey("org.Unit", on_delete=models.PROTECT, related_name="devices",
                             verbose_name="所属单位")
    # The standing assignment (配发); a check-out for a shift is a DeviceHolding of its own.
    officer = models.ForeignKey("org.Officer", on_delete=models.PROTECT, null=True, blank=True,
                                related_name="devices", verbose_name="配发人员")
    status = models.CharField("状态", max_length=16, choices=DeviceStatus.choices,
                              default=DeviceStatus.IN_SERVICE)
    model_name = models.CharField("型号", max_length=100, blank=True)
    notes = models.TextField("备注", blank=True)
    registered_at = models.DateTimeField("登记时间", default=timezone.now)
    # 第二十一条 定期维护保养: days between two maintenances; empty means the bureau's default
    # (LIUHEN_DEVICE_MAINTENANCE_DAYS). Nullable so adding it needs no table rebuild.
    maintenance_interval_days = models.PositiveIntegerField("维护周期（天）", null=True,
                                                            blank=True)

    objects = RestrictedQuerySet.as_manager()
    unit_lookup = "unit"

    class Meta:
        verbose_name = "执法记录设备"
        verbose_name_plural = "执法记录设备"
        ordering = ["number"]
        db_table = "evidence_device"  # the table keeps its name from the evidence app (issue 15)

    def __str__(self) -> str:
        return f"{self.number}（{self.get_kind_display()}）"


class _DeviceChild(models.Model):
    """History rows of one device: scoped through the device's unit."""

    objects = RestrictedQuerySet.as_manager()
    unit_lookup = "device__unit"

    class Meta:
        abstract = True


class DeviceTransition(_DeviceChild):
    """One move of a device's lifecycle (第二十一条, 第二十二条): from, to, who, when, why."""

    device = models.ForeignKey(Device, on_delete=models.PROTECT, related_name="transitions",
                               verbose_name="设备")
    from_status = models.CharField("原状态", max_length=16, choices=DeviceStatus.choices,
                                   blank=True)
    to_status = models.CharField("新状态", max_length=16, choices=DeviceStatus.choices)
    at = models.DateTimeField("时间", default=timezone.now)
    actor = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT,
                              related_name="+", verbose_name="操作人")
    reason = models.TextField("说明", blank=True)

    class Meta:
        verbose_name = "设备状态变更"
        verbose_name_plural = "设备状态变更"
        ordering = ["device", "at", "id"]
        indexes = [models.Index(fields=["device", "at"], name="devtrans_device_at")]


class DeviceHolding(_DeviceChild):
    """Who held a device from when to when: a check-out (领用) or a standing assignment (配发).
    Ended, never deleted, so "who held it at the moment of this recording" stays answerable."""

    device = models.ForeignKey(Device, on_delete=models.PROTECT, related_name="holdings",
                               verbose_name="设备")
    officer = models.ForeignKey("org.Officer", on_delete=models.PROTECT,
                                related_name="device_holdings", verbose_name="持有人")
    kind = models.CharField("方式", max_length=10, choices=HoldingKind.choices)
    started_at = models.DateTimeField("开始时间", default=timezone.now)
    ended_at = models.DateTimeField("结束时间", null=True, blank=True)
    started_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT,
                                   related_name="+", verbose_name="经办人")
    ended_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT,
                                 null=True, blank=True, related_name="+",
                                 verbose_name="归还经办人")

    class Meta:
        verbose_name = "设备领用与配发"
        verbose_name_plural = "设备领用与配发"
        ordering = ["device", "started_at", "id"]
        indexes = [models.Index(fields=["device", "started_at"], name="devhold_device_start")]


class PreUseCheck(_DeviceChild):
    """使用前检查 (第二十一条): battery, free storage and the device's clock against the
    server's, read by the officer or by an ingest station that can read the device's clock."""

    device = models.ForeignKey(Device, on_delete=models.PROTECT, related_name="checks",
                               verbose_name="设备")
    officer = models.ForeignKey("org.Officer", on_delete=models.PROTECT, null=True, blank=True,
                                related_name="+", verbose_name="检查人")
    checked_at = models.DateTimeField("检查时间（服务器）", default=timezone.now)
    battery_percent = models.PositiveSmallIntegerField("电量（%）")
    free_storage_mb = models.PositiveIntegerField("剩余存储（MB）")
    device_clock = models.DateTimeField("设备时钟", null=True, blank=True)
    # device clock − server clock at the check: a recording's capture time minus this offset
    # is the true time (shown beside the original value, never written over it).
    clock_offset_seconds = models.IntegerField("时钟偏差（秒）", null=True, blank=True)
    passed = models.BooleanField("检查通过", default=True)
    problems = models.JSONField("问题", default=list, blank=True)
    source = models.CharField("来源", max_length=10, default="officer",
                              choices=[("officer", "人工检查"), ("station", "采集站读取")])
    actor = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT,
                              related_name="+", verbose_name="登记人")

    class Meta:
        verbose_name = "使用前检查"
        verbose_name_plural = "使用前检查"
        ordering = ["device", "checked_at", "id"]
        indexes = [models.Index(fields=["device", "checked_at"], name="devcheck_device_at")]


class FaultReport(_DeviceChild):
    """A fault report (第二十二条): the device leaves service at once; a named professional
    (never its own user) repairs it, and what was done is written down."""

    device = models.ForeignKey(Device, on_delete=models.PROTECT, related_name="faults",
                               verbose_name="设备")
    reported_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT,
                                    related_name="+", verbose_name="报告人")
    reported_at = models.DateTimeField("报告时间", default=timezone.now)
    description = models.TextField("故障情况")
    repairer = models.CharField("维修人员", max_length=100, blank=True)
    repairer_organisation = models.CharField("维修单位", max_length=200, blank=True)
    repair_started_at = models.DateTimeField("送修时间", null=True, blank=True)
    repaired_at = models.DateTimeField("修复时间", null=True, blank=True)
    repair_done = models.TextField("维修内容", blank=True)

    class Meta:
        verbose_name = "故障报告"
        verbose_name_plural = "故障报告"
        ordering = ["device", "-reported_at", "-id"]


class MaintenanceRecord(_DeviceChild):
    """定期维护保养 or a repair (第二十一条, 第二十二条): when, by whom, what was done."""

    device = models.ForeignKey(Device, on_delete=models.PROTECT, related_name="maintenance",
                               verbose_name="设备")
    kind = models.CharField("类型", max_length=12, choices=MaintenanceKind.choices)
    performed_at = models.DateTimeField("时间", default=timezone.now)
    performed_by = models.CharField("维护人员", max_length=100)
    organisation = models.CharField("维护单位", max_length=200, blank=True)
    description = models.TextField("内容")
    fault = models.ForeignKey(FaultReport, on_delete=models.PROTECT, null=True, blank=True,
                              related_name="+", verbose_name="对应故障")
    actor = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT,
                              related_name="+", verbose_name="登记人")

    class Meta:
        verbose_name = "维护维修记录"
        verbose_name_plural = "维护维修记录"
        ordering = ["device", "-performed_at", "-id"]
