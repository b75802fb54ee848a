"""The requirements as data: every shipped file loads; a malformed one is refused with a
message naming the file and the rule (checked at start-up and by ``liuhen check``)."""

from __future__ import annotations

import shutil

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError

from liuhen.rules import engine

GOOD = """
kind = "levy"
[[rule]]
id = "levy.x"
title = "申报材料"
article = "第七条"
from_stage = "initiation"
needs = [{ document = "levy_declaration" }]
"""


def load(tmp_path, text):
    path = tmp_path / "levy.toml"
    path.write_text(text, encoding="utf-8")
    return engine.load_file(path, "levy")


def test_shipped_rules_cover_every_kind_and_cite_articles():
    rules = engine.load_rules()
    assert set(rules) == {"penalty", "coercion", "levy", "fee", "inspection"}
    articles = " ".join(r.article for kind in rules.values() for r in kind)
    for article in (
        "第五条",
        "第六条",
        "第七条",
        "第八条",
        "第九条",
        "第十条",
        "第十九条",
        "第二十条",
        "行政处罚法第四十二条",
    ):
        assert article in articles


def test_good_file_loads(tmp_path):
    (rule,) = load(tmp_path, GOOD)
    assert rule.article == "第七条" and rule.needs == ({"document": "levy_declaration"},)


@pytest.mark.parametrize(
    "change, message",
    [
        (('document = "levy_declaration"', 'document = "bogus"'), "未知文书类型"),
        (('article = "第七条"', 'article = "seven"'), "条款引用不规范"),
        (('from_stage = "initiation"', 'from_stage = "hearing"'), "不属于该类执法行为"),
        (('title = "申报材料"\n', ""), "缺少字段 title"),
        (('id = "levy.x"', 'id = "penalty.x"'), "须以 levy. 开头"),
        (
            ('needs = [{ document = "levy_declaration" }]', 'needs = [{ mark = "nope" }]'),
            "未知标注",
        ),
        (("needs = [", 'when = ["rainy_day"]\nneeds = ['), "未知触发条件"),
        (('kind = "levy"', 'kind = "fee"'), "kind 应为"),
        (("[[rule]]", "[[rule]\n"), "不是有效的 TOML"),
    ],
)
def test_malformed_file_is_refused_with_a_clear_message(tmp_path, change, message):
    with pytest.raises(engine.RuleDataError, match=message) as err:
        load(tmp_path, GOOD.replace(*change))
    assert "levy.toml" in str(err.value)


def test_duplicate_rule_id_is_refused(tmp_path):
    text = GOOD + GOOD.split("\n", 2)[2]
    with pytest.raises(engine.RuleDataError, match="规则编号重复"):
        load(tmp_path, text)


def test_liuhen_check_refuses_a_broken_data_dir(tmp_path, monkeypatch):
    data = tmp_path / "data"
    shutil.copytree(engine.DATA_DIR, data)
    (data / "fee.toml").write_text('kind = "fee"\n[[rule]]\nid = "fee.x"\n', encoding="utf-8")
    monkeypatch.setattr(engine, "DATA_DIR", data)
    engine.reload()
    try:
        with pytest.raises(CommandError, match="fee.toml"):
            call_command("check", "--no-cases")
    finally:
        monkeypatch.undo()
        engine.reload()
