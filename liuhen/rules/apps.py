from django.apps import AppConfig
from django.core.exceptions import ImproperlyConfigured


class RulesConfig(AppConfig):
    name = "liuhen.rules"
    label = "rules"
    verbose_name = "全过程记录要求"

    def ready(self):
        # The requirements are data (rules/data/*.toml): a malformed file stops start-up with
        # a message naming the file and rule, instead of silently checking cases wrongly.
        from liuhen.cases.records_services import approval_authority
        from liuhen.rules.engine import RuleDataError, load_rules

        try:
            load_rules()
            approval_authority()
        except (RuleDataError, RuntimeError) as exc:
            raise ImproperlyConfigured(f"全过程记录要求数据文件有误：{exc}") from None
