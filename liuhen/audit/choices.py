from django.db import models


class Outcome(models.TextChoices):
    SUCCEEDED = "succeeded", "成功"
    DENIED = "denied", "拒绝"
    FAILED = "failed", "失败"
