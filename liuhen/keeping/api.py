"""JSON API of lawful disposal (第十四条): the monthly list of records past their date and not
held, the destruction registers (销毁清册) with their items, the records keeper's proposal, the
unit head's and the legal affairs office's approval or refusal, the execution, and the register
as PDF. Thin over ``keeping.disposal``, the same functions the pages call (every rule, refusal
and audit entry is there); a register the caller may not see answers 404, like a missing one."""

from __future__ import annotations

from datetime import date, datetime
from typing import Literal

from django.utils import timezone
from ninja import Field, Router, Schema, Status

from liuhen.access.services import get_for, require
from liuhen.audit.services import record
from liuhen.core.schemas import Id, Note, Reason
from liuhen.keeping import disposal, events
from liuhen.keeping.models import DisposalItem, DisposalList
from liuhen.keeping.pdf import printed_register

router = Router(tags=["销毁（第十四条）"])

# At most this many ids in one proposal (a month's list of one unit stays far below it).
MAX_PROPOSED = 1000


class DisposalRetentionOut(Schema):
    """The retention that ended, as the register and the tombstone keep it."""

    rule: str = Field(description="保存期限表的条目（keeping/data/retention.toml）")
    title: str
    source: str = Field(description="依据（条文）")
    period: str = Field(description="期限代码，如 6m、30y、permanent")
    start: date | None
    disposal_date: date | None = Field(description="可销毁之日")
    permanent: bool
    pending: bool
    considered: list[dict] = Field(description="参与比较的全部依据（最长者胜出）")


class DisposalCandidateOut(Schema):
    """A recording past its date, not held and on no open register."""

    recording_id: int
    captured_start: datetime
    unit: str
    case_id: int | None
    retention: DisposalRetentionOut


class DisposalCaseCandidateOut(Schema):
    """A case whose file (卷宗) is past its period: its written records and case-file versions
    still kept (proposed together, by the case's id)."""

    case_id: int
    number: str
    unit: str
    retention: DisposalRetentionOut
    document_ids: list[int]
    case_file_ids: list[int]


class DisposalCandidatesOut(Schema):
    as_of: date = Field(description="清理截止日（今天）")
    recordings: list[DisposalCandidateOut]
    cases: list[DisposalCaseCandidateOut]


class DisposalProposeIn(Schema):
    recording_ids: list[Id] = Field(
        default_factory=list, max_length=MAX_PROPOSED, description="本月可销毁清单中的音像记录"
    )
    case_ids: list[Id] = Field(
        default_factory=list,
        max_length=MAX_PROPOSED,
        description="本月可销毁清单中的案卷（其文字记录和各版卷宗）",
    )
    note: Note = ""


class DisposalDecisionIn(Schema):
    decision: Literal["approve", "reject"]
    opinion: Reason = Field("", description="审批意见；不予批准时必填")


class DisposalItemOut(Schema):
    id: int
    kind: Literal["recording", "document", "case_file"]
    recording_id: int | None
    document_id: int | None
    case_file_id: int | None
    label: str
    retention: dict = Field(description="提出时的保存期限依据")
    outcome: str = Field(
        description="pending 待执行 / disposed 已销毁 / waiting 存储锁定期未满，"
        "待重试 / skipped 未销毁（情况已变化）"
    )
    outcome_label: str
    outcome_note: str

    @staticmethod
    def resolve_kind(obj: DisposalItem) -> str:
        return "recording" if obj.recording_id else "document" if obj.document_id else "case_file"

    @staticmethod
    def resolve_label(obj: DisposalItem) -> str:
        return str(obj.target)[:200]

    @staticmethod
    def resolve_outcome_label(obj: DisposalItem) -> str:
        return obj.get_outcome_display()


class DisposalRegisterOut(Schema):
    id: int
    number: str = Field(description="清册编号，如 XH-202612-001")
    unit_id: int
    status: str = Field(
        description="proposed 待批准 / approved 已批准，待执行 / rejected 未批准 / executed 已执行"
    )
    status_label: str
    as_of: date
    note: str
    proposed_by_id: int
    proposed_at: datetime
    head_by_id: int | None = Field(description="单位负责人")
    head_at: datetime | None
    head_opinion: str
    legal_by_id: int | None = Field(description="法制机构")
    legal_at: datetime | None
    legal_opinion: str
    rejected_by_id: int | None
    rejected_at: datetime | None
    executed_by_id: int | None
    executed_at: datetime | None

    @staticmethod
    def resolve_status_label(obj: DisposalList) -> str:
        return obj.get_status_display()


class DisposalRegisterDetailOut(DisposalRegisterOut):
    items: list[DisposalItemOut]

    @staticmethod
    def resolve_items(obj: DisposalList) -> list[DisposalItem]:
        return list(obj.items.select_related("recording", "document", "case_file"))


def _register(request, register_id: int, *, read: bool = False) -> DisposalList:
    return get_for(
        request.user,
        "disposal.view",
        DisposalList.objects,
        register_id,
        read_event=events.event_disposal_register_viewed if read else None,
        denied_event=None if read else events.event_disposal_refused,
    )


@router.get(
    "/keeping/disposal/candidates",
    response=DisposalCandidatesOut,
    summary="本月可销毁清单（保存期限届满、未冻结、未提出）",
)
def candidates(request):
    """What the records keeper may propose today: recordings, and case files with their written
    records. Reading it is audited."""
    require(request.user, "disposal.propose", event=events.event_disposal_refused)
    found = disposal.candidates(user=request.user)
    files = disposal.case_candidates(user=request.user)
    record(actor=request.user, action=events.event_disposal_listed, request=request)
    return {
        "as_of": timezone.localdate(),
        "recordings": [
            {
                "recording_id": c.recording.pk,
                "captured_start": c.recording.captured_start,
                "unit": str(c.recording.unit),
                "case_id": c.recording.case_id,
                "retention": c.retention.as_dict(),
            }
            for c in found
        ],
        "cases": [
            {
                "case_id": c.case.pk,
                "number": c.case.number,
                "unit": str(c.case.unit),
                "retention": c.retention.as_dict(),
                "document_ids": [d.pk for d, _ in c.documents],
                "case_file_ids": [cf.pk for cf, _ in c.case_files],
            }
            for c in files
        ],
    }


@router.get("/keeping/disposal/registers", response=list[DisposalRegisterOut], summary="销毁清册")
def registers(request):
    """The registers of the caller's scope, newest first (at most 500)."""
    require(request.user, "disposal.view", event=events.event_disposal_refused)
    record(actor=request.user, action=events.event_disposal_listed, request=request)
    return list(DisposalList.objects.restrict(request.user, "disposal.view")[:500])


@router.post(
    "/keeping/disposal/registers",
    response={201: DisposalRegisterDetailOut},
    summary="提出销毁清册（档案管理人员）",
)
def propose(request, payload: DisposalProposeIn):
    """Only records on today's list may be proposed: one past its date by now, held, or on an
    open register is refused (400) and nothing is created."""
    created = disposal.propose(
        actor=request.user,
        recording_ids=payload.recording_ids,
        case_ids=payload.case_ids,
        note=payload.note,
    )
    return Status(201, created)


@router.get(
    "/keeping/disposal/registers/{register_id}",
    response=DisposalRegisterDetailOut,
    summary="一份销毁清册及其条目",
)
def register_detail(request, register_id: int):
    return _register(request, register_id, read=True)


@router.post(
    "/keeping/disposal/registers/{register_id}/decision",
    response=DisposalRegisterDetailOut,
    summary="批准或不予批准销毁（单位负责人、法制机构）",
)
def decide(request, register_id: int, payload: DisposalDecisionIn):
    """One of the two approvals (the unit head over every item's unit, and the legal affairs
    office; two people, neither the proposer); both given, the register is approved. A
    refusal needs an opinion. A register no longer awaiting approval answers 409."""
    register = _register(request, register_id)
    if payload.decision == "approve":
        disposal.approve(actor=request.user, register=register, opinion=payload.opinion)
    else:
        disposal.reject(actor=request.user, register=register, opinion=payload.opinion)
    register.refresh_from_db()
    return register


@router.post(
    "/keeping/disposal/registers/{register_id}/execute",
    response=DisposalRegisterDetailOut,
    summary="执行销毁（双方批准后）",
)
def execute(request, register_id: int):
    """Destroys each item through the tombstone path; an item held or no longer due since the
    proposal is skipped, one whose storage lock has not passed waits (call again later).
    Without both approvals: 400; a register not approved: 409."""
    register = _register(request, register_id)
    return disposal.execute(actor=request.user, register=register)


@router.get(
    "/keeping/disposal/registers/{register_id}/pdf",
    summary="销毁清册（PDF）",
    openapi_extra={
        "responses": {200: {"description": "销毁清册 PDF", "content": {"application/pdf": {}}}}
    },
)
def register_pdf_download(request, register_id: int):
    return printed_register(request, _register(request, register_id))
