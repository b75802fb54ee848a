from django.apps import AppConfig
from django.core.exceptions import ImproperlyConfigured


class RulesConfig(AppConfig):
    name = "liuhen.rules"
    label = "rules"
    verbose_name = "全过程记录要求"

    def ready(self):
        # Imported here, not at the top: models may only be imported once the registry is ready.
        from liuhen.cases import events as case_events
        from liuhen.core import display
        from liuhen.records import events as record_events
        from liuhen.rules import checks, services  # noqa: F401 (registers the system check)
        from liuhen.rules.engine import RuleDataError, load_rules, rules_by_id

        # The requirements are data (rules/data/*.toml): a malformed file stops start-up with
        # a message naming the file and rule, instead of silently checking cases wrongly.
        try:
            load_rules()
        except RuleDataError as exc:
            raise ImproperlyConfigured(f"全过程记录要求数据文件有误：{exc}") from None
        # 要求的名称 (issue 13 item 1): "penalty.filing_approved" reads as its title and article.
        display.register_codes(
            lambda: {rule_id: f"{rule.title}（{rule.article}）"
                     for rule_id, rule in rules_by_id().items()})
        # Domain events (liuhen.core.domain_events) of the apps below.
        case_events.case_changed.subscribe(services.case_changed)
        case_events.case_archiving.subscribe(services.archive_gate)
        record_events.waiver_requested.subscribe(services.check_waiver_requirement)
