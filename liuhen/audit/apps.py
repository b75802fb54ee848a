from django.apps import AppConfig


class AuditConfig(AppConfig):
    name = "liuhen.audit"
    label = "audit"
    verbose_name = "审计日志"

    def ready(self):
        from liuhen.audit import signals  # noqa: F401  (login/logout/lockout are audited)
        from liuhen.audit.queries import RENAMED_OBJECT_TYPES
        from liuhen.core import display

        display.register_object_aliases(RENAMED_OBJECT_TYPES)
