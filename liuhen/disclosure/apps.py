from django.apps import AppConfig


class DisclosureConfig(AppConfig):
    name = "liuhen.disclosure"
    label = "disclosure"
    verbose_name = "对外提供"

    def ready(self):
        # Imported here, not at the top: models may only be imported once the registry is ready.
        from liuhen.access.use import register_use_limit
        from liuhen.disclosure.marks import use_limit

        # 第十七条第四款: a record marked 国家秘密 is never copied or exported through the system.
        register_use_limit(use_limit)
