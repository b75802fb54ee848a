"""JSON API of a case's written records and completeness: thin over the services.

Mounted under the rules router (``liuhen/rules/api.py``), so it needs no edit of core/api.py.
"""

from __future__ import annotations

import os
import tempfile
from datetime import date, datetime
from pathlib import Path

from ninja import File, Form, Router, Schema, Status
from ninja.files import UploadedFile

from liuhen.cases import records_services
from liuhen.cases.models import Approval, Case, Document
from liuhen.cases.records_choices import SignatureStatus
from liuhen.core.access import get_for
from liuhen.rules import events
from liuhen.rules import services as rules_services

router = Router(tags=["文字记录与完整性"])


class RequirementOut(Schema):
    id: str
    title: str
    article: str
    status: str
    status_label: str
    reason: str = ""
    needs: str
    trigger: str = ""
    add: str
    records: list[dict] = []
    approver: str | None = None


class CompletenessOut(Schema):
    case_id: int
    case_number: str
    ratio: float
    percent: int
    met: int
    missing: int
    waived: int
    not_applicable: int
    applicable: int
    evaluated_at: datetime
    items: list[RequirementOut]


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
    action: str
    reason: str = ""
    requirement_code: str = ""


class DecisionIn(Schema):
    approve: bool
    opinion: str = ""


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
    method: str
    recipient: str
    served_at: datetime | None = None
    signature: str = SignatureStatus.SIGNED
    witnesses: str = ""
    note: str = ""


class ServiceOut(Schema):
    id: int
    case_id: int
    document_id: int
    method: str
    served_at: datetime
    recipient: str
    signature: str
    witnesses: str


def completeness_body(case: Case) -> dict:
    snap = rules_services.completeness_for(case)
    return {
        "case_id": case.pk,
        "case_number": case.number,
        "ratio": snap.ratio,
        "percent": snap.percent,
        "met": snap.met,
        "missing": snap.missing_count,
        "waived": snap.waived,
        "not_applicable": snap.not_applicable,
        "applicable": snap.applicable,
        "evaluated_at": snap.evaluated_at,
        "items": rules_services.describe(snap),
    }


@router.get(
    "/cases/{case_id}/completeness",
    response=CompletenessOut,
    summary="案件记录完整性（逐项要求及依据条款）",
)
def get_completeness(request, case_id: int):
    case = get_for(
        request.user,
        "rules.view",
        Case.objects,
        case_id,
        read_event=events.event_completeness_viewed,
    )
    return completeness_body(case)


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
    doc_type: Form[str],
    number: Form[str] = "",
    date: Form[date | None] = None,
    signature: Form[str] = SignatureStatus.SIGNED,
    replaces_id: Form[int | None] = None,
    note: Form[str] = "",
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


class save_upload:
    """An uploaded file as a temporary path (streamed to disk in chunks), removed after use."""

    def __init__(self, upload):
        self.upload = upload
        self.path: Path | None = None

    def __enter__(self) -> Path | None:
        if self.upload is None:
            return None
        temp_path = getattr(self.upload, "temporary_file_path", None)
        if temp_path:
            return Path(temp_path())
        fd, name = tempfile.mkstemp(suffix=Path(self.upload.name or "").suffix[:10])
        with os.fdopen(fd, "wb") as fh:
            for chunk in self.upload.chunks():
                fh.write(chunk)
        self.path = Path(name)
        return self.path

    def __exit__(self, *exc):
        if self.path is not None:
            self.path.unlink(missing_ok=True)
        return False


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
