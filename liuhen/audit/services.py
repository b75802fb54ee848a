"""Writing and verifying the audit log.

Every service calls ``record()`` inside its own transaction, so an entry exists exactly when
the change it describes was committed (第二十六条 (二): nothing is altered without a trace).
"""

from __future__ import annotations

import hashlib
import json
import uuid as uuid_module
from dataclasses import dataclass
from datetime import UTC, datetime

from django.db import connection, transaction
from django.utils import timezone

from liuhen.audit import context
from liuhen.audit.choices import Outcome
from liuhen.audit.models import GENESIS_HASH, AuditEntry

# Serialises appends on PostgreSQL; on SQLite the IMMEDIATE transaction already does.
_PG_LOCK_KEY = 0x4C49_5548  # "LIUH"

HASHED_FIELDS = (
    "seq", "uuid", "at", "actor_id", "actor_name", "actor_role", "session", "ip", "via",
    "action", "object_type", "object_id", "object_repr", "outcome", "reason", "detail",
    "prev_hash",
)


def format_time(at: datetime) -> str:
    return at.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def canonical_bytes(values: dict) -> bytes:
    """The exact bytes the entry's hash covers: a sorted, compact JSON array of its fields."""
    row = []
    for name in HASHED_FIELDS:
        value = values[name]
        if name == "at":
            value = format_time(value)
        elif name == "uuid":
            value = str(value)
        row.append(value)
    return json.dumps(row, ensure_ascii=False, sort_keys=True, separators=(",", ":")).encode()


def entry_hash(values: dict) -> str:
    return hashlib.new("sm3", canonical_bytes(values)).hexdigest()


def _clean_detail(detail) -> dict:
    # Stored exactly as hashed: round-trip through JSON, drop NULs that PostgreSQL refuses.
    text = json.dumps(detail or {}, ensure_ascii=False, sort_keys=True, default=str)
    return json.loads(text.replace("\\u0000", ""))


def actor_fields(actor) -> tuple[int | None, str, str]:
    if actor is None or not getattr(actor, "is_authenticated", False):
        return None, "", ""
    officer = getattr(actor, "officer", None)
    name = (officer.name if officer else "") or actor.get_full_name() or actor.get_username()
    role = officer.role if officer else ("admin" if actor.is_superuser else "")
    return actor.pk, name[:150], role


def target_fields(target) -> tuple[str, str, str]:
    if target is None:
        return "", "", ""
    if isinstance(target, tuple):
        object_type, object_id = target[0], target[1]
        return str(object_type), str(object_id), str(target[2]) if len(target) > 2 else ""
    meta = target._meta
    return f"{meta.app_label}.{meta.model_name}", str(target.pk), str(target)[:200]


def record(
    *,
    actor,
    action: str,
    target=None,
    outcome: str = Outcome.SUCCEEDED,
    reason: str = "",
    detail: dict | None = None,
    request=None,
    actor_name: str | None = None,
) -> AuditEntry:
    """Append one entry to the chain, inside the caller's transaction."""
    ctx = context.from_request(request) if request is not None else context.current()
    actor_id, name, role = actor_fields(actor)
    if actor_name is not None and not name:
        name = actor_name[:150]
    object_type, object_id, object_repr = target_fields(target)
    # Fit the columns: an attacker-chosen id (a garbage token prefix, a long username) must
    # still leave its trace instead of failing the insert on PostgreSQL's varchar limits.
    object_type, object_id, object_repr = object_type[:64], object_id[:64], object_repr[:200]
    action = str(action)[:64]
    with transaction.atomic():
        if connection.vendor == "postgresql":
            with connection.cursor() as cursor:
                cursor.execute("SELECT pg_advisory_xact_lock(%s)", [_PG_LOCK_KEY])
        head = AuditEntry.objects.order_by("-seq").values_list("seq", "hash").first()
        seq, prev_hash = (head[0] + 1, head[1]) if head else (1, GENESIS_HASH)
        values = {
            "seq": seq,
            "uuid": uuid_module.uuid4(),
            "at": timezone.now().astimezone(UTC),
            "actor_id": actor_id,
            "actor_name": name,
            "actor_role": role,
            "session": ctx.session,
            "ip": ctx.ip,
            "via": ctx.via,
            "action": action,
            "object_type": object_type,
            "object_id": object_id,
            "object_repr": object_repr,
            "outcome": str(outcome),
            "reason": reason or "",
            "detail": _clean_detail(detail),
            "prev_hash": prev_hash,
        }
        values["hash"] = entry_hash(values)
        return AuditEntry.objects.create(**values)


def record_denied(*, actor, action: str, target=None, reason: str = "", detail=None):
    """A refused attempt is evidence too (第二十六条 (三)). Call it before raising, outside
    any transaction that the refusal will roll back."""
    return record(actor=actor, action=action, target=target, outcome=Outcome.DENIED,
                  reason=reason, detail=detail)


@dataclass
class VerifyResult:
    ok: bool
    checked: int
    first_bad_seq: int | None = None
    problem: str = ""
    head_seq: int | None = None
    head_hash: str = ""


def verify(*, chunk_size: int = 20000) -> VerifyResult:
    """Walk the whole chain in order; report the first entry that breaks it."""
    fields = [*HASHED_FIELDS, "hash"]
    expected_seq = 1
    prev_hash = GENESIS_HASH
    checked = 0
    sm3 = hashlib.new
    dumps = json.dumps
    last_seq = 0
    while True:
        rows = list(
            AuditEntry.objects.filter(seq__gt=last_seq)
            .order_by("seq")
            .values_list(*fields)[:chunk_size]
        )
        if not rows:
            break
        for row in rows:
            seq = row[0]
            if seq != expected_seq:
                return VerifyResult(False, checked, expected_seq,
                                    f"序号不连续：应为 {expected_seq}，实际为 {seq}（条目被删除或移动）")
            if row[16] != prev_hash:
                return VerifyResult(False, checked, seq, "前一条哈希不符（条目被删除、插入或重排）")
            values = list(row[:17])
            values[1] = str(values[1])
            values[2] = format_time(values[2])
            digest = sm3("sm3", dumps(values, ensure_ascii=False, sort_keys=True,
                                      separators=(",", ":")).encode()).hexdigest()
            if digest != row[17]:
                return VerifyResult(False, checked, seq, "本条哈希不符（条目内容被修改）")
            prev_hash = row[17]
            expected_seq += 1
            checked += 1
        last_seq = rows[-1][0]
    return VerifyResult(True, checked, head_seq=expected_seq - 1 or None, head_hash=prev_hash)
