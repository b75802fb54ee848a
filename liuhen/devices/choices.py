"""Choices of recording devices (第十八条, 第二十一条, 第二十二条)."""

from django.db import models


class DeviceKind(models.TextChoices):
    """Recording devices (第十八条, 第二十一条)."""

    BODY_CAMERA = "body_camera", "执法记录仪"
    CAMERA = "camera", "照相机"
    CAMCORDER = "camcorder", "摄像机"
    AUDIO_RECORDER = "audio_recorder", "录音设备"
    FIXED_CAMERA = "fixed_camera", "视频监控"


class DeviceStatus(models.TextChoices):
    """The lifecycle: registered → in service → faulty → under repair → in service, or
    retired from any state (第二十一条, 第二十二条). ``transitions.ALLOWED`` says which moves
    are allowed."""

    REGISTERED = "registered", "已登记"
    IN_SERVICE = "in_service", "在用"
    FAULTY = "faulty", "故障"
    UNDER_REPAIR = "under_repair", "维修中"
    RETIRED = "retired", "报废"


class HoldingKind(models.TextChoices):
    """How an officer holds a device: a check-out for a shift, or a standing assignment."""

    CHECKOUT = "checkout", "领用"
    STANDING = "standing", "配发"


class MaintenanceKind(models.TextChoices):
    """定期维护保养 (第二十一条) or a repair by a professional (第二十二条)."""

    MAINTENANCE = "maintenance", "维护保养"
    REPAIR = "repair", "维修"
