from django.apps import AppConfig


class WebConfig(AppConfig):
    name = "liuhen.web"
    label = "web"
    verbose_name = "页面"
