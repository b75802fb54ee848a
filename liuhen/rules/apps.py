from django.apps import AppConfig


class RulesConfig(AppConfig):
    name = "liuhen.rules"
    label = "rules"
    verbose_name = "全过程记录要求"
