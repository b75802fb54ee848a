"""Long-term keeping (第十五条): a case's recordings, or one recording, marked with one of the
four reasons are kept permanently (on disc or removable media). Facts already recorded
suggest the mark; a person decides.
"""

from __future__ import annotations

from dataclasses import dataclass

from django.db import transaction
from django.db.models import Q

from liuhen.access.querysets import unit_allowed
from liuhen.audit.services import record, record_denied
from liuhen.cases.choices import CaseSource
from liuhen.core.errors import Forbidden, InvalidInput
from liuhen.core.per_request import remembered
from liuhen.evidence.choices import MarkLabel
from liuhen.keeping import events
from liuhen.keeping.choices import LongTermReason
from liuhen.keeping.models import LongTermMark


@dataclass(frozen=True)
class Suggestion:
    """A reason of 第十五条 that the facts point to, and which fact."""

    reason: str
    because: str

    @property
    def label(self) -> str:
        return LongTermReason(self.reason).label


def case_suggestions(case) -> list[Suggestion]:
    """(一) a complaint or report, a disputed inspection or a hearing request; (三) a major or
    sudden incident."""
    found = []
    if case.source in (CaseSource.COMPLAINT, CaseSource.REPORT) or case.complaint_received_on:
        found.append(Suggestion(LongTermReason.OBJECTION, f"案件来源：{case.get_source_display()}"
                                if not case.complaint_received_on else "收到投诉/举报"))
    if case.is_disputed:
        found.append(Suggestion(LongTermReason.OBJECTION, "易引发争议的现场检查"))
    if case.hearing_requested:
        found.append(Suggestion(LongTermReason.OBJECTION, "当事人申请听证（对处理有异议）"))
    if case.is_major_incident:
        found.append(Suggestion(LongTermReason.INCIDENT, "重大、突发事件"))
    return found


def recording_suggestions(recording) -> list[Suggestion]:
    """The suggestions of every case the recording is evidence in, and (二) when a mark on it
    shows the party refusing to sign."""
    found = []
    if any(mark.label == MarkLabel.SIGNATURE_REFUSED for mark in recording.mark_list()):
        found.append(Suggestion(LongTermReason.OBSTRUCTION, "录像中标注：当事人拒绝签字"))
    for link in recording.active_links():
        found += [Suggestion(s.reason, f"{link.case.number}：{s.because}")
                  for s in case_suggestions(link.case)]
    return found


def marks_on_recording(recording) -> list[LongTermMark]:
    """Marks that keep ``recording`` long-term: its own and those of its cases; read once per
    reading request (``core.per_request``: the recording page's retention and its 第十五条
    part both show them)."""
    case_ids = recording.active_case_ids()

    def read() -> tuple[LongTermMark, ...]:
        return tuple(LongTermMark.objects.filter(Q(recording=recording)
                                                 | Q(case_id__in=case_ids)))

    return list(remembered(("longterm_marks_on_recording", recording.pk), read))


def mark(*, actor, reason: str, note: str = "", case=None, recording=None) -> LongTermMark:
    """Mark a case's recordings or one recording for long-term keeping; audited."""
    if (case is None) == (recording is None):
        raise InvalidInput("请选择一个案件或一条音像记录")
    target = case if case is not None else recording
    # Who may mark comes first: a refused attempt is audited whatever the form held (第二十六条).
    if not unit_allowed(actor, "longterm.mark", target.unit):
        record_denied(actor=actor, action=events.event_longterm_refused, target=target,
                      reason="无权标记长期保存")
        raise Forbidden("无权标记长期保存")
    if reason not in LongTermReason.values:
        raise InvalidInput("请选择第十五条规定的情形")
    note = (note or "").strip()
    if reason == LongTermReason.OTHER and not note:
        raise InvalidInput("“其他需要长期保存的重要情况”须写明理由（第十五条第四项）")
    with transaction.atomic():
        made = LongTermMark.objects.create(reason=reason, note=note[:2000], unit=target.unit,
                                           case=case, recording=recording, marked_by=actor)
        record(actor=actor, action=events.event_longterm_marked, target=target,
               reason=note or LongTermReason(reason).label,
               detail={"mark": made.pk, "reason": reason})
    return made
