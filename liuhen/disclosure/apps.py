from django.apps import AppConfig


class DisclosureConfig(AppConfig):
    name = "liuhen.disclosure"
    label = "disclosure"
    verbose_name = "对外提供"
