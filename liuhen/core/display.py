"""One registry of the names a person reads instead of codes (issue 13 item 1): audit actions,
object types, stages, kinds, document types, requirements, permissions, and the fields of an
audit entry's details. Pages, CSV/XLSX exports, PDFs, the admin and the CLI tables all ask here,
so a code is named the same way everywhere.

Where the names come from, so a new one is added where its code is declared:

- audit actions: ``ACTION_LABELS`` in each app's ``events.py`` (beside the ``event_*`` constants;
  a test fails on an action without a name);
- choice values (stages, kinds, document types, approval actions, outcomes…): every
  ``TextChoices`` in each app's ``choices.py``, read as declared;
- detail fields: ``DETAIL_LABELS`` in an ``events.py``, and the common ones below;
- object types: the model's own ``verbose_name`` (``cases.case`` → 执法案件), and for fields
  inside ``before``/``after`` the model field's ``verbose_name``;
- anything else (the rules' requirements, the permission matrix, object types that moved app):
  ``register_codes()`` / ``register_object_aliases()`` from the owning app's ``ready()``.

No domain app is imported here (core is the bottom layer): apps are found through Django's
app registry, the way the admin finds ``admin.py``.
"""

from __future__ import annotations

import functools
import importlib
import re
from collections.abc import Callable, Iterable

from django.apps import apps
from django.db import models
from django.utils import timezone
from django.utils.dateparse import parse_datetime

# Fields that many actions write into their details.
COMMON_DETAIL_LABELS = {
    "action": "事项",
    "after": "修改后",
    "allowed": "允许",
    "anchors": "锚定",
    "approvals": "审批",
    "article": "条文",
    "average": "平均",
    "before": "修改前",
    "by_kind": "按执法行为",
    "bytes": "字节数",
    "capped": "已截断",
    "capture_time_source": "拍摄时间来源",
    "captured_start": "拍摄开始时间",
    "case": "案件",
    "case_number": "案件编号",
    "cases": "案件",
    "changed": "已修改",
    "changes": "修改内容",
    "channel": "上传方式",
    "check": "校验",
    "checked": "已校验",
    "code": "代码",
    "complete": "完整",
    "complete_rate": "完整率",
    "count": "数量",
    "created": "创建",
    "date": "日期",
    "deadline_fact": "期限事实",
    "decision": "决定",
    "declared_sha256": "申报的 SHA-256 摘要",
    "deleted": "已删除",
    "derivatives": "派生文件",
    "detail": "详情",
    "device": "设备",
    "disposal": "销毁",
    "doc_type": "文书类型",
    "document": "文字记录",
    "dry_run": "试运行",
    "due_soon": "即将到期",
    "duplicates": "重复",
    "early_date_reason": "日期早于本案开始的理由",
    "early_dated": "日期早于本案开始的条数",
    "end": "结束",
    "entries": "条目",
    "errno": "错误号",
    "error": "错误",
    "expected_sha256": "应有 SHA-256 摘要",
    "expected_sm3": "应有 SM3 摘要",
    "expires_at": "到期时间",
    "failed_only": "仅看未通过",
    "field": "字段",
    "file": "文件",
    "filename": "文件名",
    "filters": "筛选条件",
    "first_bad_seq": "首个异常序号",
    "flags": "提示",
    "form": "表单",
    "format": "格式",
    "found_sha256": "实际 SHA-256 摘要",
    "found_sm3": "实际 SM3 摘要",
    "free": "可用空间",
    "from": "原环节",
    "gaps": "缺项",
    "gaps_truncated": "缺项已截断",
    "hash": "哈希值",
    "hearing_notified": "已告知听证",
    "history": "历史",
    "id": "编号",
    "imported": "已导入",
    "items": "项目",
    "key": "键",
    "kind": "类别",
    "label": "名称",
    "late_seconds": "逾期秒数",
    "legal_office": "法制机构",
    "length": "长度",
    "link": "关联",
    "mark": "标注",
    "max": "上限",
    "message": "说明",
    "metadata": "元数据",
    "method": "方式",
    "missing": "缺项",
    "name": "名称",
    "note": "备注",
    "number": "编号",
    "officer": "执法人员",
    "officers": "执法人员",
    "offset": "偏移",
    "offset_seconds": "偏移秒数",
    "ok": "正常",
    "open_problems": "待处理问题",
    "opinion": "意见",
    "original_name": "原始文件名",
    "orphans": "无记录对象",
    "outcome": "结果",
    "overdue": "已逾期",
    "owner": "所有者",
    "page": "页码",
    "pages": "页数",
    "parties": "当事人",
    "party": "当事人",
    "path": "存储路径",
    "pending_erasure": "待擦除",
    "per_unit": "按单位",
    "permission": "权限",
    "postgresql": "PostgreSQL",
    "primary": "主关联",
    "primary_now": "现主关联",
    "problem": "问题",
    "problems": "问题",
    "provisional": "暂定",
    "query": "查询条件",
    "range": "范围",
    "reason": "理由",
    "register_number": "登记号",
    "replaces": "替代版本",
    "report": "报告",
    "requirement": "缺项要求",
    "retained_until": "保存至",
    "retention": "保存期限",
    "role": "角色",
    "rows": "行数",
    "sample": "抽样",
    "scope": "范围",
    "seq": "序号",
    "sha256": "SHA-256 摘要",
    "show_all": "显示全部",
    "shown": "显示条数",
    "signature": "签收情况",
    "since": "起始时间",
    "size": "大小（字节）",
    "sm3": "SM3 摘要",
    "stage": "环节",
    "start": "开始",
    "status": "状态",
    "storage": "存储",
    "storage_key": "存储路径",
    "stored": "已存储",
    "stored_document": "已存文书",
    "submission": "提交",
    "title": "标题",
    "to": "新环节",
    "today": "当日",
    "tool_version": "工具版本",
    "top_missing": "最常见缺项",
    "unit": "执法单位",
    "unit_head": "单位负责人",
    "unit_id": "执法单位",
    "units": "执法单位",
    "unmatched": "未匹配",
    "upload": "上传",
    "uuid": "记录编号",
    "version": "版本",
    "via": "渠道",
    "visible": "可见",
    "who": "人员",
    "xlsx": "Excel",
    "year": "年度",
}

_CODE_SHAPE = re.compile(r"^[a-z][a-z0-9]*(?:[._][a-z0-9]+)*$")

_code_providers: list[Callable[[], dict[str, str]]] = []
_object_aliases: dict[str, str] = {}


def register_codes(provider: Callable[[], dict[str, str]]) -> None:
    """An app whose codes are not TextChoices (the rules' requirements, the permission matrix)
    names them here; ``provider`` is called once, when a name is first asked for."""
    _code_providers.append(provider)
    _registry.cache_clear()


def register_object_aliases(aliases: dict[str, str]) -> None:
    """Old ``app.model`` names of models that moved app (audit entries keep them)."""
    _object_aliases.update(aliases)


def _project_modules(name: str) -> Iterable:
    for config in apps.get_app_configs():
        if not config.name.startswith("liuhen."):
            continue
        module_name = f"{config.name}.{name}"
        try:
            yield importlib.import_module(module_name)
        except ModuleNotFoundError as exc:
            if exc.name != module_name:
                raise


@functools.cache
def _registry() -> tuple[dict[str, str], dict[str, str], dict[str, str]]:
    actions: dict[str, str] = {}
    details = dict(COMMON_DETAIL_LABELS)
    codes: dict[str, str] = {}
    for module in _project_modules("events"):
        actions.update(getattr(module, "ACTION_LABELS", {}))
        details.update(getattr(module, "DETAIL_LABELS", {}))
    for module in _project_modules("choices"):
        for value in vars(module).values():
            if (isinstance(value, type) and issubclass(value, models.Choices)
                    and value.__module__ == module.__name__):
                for code, label in value.choices:
                    codes.setdefault(str(code), str(label))
    for provider in _code_providers:
        for code, label in provider().items():
            codes.setdefault(code, label)
    return actions, details, codes


def action_label(action: str) -> str:
    """审计操作的名称: ``case.viewed`` → 查看案件. An unnamed action is shown as it is (and
    the test of every events.py fails)."""
    return _registry()[0].get(action, action)


def action_labels() -> dict[str, str]:
    return dict(_registry()[0])


def code_label(code: str) -> str:
    """A stage, kind, document type, requirement, permission… by its name; else as given."""
    return _registry()[2].get(code, code)


def has_code_label(code: str) -> bool:
    return code in _registry()[2]


def _model(object_type: str):
    name = _object_aliases.get(object_type, object_type)
    try:
        return apps.get_model(name)
    except (LookupError, ValueError):
        return None


def object_type_label(object_type: str) -> str:
    """``cases.case`` → 执法案件 (the model's verbose_name), under its old names too."""
    model = _model(object_type)
    return str(model._meta.verbose_name) if model is not None else object_type


def object_type_choices() -> list[tuple[str, str]]:
    """Every model of the project as (``app.model``, Chinese name), for filter forms."""
    rows = []
    for model in apps.get_models():
        if model.__module__.startswith("liuhen."):
            meta = model._meta
            rows.append((f"{meta.app_label}.{meta.model_name}", str(meta.verbose_name)))
    return sorted(rows, key=lambda row: row[1])


def field_label(key: str, object_type: str = "") -> str:
    """A detail field's name: the common or declared name, else the model field's own."""
    details = _registry()[1]
    if key in details:
        return details[key]
    model = _model(object_type) if object_type else None
    if model is not None:
        try:
            return str(model._meta.get_field(key).verbose_name)
        except Exception:  # noqa: BLE001 - FieldDoesNotExist and reverse relations alike
            pass
    return key


_ISO_MOMENT = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(:\d{2}(\.\d+)?)?(Z|[+-]\d{2}:\d{2})?$")
_RECORD_REF = re.compile(r"^([a-z_]+\.[a-z_]+):([\w-]+)$")


def value_text(value, object_type: str = "") -> str:
    """A detail value as a person reads it: 是/否, codes by name, lists joined, nested fields
    labelled."""
    if value is None or value == "":
        return "—"
    if isinstance(value, bool):
        return "是" if value else "否"
    if isinstance(value, dict):
        return "；".join(f"{label}：{text}" for label, text in detail_fields(value, object_type))
    if isinstance(value, (list, tuple)):
        return "、".join(value_text(item, object_type) for item in value) or "—"
    text = str(value)
    if _ISO_MOMENT.match(text):  # a moment kept as ISO 8601: local time, to the minute
        moment = parse_datetime(text)
        if moment is not None:
            if timezone.is_aware(moment):
                moment = timezone.localtime(moment)
            return moment.strftime("%Y-%m-%d %H:%M")
    reference = _RECORD_REF.match(text)
    if reference and _model(reference.group(1)) is not None:  # cases.case:16 → 执法案件 16 号
        return f"{object_type_label(reference.group(1))} {reference.group(2)} 号"
    if _CODE_SHAPE.match(text) and has_code_label(text):
        return code_label(text)
    if _CODE_SHAPE.match(text) and text in _registry()[0]:
        return action_label(text)
    return text


def detail_fields(detail, object_type: str = "") -> list[tuple[str, str]]:
    """An audit entry's details as labelled fields, in a stable order."""
    if not isinstance(detail, dict):
        return [("详情", value_text(detail, object_type))] if detail else []
    return [(field_label(key, object_type), value_text(value, object_type))
            for key, value in sorted(detail.items())]


def detail_text(detail, object_type: str = "") -> str:
    """The labelled fields on one line (CSV/XLSX cells, CLI tables)."""
    return "；".join(f"{label}：{text}" for label, text in detail_fields(detail, object_type))
