from django.apps import AppConfig


class WebConfig(AppConfig):
    name = "liuhen.web"
    label = "web"
    verbose_name = "页面"

    def ready(self):
        from liuhen.web.inbox import register_providers

        register_providers()
