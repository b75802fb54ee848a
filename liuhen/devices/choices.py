"""Choices of recording devices (第十八条, 第二十一条)."""

from django.db import models


class DeviceKind(models.TextChoices):
    """Recording devices (第十八条, 第二十一条)."""

    BODY_CAMERA = "body_camera", "执法记录仪"
    CAMERA = "camera", "照相机"
    CAMCORDER = "camcorder", "摄像机"
    AUDIO_RECORDER = "audio_recorder", "录音设备"
    FIXED_CAMERA = "fixed_camera", "视频监控"


class DeviceStatus(models.TextChoices):
    IN_SERVICE = "in_service", "在用"
    FAULTY = "faulty", "故障"
    RETIRED = "retired", "报废"
