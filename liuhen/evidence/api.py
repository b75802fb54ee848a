"""JSON API of the evidence vault: recording metadata, marks, links, fixity (devices:
``liuhen/devices/api.py``).

Thin over ``evidence.services``; every object goes through ``restrict()``. There is no way to
modify or delete an original: PUT/PATCH/DELETE on a recording answer 405 with a JSON error
and leave a denied audit entry (第二十六条 (二)). Uploads are the tus server (``tus.py``).
"""

from __future__ import annotations

from datetime import datetime

from django.http import JsonResponse
from ninja import Field, Query, Router, Schema, Status

from liuhen.access.querysets import allows
from liuhen.access.services import get_for, require
from liuhen.audit.services import record, record_denied
from liuhen.cases.models import Case, Party, Patrol
from liuhen.core.errors import InvalidInput, NotFound
from liuhen.core.schemas import Cause, Code, Id, Name, Note, Search
from liuhen.evidence import events, links, services
from liuhen.evidence.models import CaseLink, Recording, RecordingSubmission
from liuhen.evidence.queries import fixity_checks_for, recording_page

router = Router(tags=["音像记录"])


# -- schemas -------------------------------------------------------------------------------
class MarkOut(Schema):
    id: int
    offset_seconds: float
    label: str
    label_display: str = Field(..., alias="get_label_display")
    note: str
    created_by_id: int
    created_at: datetime


class MarkIn(Schema):
    offset_seconds: float
    label: Code
    note: Note = ""


class DerivativeOut(Schema):
    kind: str
    size: int
    sha256: str
    media_type: str
    width: int | None
    height: int | None
    tool_version: str
    created_at: datetime


class CaseLinkOut(Schema):
    id: int
    case_id: int
    case_number: str = Field(..., alias="case.number")
    is_primary: bool
    linked_by_id: int
    linked_at: datetime
    reason: str
    ended_at: datetime | None
    ended_by_id: int | None
    end_reason: str


class CaseLinkIn(Schema):
    case_id: int
    reason: Note


class CaseLinkEndIn(Schema):
    reason: Note


class RecordingOut(Schema):
    id: int
    kind: str
    original_name: str
    size: int
    media_type: str
    container: str
    video_codec: str
    audio_codec: str
    duration_seconds: float | None
    width: int | None
    height: int | None
    captured_start: datetime
    captured_end: datetime | None
    capture_time_source: str
    device_id: int | None
    officer_id: int | None
    unit_id: int
    patrol_id: int | None
    case_id: int | None
    party_id: int | None
    location: str
    sha256: str
    sm3: str
    uploaded_by_id: int
    channel: str
    stored_at: datetime
    deadline_at: datetime
    late_seconds: int
    is_late: bool
    readable: bool
    read_error: str
    flags: list[str]
    derivation_status: str
    # Every case the recording is evidence in (active links; ``case_id`` is the primary one).
    case_ids: list[int]
    disposed_at: datetime | None
    disposal_register: str

    @staticmethod
    def resolve_case_ids(obj):
        ids = getattr(obj, "linked_case_ids", None)
        return ids if ids is not None else links.linked_case_ids(obj)


class RecordingDetailOut(RecordingOut):
    marks: list[MarkOut]
    derivatives: list[DerivativeOut]
    case_links: list[CaseLinkOut]

    @staticmethod
    def resolve_case_links(obj):
        return list(obj.case_links.select_related("case").order_by("linked_at", "id"))

    @staticmethod
    def resolve_marks(obj):
        return list(obj.marks.all())

    @staticmethod
    def resolve_derivatives(obj):
        return list(obj.derivatives.all())


class RecordingPageOut(Schema):
    next_cursor: str | None
    items: list[RecordingOut]


class DigestOut(Schema):
    sha256: str
    stored: bool
    id: int | None = None
    sm3: str | None = None
    size: int | None = None


class LinkIn(Schema):
    case_id: int | None = None
    patrol_id: int | None = None
    party_id: int | None = None
    reason: Note = ""


class SubmissionOut(Schema):
    id: int
    submitted_by_id: int
    channel: str
    original_name: str
    at: datetime
    was_duplicate: bool


class FixityOut(Schema):
    id: int
    recording_id: int | None
    object_kind: str  # recording 音像记录 / document 文字记录扫描件 / orphan 孤立对象
    object_id: int | None
    storage_key: str
    at: datetime
    outcome: str
    expected_sha256: str
    found_sha256: str
    expected_sm3: str
    found_sm3: str
    tool_version: str
    detail: dict


# -- recordings ----------------------------------------------------------------------------
class RecordingQuery(Schema):
    device: Code = ""
    officer: Id | None = None
    case: Cause = ""
    party: Name = ""
    kind: Code = ""
    late: bool = False
    flagged: bool = False
    cursor: Search | None = None
    page_size: int = 50


@router.get("/recordings", response=RecordingPageOut, summary="音像记录列表")
def list_recordings(request, query: Query[RecordingQuery]):
    require(request.user, "recording.view", event=events.event_recording_listed)
    if not 1 <= query.page_size <= 200:
        raise InvalidInput("每页条数应在1到200之间")
    filters = {
        "device": query.device,
        "case": query.case,
        "party": query.party,
        "kind": query.kind,
        "late": query.late,
        "flagged": query.flagged,
    }
    if query.officer:
        filters["officer"] = query.officer
    page = recording_page(
        user=request.user, filters=filters, cursor=query.cursor, page_size=query.page_size
    )
    record(
        actor=request.user,
        action=events.event_recording_listed,
        detail={"filters": {k: v for k, v in filters.items() if v}, "rows": len(page.rows)},
    )
    return {"next_cursor": page.next_cursor, "items": page.rows}


@router.get(
    "/recordings/by-digest/{sha256}",
    response=DigestOut,
    summary="按SHA-256查询是否已存储（采集站去重）",
)
def recording_by_digest(request, sha256: str):
    """Whether these bytes are stored. Details only for recordings the user may see; knowing
    a digest proves possession of the bytes, so "stored" alone reveals nothing new."""
    sha256 = sha256.strip().lower()
    if len(sha256) != 64 or any(c not in "0123456789abcdef" for c in sha256):
        raise InvalidInput("SHA-256 应为64位十六进制")
    if not (allows(request.user, "recording.upload") or allows(request.user, "recording.view")):
        record_denied(
            actor=request.user,
            action=events.event_recording_digest_queried,
            target=("evidence.recording", sha256),
            reason="角色无权查询",
        )
        raise NotFound()
    rec = Recording.objects.filter(sha256=sha256).first()
    if rec is None:
        record(
            actor=request.user,
            action=events.event_recording_digest_queried,
            target=("evidence.recording", sha256),
            detail={"sha256": sha256, "stored": False},
        )
        raise NotFound("未存储该文件")
    visible = Recording.objects.restrict(request.user, "recording.view").filter(pk=rec.pk)
    record(
        actor=request.user,
        action=events.event_recording_digest_queried,
        target=rec,
        detail={"sha256": sha256, "visible": visible.exists()},
    )
    if visible.exists():
        return {
            "sha256": rec.sha256,
            "stored": True,
            "id": rec.pk,
            "sm3": rec.sm3,
            "size": rec.size,
        }
    return {"sha256": rec.sha256, "stored": True}


@router.get(
    "/recordings/{recording_id}", response=RecordingDetailOut, summary="音像记录详情（含固定值）"
)
def show_recording(request, recording_id: int):
    return get_for(
        request.user,
        "recording.view",
        Recording.objects,
        recording_id,
        read_event=events.event_recording_viewed,
    )


@router.get(
    "/recordings/{recording_id}/submissions",
    response=list[SubmissionOut],
    summary="提交记录（含重复提交）",
)
def list_submissions(request, recording_id: int):
    rec = get_for(
        request.user,
        "recording.view",
        Recording.objects,
        recording_id,
        read_event=events.event_submissions_viewed,
    )
    return list(RecordingSubmission.objects.filter(recording=rec))


@router.post(
    "/recordings/{recording_id}/marks", response={201: MarkOut}, summary="标注（第六条、第八条）"
)
def add_mark(request, recording_id: int, payload: MarkIn):
    rec = get_for(
        request.user,
        "recording.mark",
        Recording.objects,
        recording_id,
        denied_event=events.event_recording_marked,
    )
    mark = services.add_mark(
        actor=request.user,
        recording=rec,
        offset_seconds=payload.offset_seconds,
        label=payload.label,
        note=payload.note,
    )
    return Status(201, mark)


@router.post(
    "/recordings/{recording_id}/links",
    response=RecordingOut,
    summary="关联案件、巡查或当事人（第十八条）",
)
def link_recording(request, recording_id: int, payload: LinkIn):
    rec = get_for(
        request.user,
        "recording.link",
        Recording.objects,
        recording_id,
        denied_event=events.event_recording_linked,
    )
    case = patrol = party = None
    if payload.case_id:
        case = get_for(
            request.user,
            "case.view",
            Case.objects,
            payload.case_id,
            denied_event=events.event_recording_linked,
        )
    if payload.patrol_id:
        patrol = get_for(
            request.user,
            "patrol.view",
            Patrol.objects,
            payload.patrol_id,
            denied_event=events.event_recording_linked,
        )
    if payload.party_id:
        party = get_for(
            request.user,
            "party.view",
            Party.objects,
            payload.party_id,
            denied_event=events.event_recording_linked,
        )
    return services.link_recording(
        actor=request.user,
        recording=rec,
        case=case,
        patrol=patrol,
        party=party,
        reason=payload.reason,
    )


@router.get(
    "/recordings/{recording_id}/case-links",
    response=list[CaseLinkOut],
    summary="关联的案件（含已解除的关联）",
)
def list_case_links(request, recording_id: int):
    rec = get_for(request.user, "recording.view", Recording.objects, recording_id,
                  read_event=events.event_recording_links_viewed)
    return list(rec.case_links.select_related("case").order_by("linked_at", "id"))


@router.post(
    "/recordings/{recording_id}/case-links",
    response={201: CaseLinkOut},
    summary="关联到另一案件（同一记录可作为多个案件的证据，第十四条）",
)
def add_case_link(request, recording_id: int, payload: CaseLinkIn):
    rec = get_for(request.user, "recording.link", Recording.objects, recording_id,
                  denied_event=events.event_recording_case_linked)
    case = get_for(request.user, "case.view", Case.objects, payload.case_id,
                   denied_event=events.event_recording_case_linked)
    link = links.add_case_link(actor=request.user, recording=rec, case=case,
                               reason=payload.reason)
    return Status(201, link)


@router.post(
    "/recordings/{recording_id}/case-links/{link_id}/end",
    response=CaseLinkOut,
    summary="解除与某案件的关联（须说明理由，关联记录保留）",
)
def end_case_link(request, recording_id: int, link_id: int, payload: CaseLinkEndIn):
    rec = get_for(request.user, "recording.link", Recording.objects, recording_id,
                  denied_event=events.event_recording_case_unlinked)
    link = get_for(request.user, "recording.link",
                   CaseLink.objects.filter(recording=rec).select_related("case", "recording"),
                   link_id, denied_event=events.event_recording_case_unlinked)
    return links.end_case_link(actor=request.user, link=link, reason=payload.reason)


# -- refusals: an original can never be changed or deleted (第二十六条 (二)) -------------------
def _refuse_modification(request, recording_id: str):
    record_denied(
        actor=request.user,
        action=events.event_recording_modification_refused,
        target=("evidence.recording", str(recording_id)),
        reason=f"{request.method} 被拒绝：音像记录原件不可修改或删除",
        detail={"method": request.method, "path": request.path},
    )
    response = JsonResponse(
        {
            "code": "original_immutable",
            "message": "音像记录原件一经存储不得修改或删除（依据第二十六条）",
        },
        status=405,
    )
    response["Allow"] = "GET, HEAD, OPTIONS, POST"
    return response


for _path in (
    "/recordings/{recording_id}",
    "/recordings/{recording_id}/marks",
    "/recordings/{recording_id}/links",
    "/recordings/{recording_id}/submissions",
    "/recordings/{recording_id}/case-links",
):
    router.add_api_operation(
        _path,
        ["PUT", "PATCH", "DELETE"],
        _refuse_modification,
        summary="（拒绝）修改或删除原件",
        include_in_schema=False,
    )


@router.api_operation(
    ["PUT", "PATCH", "DELETE"], "/recordings/by-digest/{sha256}", include_in_schema=False
)
def _refuse_by_digest(request, sha256: str):
    return _refuse_modification(request, recording_id=sha256[:64])


@router.api_operation(
    ["PUT", "PATCH", "DELETE"], "/recordings/{recording_id}/case-links/{link_id}/end",
    include_in_schema=False,
)
def _refuse_link_end(request, recording_id: str, link_id: str):
    return _refuse_modification(request, recording_id=recording_id)


@router.api_operation(["PUT", "PATCH", "DELETE"], "/recordings", include_in_schema=False)
def _refuse_collection(request):
    return _refuse_modification(request, recording_id="*")


# -- fixity --------------------------------------------------------------------------------
@router.get("/fixity-checks", response=list[FixityOut], summary="固定值校验记录（含告警）")
def list_fixity_checks(request, outcome: Code = "", failed_only: bool = False, limit: int = 200):
    """The legal affairs office lists failed checks here (第二十三条 supervision)."""
    require(request.user, "recording.fixity")

    # Orphans (no recording, so no unit) are visible to bureau-wide supervisors only.
    qs = fixity_checks_for(request.user)
    if outcome:
        qs = qs.filter(outcome=outcome)
    if failed_only:
        qs = qs.exclude(outcome="ok")
    rows = list(qs.order_by("-at", "-id")[: max(1, min(limit, 1000))])
    record(
        actor=request.user,
        action=events.event_fixity_listed,
        detail={"outcome": outcome, "failed_only": failed_only, "rows": len(rows)},
    )
    return rows


