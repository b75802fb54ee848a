"""JSON API of the audit log, for the legal affairs office (第二十三条)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from ninja import Query, Router, Schema

from liuhen.access.services import require
from liuhen.audit import events
from liuhen.audit.queries import AuditFilter, search_entries
from liuhen.audit.services import record, verify
from liuhen.core.schemas import Code, Search

router = Router(tags=["审计日志"])


class EntryOut(Schema):
    seq: int
    uuid: str
    at: datetime
    actor_id: int | None
    actor_name: str
    actor_role: str
    session: str
    ip: str
    via: str
    action: str
    object_type: str
    object_id: str
    object_repr: str
    outcome: str
    reason: str
    detail: dict[str, Any]
    prev_hash: str
    hash: str


class AuditQuery(Schema):
    actor: Search | None = None
    object_type: Code | None = None
    object_id: Code | None = None
    action: Code | None = None
    outcome: Code | None = None
    since: datetime | None = None
    until: datetime | None = None
    limit: int = 100


class VerifyOut(Schema):
    ok: bool
    checked: int
    first_bad_seq: int | None
    problem: str


@router.get("/audit", response=list[EntryOut], summary="审计日志")
def list_entries(request, query: Query[AuditQuery]):
    require(request.user, "audit.view", event=events.event_audit_viewed)
    filters = AuditFilter(**query.dict(exclude={"limit"}))
    entries = list(search_entries(filters)[: max(1, min(query.limit, 1000))])
    record(actor=request.user, action=events.event_audit_viewed,
           detail={"filters": query.dict(exclude_none=True), "count": len(entries)})
    for entry in entries:
        entry.uuid = str(entry.uuid)
    return entries


@router.post("/audit/verify", response=VerifyOut, summary="校验审计日志哈希链")
def verify_chain(request):
    require(request.user, "audit.view", event=events.event_audit_verified)
    result = verify()
    record(actor=request.user, action=events.event_audit_verified,
           outcome="succeeded" if result.ok else "failed", reason=result.problem,
           detail={"checked": result.checked, "first_bad_seq": result.first_bad_seq})
    return {"ok": result.ok, "checked": result.checked, "first_bad_seq": result.first_bad_seq,
            "problem": result.problem}
