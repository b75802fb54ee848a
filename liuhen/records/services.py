"""Services for the written records of a case: documents, internal approvals and service.

第四条 (text records), 第五条/第六条 (internal approval within its authority), 第十九条
(the approval flow is recorded), 第十条 (every step leaves a trace). Each service checks
scope, writes inside one transaction with its audit entry and re-evaluates the case's
completeness and deadlines (the ``cases.events.case_changed`` domain event).
"""

from __future__ import annotations

import mimetypes
import tomllib
from dataclasses import dataclass
from datetime import date, datetime
from functools import cache
from pathlib import Path

from django.db import transaction
from django.utils import timezone

from liuhen.access.choices import Role
from liuhen.access.querysets import unit_allowed, user_role
from liuhen.audit.services import record, record_denied
from liuhen.cases import dates
from liuhen.cases import events as case_events
from liuhen.cases.choices import Stage
from liuhen.cases.models import Case, Party
from liuhen.core import limits
from liuhen.core.errors import Conflict, Forbidden, InvalidInput
from liuhen.evidence.storage import get_storage, original_key
from liuhen.records import events
from liuhen.records.choices import (
    ApprovalAction,
    ApprovalDecision,
    DocumentType,
    ServiceMethod,
    SignatureStatus,
)
from liuhen.records.models import Approval, Document, Service

APPROVALS_FILE = Path(__file__).resolve().parent / "data" / "approvals.toml"
MAX_DOCUMENT_BYTES = 200 * 1024 * 1024
ALLOWED_MEDIA = {
    "application/pdf",
    "image/jpeg",
    "image/png",
    "image/tiff",
    "image/webp",
    "application/ofd",
    "text/plain",
    "text/csv",
    "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
}


def _case_changed(case: Case, actor) -> None:
    case_events.case_changed.publish(case=case, actor=actor)


def _require(actor, action: str, case: Case, event: str, message: str) -> None:
    if not unit_allowed(actor, action, case.unit):
        record_denied(actor=actor, action=event, target=case, reason=message)
        raise Forbidden(message)


# --- documents ---------------------------------------------------------------------------


def _store_file(file_path: Path):
    """Store a document's file through the vault's storage: content-addressed, never
    rewritten, with SHA-256 and SM3 (第二十六条 (二)). Returns (digests, key)."""
    storage = get_storage()
    staged = storage.stage(Path(file_path))
    try:
        key = original_key(staged.digests.sha256)
        if not storage.exists(key):
            storage.commit(staged, key)
        return staged.digests, key
    finally:
        staged.discard()


#: 行政处罚法第五十七条第二款: the organ's leaders decide together; a meeting of fewer than
#: three is no collective discussion.
MIN_DISCUSSION_PARTICIPANTS = 3


def _check_discussion(day, extra: dict) -> None:
    """A 集体讨论记录 is a meeting: its date, who took part and what they concluded."""
    participants = [str(p).strip() for p in extra.get("participants") or () if str(p).strip()]
    if day is None:
        raise InvalidInput("集体讨论记录须填写讨论日期（行政处罚法第五十七条第二款）",
                           detail={"field": "date"})
    if len(set(participants)) < MIN_DISCUSSION_PARTICIPANTS:
        raise InvalidInput(
            f"集体讨论记录须列明参加讨论的负责人（至少{MIN_DISCUSSION_PARTICIPANTS}人，"
            "行政处罚法第五十七条第二款）",
            detail={"field": "participants"},
        )
    if not str(extra.get("conclusion", "")).strip():
        raise InvalidInput("集体讨论记录须写明讨论结论（行政处罚法第五十七条第二款）",
                           detail={"field": "conclusion"})


def _check_document(case: Case, *, doc_type: str, signature: str, stage: str | None, parties,
                    extra=None, date=None, replaces: Document | None) -> list[int]:
    """Refuse what a new document may not be; the ids of its parties (of this case)."""
    if doc_type not in DocumentType.values:
        raise InvalidInput(f"未知文书类型：{doc_type}")
    if signature not in SignatureStatus.values:
        raise InvalidInput(f"未知签收情况：{signature}")
    if stage and stage not in Stage.values:
        raise InvalidInput(f"未知环节：{stage}")
    if case.archived_at:
        raise Conflict("案件已归档，不能再添加文字记录")
    party_ids = [p.pk if isinstance(p, Party) else int(p) for p in parties]
    if doc_type == DocumentType.COLLECTIVE_DISCUSSION:
        _check_discussion(date, extra or {})
    if party_ids and case.parties.filter(pk__in=party_ids).count() != len(set(party_ids)):
        raise InvalidInput("当事人不属于该案件")
    if replaces is not None:
        if replaces.case_id != case.pk:
            raise InvalidInput("被替换的文书不属于该案件")
        if not replaces.is_current:
            raise Conflict("被替换的文书已不是现行版本")
    return party_ids


def _document_media_type(path: Path, original_name: str) -> str:
    """The file's media type, refused when empty, too large or not an accepted kind."""
    size = path.stat().st_size
    if size == 0:
        raise InvalidInput("文件为空")
    if size > MAX_DOCUMENT_BYTES:
        raise InvalidInput("文件过大（上限200MB）")
    media_type = mimetypes.guess_type(original_name)[0] or "application/octet-stream"
    if media_type not in ALLOWED_MEDIA:
        raise InvalidInput("仅接受PDF、OFD、图片（JPG/PNG/TIFF/WebP）或表格文件")
    return media_type


def add_document(
    *,
    actor,
    case: Case,
    doc_type: str,
    file_path=None,
    original_name: str = "",
    number: str = "",
    date: date | None = None,
    stage: str | None = None,
    signature: str = SignatureStatus.PENDING,
    parties=(),
    extra=None,
    generated: bool = False,
    replaces: Document | None = None,
    note: str = "",
    early_date_reason: str = "",
) -> Document:
    """Add a written record (文字记录, 第四条) to a case, its file stored with both digests.

    ``replaces`` makes the new row the current version; the old row stays, not current.
    A date before the case began (its complaint or its opening) is refused unless
    ``early_date_reason`` says why (imports only: a levy payment that preceded the case); the
    reason is kept in the document's note and in the audit entry.
    """
    _require(
        actor, "document.create", case, events.event_document_refused, "无权为该案件添加文字记录"
    )
    # Issue 13 item 3: a written record dated in the future lies, and so does one dated before
    # its case began, unless an import says why (a receipt imported for a levy case).
    early_date_reason = (early_date_reason or "").strip()[:limits.REASON]
    dates.check_event_date(field="date", label="文书日期", value=date,
                           case=None if early_date_reason else case)
    early = bool(early_date_reason and date and date < dates.case_began(case))
    if early:
        note = f"{note}（日期早于本案开始，理由：{early_date_reason}）".strip()
    party_ids = _check_document(case, doc_type=doc_type, signature=signature, stage=stage,
                                parties=parties, extra=extra, date=date, replaces=replaces)
    digests, key, media_type = None, "", ""
    if file_path is not None:
        original_name = original_name or Path(file_path).name
        media_type = _document_media_type(Path(file_path), original_name)
        digests, key = _store_file(Path(file_path))
    with transaction.atomic():
        version = 1
        if replaces is not None:
            locked = Document.objects.select_for_update().get(pk=replaces.pk)
            if not locked.is_current:
                raise Conflict("被替换的文书已不是现行版本")
            locked.is_current = False
            locked.save(update_fields=["is_current"])
            version = locked.version + 1
        doc = Document.objects.create(
            case=case,
            doc_type=doc_type,
            number=number[:80],
            date=date,
            stage=stage or case.stage,
            signature=signature,
            original_name=original_name[:255],
            size=digests.size if digests else None,
            media_type=media_type,
            sha256=digests.sha256 if digests else "",
            sm3=digests.sm3 if digests else "",
            storage_key=key,
            version=version,
            replaces=replaces,
            generated=generated,
            created_by=actor,
            note=note,
            extra=extra or {},
        )
        if party_ids:
            doc.parties.set(party_ids)
        record(
            actor=actor,
            action=events.event_document_added,
            target=doc,
            detail={
                "case": case.number,
                "doc_type": doc_type,
                "sha256": doc.sha256,
                "sm3": doc.sm3,
                "version": version,
                "replaces": replaces.pk if replaces else None,
                **({"early_date_reason": early_date_reason} if early else {}),
            },
        )
        _case_changed(case, actor)
    return doc


# --- approvals ---------------------------------------------------------------------------


#: The roles as the law names them where it gives an approval to them.
AUTHORITY_ROLE_NAMES = {
    Role.BUREAU_LEADER: "行政机关负责人（主管负责人）",
    Role.UNIT_HEAD: "单位负责人",
    Role.LEGAL_OFFICE: "法制机构（法制审核人员）",
}


@dataclass(frozen=True)
class Authority:
    """Who may approve one action, and the article that says so (approvals.toml)."""

    action: str
    roles: tuple[str, ...]
    article: str
    basis: str

    @property
    def roles_text(self) -> str:
        return "、".join(AUTHORITY_ROLE_NAMES.get(r, Role(r).label) for r in self.roles)


@cache
def authorities(path: str = str(APPROVALS_FILE)) -> dict[str, Authority]:
    """Each approval action's authority (第五条第四款: 审批权限), read from approvals.toml; a row
    without roles or article, an unknown role or action, or a missing action stops start-up."""
    try:
        data = tomllib.loads(Path(path).read_text(encoding="utf-8"))
    except (OSError, tomllib.TOMLDecodeError) as exc:
        raise RuntimeError(f"审批权限文件 {path} 无法读取：{exc}") from None
    result = {}
    for action, row in data.get("authority", {}).items():
        if action not in ApprovalAction.values:
            raise RuntimeError(f"approvals.toml：未知审批事项 {action!r}")
        roles = row.get("roles") if isinstance(row, dict) else None
        if not roles or any(r not in Role.values for r in roles):
            raise RuntimeError(f"approvals.toml：{action} 的角色无效 {roles!r}")
        if "第" not in row.get("article", "") or "条" not in row.get("article", ""):
            raise RuntimeError(f"approvals.toml：{action} 须写明依据的条款（article）")
        result[action] = Authority(action, tuple(roles), row["article"], row.get("basis", ""))
    missing = set(ApprovalAction.values) - set(result)
    if missing:
        raise RuntimeError(f"approvals.toml：缺少审批事项 {sorted(missing)}")
    return result


def approval_authority(path: str = str(APPROVALS_FILE)) -> dict[str, tuple[str, ...]]:
    """Which roles may approve which action (see :func:`authorities`)."""
    return {action: a.roles for action, a in authorities(path).items()}


def request_approval(
    *, actor, case: Case, action: str, reason: str = "", requirement_code: str = ""
) -> Approval:
    """Ask for an internal approval (第十九条); a waiver names the requirement and a reason."""
    _require(actor, "case.change", case, events.event_approval_refused, "无权为该案件申请审批")
    if action not in ApprovalAction.values:
        raise InvalidInput(f"未知审批事项：{action}")
    if case.archived_at:
        raise Conflict("案件已归档")
    if action == ApprovalAction.WAIVER:
        # The requirements are the rules app's: it refuses an unknown one (InvalidInput).
        events.waiver_requested.publish(case=case, requirement_code=requirement_code)
        if len(reason.strip()) < 10:
            raise InvalidInput("缺项说明须写明理由（至少10个字）")
    else:
        requirement_code = ""
    if Approval.objects.filter(
        case=case,
        action=action,
        requirement_code=requirement_code,
        decision=ApprovalDecision.PENDING,
    ).exists():
        raise Conflict("已有同一事项的待审批申请")
    with transaction.atomic():
        approval = Approval.objects.create(
            case=case,
            action=action,
            requested_by=actor,
            reason=reason.strip(),
            requirement_code=requirement_code,
        )
        record(
            actor=actor,
            action=events.event_approval_requested,
            target=approval,
            detail={
                "case": case.number,
                "action": action,
                "requirement": requirement_code,
                "reason": reason[:500],
            },
        )
        _case_changed(case, actor)
    return approval


def authority_problem(*, actor, approval: Approval) -> str | None:
    """Why ``actor`` may not decide ``approval``, or None: the role must hold the authority
    for the action, the case's unit must be in the actor's scope, and nobody approves their
    own request."""
    role = user_role(actor)
    authority = authorities()[approval.action]
    label = ApprovalAction(approval.action).label
    if role not in authority.roles:
        # The law names who approves; an approval by anyone else makes the act unlawful.
        return (
            f"您的角色无权审批「{label}」：依{authority.article}，应由{authority.roles_text}审批"
            f"（{authority.basis}）"
        )
    permission = "rules.waive" if approval.action == ApprovalAction.WAIVER else "approval.decide"
    if not unit_allowed(actor, permission, approval.case.unit):
        return "该案件不在您的审批范围内"
    if approval.requested_by_id == actor.pk:
        return "不能审批本人提出的申请"
    return None


def legal_review_required(case: Case) -> bool:
    """行政处罚法第五十八条第一款: 法制审核 before the decision where the case went through a
    hearing (第二项) or is complex or a major violation (第三项); the bureau's list of major
    decisions (第四项) is kept the same way, by the case's fact."""
    return bool(case.hearing_requested or case.is_complex_or_major)


def _check_decision_prerequisites(case: Case) -> None:
    """Before the head approves a penalty decision: 集体讨论 (第五十七条第二款) and 法制审核
    (第五十八条: “未经法制审核或者审核未通过的，不得作出决定”) where the law asks for them."""
    if case.is_complex_or_major and not Document.objects.filter(
        case=case, doc_type=DocumentType.COLLECTIVE_DISCUSSION, is_current=True
    ).exists():
        raise Conflict(
            "情节复杂或者重大违法行为给予行政处罚，行政机关负责人应当集体讨论决定"
            "（行政处罚法第五十七条第二款）：请先登记集体讨论记录（参加人员、日期、结论）"
        )
    if legal_review_required(case) and not Approval.objects.filter(
        case=case, action=ApprovalAction.LEGAL_REVIEW, decision=ApprovalDecision.APPROVED
    ).exists():
        raise Conflict(
            "未经法制审核或者审核未通过的，不得作出决定（行政处罚法第五十八条）：请先由法制机构审核"
        )


def decide_approval(*, actor, approval: Approval, approve: bool, opinion: str = "") -> Approval:
    """Approve or reject a pending request, authority checked every time (第五条第四款)."""
    problem = authority_problem(actor=actor, approval=approval)
    if problem:
        record_denied(
            actor=actor, action=events.event_approval_refused, target=approval, reason=problem
        )
        raise Forbidden(problem)
    if approval.action == ApprovalAction.WAIVER and approve and not opinion.strip():
        raise InvalidInput("批准缺项说明须填写审批意见")
    if approval.action == ApprovalAction.PENALTY_DECISION and approve:
        _check_decision_prerequisites(approval.case)
    with transaction.atomic():
        locked = Approval.objects.select_for_update().select_related("case").get(pk=approval.pk)
        if locked.decision != ApprovalDecision.PENDING:
            raise Conflict("该申请已审批")
        locked.decision = ApprovalDecision.APPROVED if approve else ApprovalDecision.REJECTED
        locked.approver = actor
        locked.approver_role = user_role(actor) or ""
        locked.opinion = opinion.strip()
        locked.decided_at = timezone.now()
        locked.save(
            update_fields=["decision", "approver", "approver_role", "opinion", "decided_at"]
        )
        record(
            actor=actor,
            action=events.event_approval_decided,
            target=locked,
            detail={
                "case": locked.case.number,
                "action": locked.action,
                "decision": locked.decision,
                "opinion": opinion[:500],
                "requirement": locked.requirement_code,
            },
        )
        _case_changed(locked.case, actor)
    return locked


# --- service -----------------------------------------------------------------------------


def record_service(
    *,
    actor,
    case: Case,
    document: Document,
    method: str,
    served_at: datetime | None = None,
    recipient: str,
    signature: str = SignatureStatus.SIGNED,
    witnesses: str = "",
    note: str = "",
) -> Service:
    """Record the service (送达) of a document; 留置送达, 公告送达 and a refused signature make
    an audio-visual record of it required (第五条第四款)."""
    _require(actor, "document.create", case, events.event_document_refused, "无权为该案件登记送达")
    if document.case_id != case.pk:
        raise InvalidInput("送达文书不属于该案件")
    if method not in ServiceMethod.values:
        raise InvalidInput(f"未知送达方式：{method}")
    if signature not in SignatureStatus.values:
        raise InvalidInput(f"未知签收情况：{signature}")
    if not recipient.strip():
        raise InvalidInput("请填写受送达人")
    if method == ServiceMethod.LEFT_AT_PREMISES and not witnesses.strip():
        raise InvalidInput("留置送达须填写见证人")
    if case.archived_at:
        raise Conflict("案件已归档")
    with transaction.atomic():
        service = Service.objects.create(
            case=case,
            document=document,
            method=method,
            served_at=served_at or timezone.now(),
            recipient=recipient.strip()[:200],
            signature=signature,
            witnesses=witnesses.strip()[:200],
            note=note,
            created_by=actor,
        )
        record(
            actor=actor,
            action=events.event_service_recorded,
            target=service,
            detail={
                "case": case.number,
                "document": document.pk,
                "method": method,
                "signature": signature,
            },
        )
        _case_changed(case, actor)
    return service
