"""JSON API of a case's written records: documents, internal approvals, service; thin over
the services (a case's completeness is the rules app's: ``liuhen/rules/api.py``)."""

from __future__ import annotations

from datetime import date, datetime

from ninja import File, Form, Router, Schema, Status
from ninja.files import UploadedFile

from liuhen.access.services import get_for
from liuhen.cases.models import Case
from liuhen.core import limits
from liuhen.core.files import save_upload
from liuhen.core.schemas import Code, Name, Reason
from liuhen.records import events
from liuhen.records import services as records_services
from liuhen.records.choices import SignatureStatus
from liuhen.records.models import Approval, Document

# Mounted under the rules router before issue 15, so its operations carried both tags: kept.
router = Router(tags=["记录完整性", "文字记录与完整性"])


class DocumentOut(Schema):
    id: int
    case_id: int
    doc_type: str
    number: str
    date: date | None
    stage: str
    signature: str
    original_name: str
    size: int | None
    media_type: str
    sha256: str
    sm3: str
    version: int
    replaces_id: int | None
    is_current: bool
    generated: bool
    created_at: datetime
    extra: dict


class ApprovalIn(Schema):
    action: Code
    reason: Reason = ""
    requirement_code: Code = ""


class DecisionIn(Schema):
    approve: bool
    opinion: Reason = ""


class ApprovalOut(Schema):
    id: int
    case_id: int
    action: str
    decision: str
    requested_by_id: int
    requested_at: datetime
    approver_id: int | None
    approver_role: str
    opinion: str
    decided_at: datetime | None
    requirement_code: str
    reason: str


class ServiceIn(Schema):
    document_id: int
    method: Code
    recipient: Name
    served_at: datetime | None = None
    signature: Code = SignatureStatus.SIGNED
    witnesses: Name = ""
    note: Reason = ""


class ServiceOut(Schema):
    id: int
    case_id: int
    document_id: int
    method: str
    served_at: datetime
    recipient: str
    signature: str
    witnesses: str


@router.get("/cases/{case_id}/documents", response=list[DocumentOut], summary="文字记录列表")
def list_documents(request, case_id: int):
    case = get_for(
        request.user,
        "document.view",
        Case.objects,
        case_id,
        read_event=events.event_document_viewed,
    )
    return list(Document.objects.filter(case=case).order_by("id"))


@router.post(
    "/cases/{case_id}/documents", response={201: DocumentOut}, summary="添加文字记录（上传扫描件）"
)
def post_document(
    request,
    case_id: int,
    doc_type: Form[Code],
    # Form fields with a default take their limit here (an Annotated limit inside Form[...]
    # would drop the default); the numbers are core.limits' all the same.
    number: str = Form("", max_length=limits.DOC_NUMBER),
    date: Form[date | None] = None,
    signature: str = Form(SignatureStatus.SIGNED, max_length=limits.CODE),
    replaces_id: Form[int | None] = None,
    note: str = Form("", max_length=limits.REASON),
    file: File[UploadedFile] = None,
):
    case = get_for(
        request.user,
        "document.create",
        Case.objects,
        case_id,
        denied_event=events.event_document_refused,
    )
    replaces = None
    if replaces_id:
        replaces = get_for(
            request.user,
            "document.create",
            Document.objects.filter(case=case),
            replaces_id,
            denied_event=events.event_document_refused,
        )
    with save_upload(file) as path:
        doc = records_services.add_document(
            actor=request.user,
            case=case,
            doc_type=doc_type,
            file_path=path,
            original_name=file.name if file else "",
            number=number,
            date=date,
            signature=signature,
            replaces=replaces,
            note=note,
        )
    return Status(201, doc)


@router.post(
    "/cases/{case_id}/approvals",
    response={201: ApprovalOut},
    summary="申请内部审批（含缺项说明/豁免）",
)
def post_approval(request, case_id: int, payload: ApprovalIn):
    case = get_for(
        request.user,
        "case.change",
        Case.objects,
        case_id,
        denied_event=events.event_approval_refused,
    )
    approval = records_services.request_approval(
        actor=request.user,
        case=case,
        action=payload.action,
        reason=payload.reason,
        requirement_code=payload.requirement_code,
    )
    return Status(201, approval)


@router.get("/cases/{case_id}/approvals", response=list[ApprovalOut], summary="内部审批记录")
def list_approvals(request, case_id: int):
    case = get_for(
        request.user,
        "document.view",
        Case.objects,
        case_id,
        read_event=events.event_document_viewed,
    )
    return list(Approval.objects.filter(case=case).order_by("id"))


@router.post("/approvals/{approval_id}/decision", response=ApprovalOut, summary="审批")
def post_decision(request, approval_id: int, payload: DecisionIn):
    approval = get_for(
        request.user,
        "document.view",
        Approval.objects.select_related("case"),
        approval_id,
        denied_event=events.event_approval_refused,
    )
    return records_services.decide_approval(
        actor=request.user, approval=approval, approve=payload.approve, opinion=payload.opinion
    )


@router.post("/cases/{case_id}/services", response={201: ServiceOut}, summary="登记送达")
def post_service(request, case_id: int, payload: ServiceIn):
    case = get_for(
        request.user,
        "document.create",
        Case.objects,
        case_id,
        denied_event=events.event_document_refused,
    )
    document = get_for(
        request.user,
        "document.create",
        Document.objects.filter(case=case),
        payload.document_id,
        denied_event=events.event_document_refused,
    )
    service = records_services.record_service(
        actor=request.user,
        case=case,
        document=document,
        method=payload.method,
        served_at=payload.served_at,
        recipient=payload.recipient,
        signature=payload.signature,
        witnesses=payload.witnesses,
        note=payload.note,
    )
    return Status(201, service)
