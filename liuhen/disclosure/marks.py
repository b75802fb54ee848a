"""Confidentiality marks (第十七条第四款): 涉及国家秘密、商业秘密、个人隐私的，按照有关规定处理.

A case or a recording carries a mark (none, 个人隐私, 商业秘密, 国家秘密), set and changed only by
whoever the matrix gives ``confidentiality.mark`` (unit heads over their units, the legal
affairs office, the leader in charge), always with a reason, audited; the old mark stays.

A recording's effective mark is the most restrictive of its own and those of its cases. What
each mark refuses:

- 国家秘密: no copy and no export at all (the access layer refuses them, whoever asks, with a
  notice to handle it through the secrecy channel), and no party copy;
- 商业秘密, 个人隐私: a party copy only with a redaction plan that hides something (faces,
  boxes or muted audio), shown as such on the copy's page.
"""

from __future__ import annotations

from django.db import transaction
from django.db.models import Q

from liuhen.access.querysets import unit_allowed
from liuhen.audit.services import record, record_denied
from liuhen.core.errors import Forbidden, InvalidInput
from liuhen.core.per_request import remembered
from liuhen.disclosure import events
from liuhen.disclosure.choices import Confidentiality
from liuhen.disclosure.models import ConfidentialityMark

ORDER = [Confidentiality.NONE, Confidentiality.PRIVACY, Confidentiality.TRADE_SECRET,
         Confidentiality.STATE_SECRET]
STATE_SECRET_NOTICE = ("该记录标记为国家秘密，系统不提供复制、导出或当事人复制，"
                       "请按保密规定通过保密渠道办理（第十七条第四款）")


def _owner_unit(obj):
    return getattr(obj, "unit", None)


def set_mark(*, actor, target, level: str, reason: str) -> ConfidentialityMark:
    """Mark a case or a recording (``target``); the previous mark stays as history."""
    kind = target._meta.label_lower
    if kind not in ("cases.case", "evidence.recording"):
        raise InvalidInput("只能标记案件或音像记录")
    if not unit_allowed(actor, "confidentiality.mark", _owner_unit(target)):
        record_denied(actor=actor, action=events.event_mark_set, target=target,
                      reason="无权设定保密标记（第十七条第四款）")
        raise Forbidden("保密标记由单位负责人、法制机构或主管负责人设定（第十七条第四款）")
    if level not in Confidentiality.values:
        raise InvalidInput("请选择保密标记", detail={"field": "level"})
    reason = (reason or "").strip()
    if not reason:
        raise InvalidInput("设定或变更保密标记须说明理由", detail={"field": "reason"})
    field = "case" if kind == "cases.case" else "recording"
    with transaction.atomic():
        before = current_mark(target)
        ConfidentialityMark.objects.select_for_update().filter(
            **{field: target}, is_current=True).update(is_current=False)
        mark = ConfidentialityMark.objects.create(**{field: target}, level=level,
                                                  reason=reason[:2000], set_by=actor)
        record(actor=actor, action=events.event_mark_set, target=target, reason=reason[:500],
               detail={"level": level, "before": before})
    return mark


def current_mark(target) -> str:
    field = "case" if target._meta.label_lower == "cases.case" else "recording"
    found = (ConfidentialityMark.objects.filter(**{field: target}, is_current=True)
             .values_list("level", flat=True).first())
    return found or Confidentiality.NONE


def history(target):
    field = "case" if target._meta.label_lower == "cases.case" else "recording"
    return ConfidentialityMark.objects.filter(**{field: target}).select_related("set_by")


def _strictest(levels) -> str:
    return max(levels, key=ORDER.index, default=Confidentiality.NONE)


def marks_for_ids(recording_id: int | None, case_ids) -> str:
    """The strictest mark in force on the recording or any of the cases: one query, read once
    per reading request (``core.per_request``: a recording page asked it for the copy right,
    the export right and the panel, two queries each; issue 9 item 3)."""
    cases = tuple(sorted(case_ids or ()))
    where = Q(recording_id=recording_id) if recording_id else Q()
    if cases:
        where |= Q(case_id__in=cases)
    if not where:
        return Confidentiality.NONE

    def read() -> str:
        rows = ConfidentialityMark.objects.filter(where, is_current=True)
        return _strictest(rows.values_list("level", flat=True))

    return remembered(("confidentiality_marks", recording_id, cases), read)


def effective_mark(obj) -> str:
    """The most restrictive mark of a recording and its cases (or of a case itself)."""
    if obj is None:
        return Confidentiality.NONE
    if obj._meta.label_lower == "cases.case":
        return marks_for_ids(None, [obj.pk])
    cases = set(obj.active_case_ids())
    if obj.case_id:
        cases.add(obj.case_id)
    return marks_for_ids(obj.pk, cases)


def label(level: str) -> str:
    return Confidentiality(level).label


def use_limit(user, target, action: str) -> str | None:
    """The access layer's hook (``access.use.register_use_limit``): 国家秘密 refuses every
    copy and export, whoever asks and whatever grant they hold."""
    if action not in ("copy", "export"):
        return None
    recording_id = int(target.id) if target.type == "evidence.recording" else None
    case_ids = set(target.case_ids)
    if target.type == "cases.case":
        case_ids.add(int(target.id))
    if marks_for_ids(recording_id, case_ids) == Confidentiality.STATE_SECRET:
        return STATE_SECRET_NOTICE
    return None
