"""One registry of display names (issue 13 item 1): every audit action of every app has a
Chinese name, codes of choices, requirements and permissions read as words, details as
labelled fields, and the admin names third-party apps in Chinese."""

from __future__ import annotations

import importlib
import re

import pytest
from django.apps import apps

from liuhen.core import display

CHINESE = re.compile(r"[\u4e00-\u9fff]")


def _event_modules():
    for config in apps.get_app_configs():
        if config.name.startswith("liuhen."):
            try:
                yield importlib.import_module(f"{config.name}.events")
            except ModuleNotFoundError:
                continue


def test_every_audit_action_has_a_chinese_name():
    constants = {
        value
        for module in _event_modules()
        for name, value in vars(module).items()
        if name.startswith("event_") and isinstance(value, str)
    }
    assert len(constants) > 60
    unnamed = sorted(code for code in constants if display.action_label(code) == code)
    # Name a new action in ACTION_LABELS beside its constant in the app's events.py.
    assert unnamed == []
    assert all(CHINESE.search(display.action_label(code)) for code in constants)


@pytest.mark.parametrize(
    ("code", "label"),
    [
        ("initiation", "程序启动"),  # a stage (cases.choices.Stage)
        ("penalty", "行政处罚"),  # a kind
        ("inquiry_record", "询问笔录"),  # a document type (records.choices)
        ("recording.upload", "上传音像记录"),  # a permission (access.permissions)
        ("penalty.filing_approved", "立案经内部审批（第五条第四款、第十九条）"),  # a requirement
    ],
)
def test_codes_read_as_words(code, label):
    assert display.code_label(code) == label


def test_object_types_by_model_name_old_names_included():
    assert display.object_type_label("cases.case") == "执法案件"
    assert display.object_type_label("cases.document") == display.object_type_label(
        "records.document")
    assert CHINESE.search(display.object_type_label("records.document"))
    assert display.object_type_label("nosuch.thing") == "nosuch.thing"


def test_details_as_labelled_fields():
    fields = display.detail_fields(
        {"doc_type": "penalty_decision", "officers": [3, 4], "replaces": None,
         "before": {"hearing_requested": False}, "permission": "audit.export"},
        "cases.case")
    assert fields == [
        ("修改前", "当事人申请听证：否"),
        ("文书类型", "行政处罚决定书"),
        ("执法人员", "3、4"),
        ("权限", "导出审计日志"),
        ("替代版本", "—"),
    ]
    assert display.detail_text({"count": 2}) == "数量：2"


def test_third_party_apps_named_in_chinese_in_the_admin():
    for label in ("axes", "otp_totp", "django_tasks_database"):
        config = apps.get_app_config(label)
        assert CHINESE.search(str(config.verbose_name)), label
        for model in config.get_models():
            assert CHINESE.search(str(model._meta.verbose_name_plural)), model


def test_moments_and_record_references_read_as_words():
    """An access request's detail keeps ISO moments and ``app.model:pk`` (第十六条 grants):
    the audit page shows the local time and the record's kind, not the stored forms."""
    assert display.value_text("2026-12-14T00:00:00+08:00") == "2026-12-14 00:00"
    assert display.value_text("2026-12-13T16:00:00+00:00") == "2026-12-14 00:00"  # Asia/Shanghai
    assert display.value_text("cases.case:16") == "执法案件 16 号"
    assert display.value_text("evidence.recording:1") == "音像记录 1 号"
    assert display.value_text("nosuch.model:1") == "nosuch.model:1"  # not a record: as it is
    assert display.value_text("2026-12-14") == "2026-12-14"
