from django.db import models


class UnitKind(models.TextChoices):
    BUREAU = "bureau", "局"
    DIVISION = "division", "处室/支队"
    INSTITUTION = "institution", "事业单位"
    TEAM = "team", "大队/科室"
