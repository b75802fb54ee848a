"""System check of the requirements data (``liuhen check`` and start-up): a malformed
``rules/data/*.toml`` is an error naming the file and the rule."""

from __future__ import annotations

from django.core import checks

from liuhen.rules import engine


@checks.register("liuhen")
def check_rules_data(app_configs=None, **kwargs):
    engine.reload()
    try:
        engine.load_rules()
    except engine.RuleDataError as exc:
        return [checks.Error(f"全过程记录要求数据文件有误：{exc}", id="liuhen.E101")]
    return []
