from django.apps import AppConfig


class SupervisionConfig(AppConfig):
    name = "liuhen.supervision"
    label = "supervision"
    verbose_name = "监督检查"

    def ready(self):
        # Imported here, not at the top: models may only be imported once the registry is ready.
        from liuhen.access.use import register_spot_check_provider
        from liuhen.supervision.spot_checks import reviews_in_spot_check

        # 第二十三条: the legal affairs office replays what its own spot checks drew, by right
        # (access.use's by-right table, row "spot_check").
        register_spot_check_provider(reviews_in_spot_check)
