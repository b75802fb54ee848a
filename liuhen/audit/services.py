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

from django.db import DatabaseError, connection, connections, transaction
from django.utils import timezone
from django.utils.dateparse import parse_datetime

from liuhen.audit import context
from liuhen.audit.choices import Outcome
from liuhen.audit.models import GENESIS_HASH, AuditEntry

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
    fields = {
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
    }
    if connection.vendor == "postgresql" and not connection.in_atomic_block:
        # A read or a refusal, outside any transaction: the append is one statement, which
        # PostgreSQL commits on its own. BEGIN and COMMIT around it were two more round trips
        # on every audited page view (issue 9 item 3).
        # Each call then holds the chain's lock only for itself: a stale guess is retried on
        # the head it returned, and if other processes kept appending in between, the append
        # is made under the lock below.
        with connection.cursor() as cursor:
            entry = _append_postgresql(cursor, fields)
        if entry is not None:
            return entry
    # No savepoint of its own: the entry belongs to the caller's transaction, and if it cannot
    # be written the change it describes must not commit either.
    with transaction.atomic(savepoint=False), connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            entry = _append_postgresql(cursor, fields)
            if entry is None:
                # Only a writer that bypasses the lock (a raw INSERT) can move the head we hold.
                raise DatabaseError("审计日志链头在持锁期间被改动：有绕过 record() 的写入")
            return entry
        # SQLite: the IMMEDIATE transaction already holds the write lock, so the head read
        # here stays the head until COMMIT.
        cursor.execute(_HEAD_SQL)
        head = cursor.fetchone()
        return _insert(cursor, _chained(fields, *(head or (0, GENESIS_HASH))))


def _chained(fields: dict, head_seq: int, head_hash: str) -> dict:
    """The entry that follows ``head_seq``/``head_hash``, with its own hash."""
    values = {
        "seq": head_seq + 1,
        "uuid": uuid_module.uuid4(),
        # Taken after the head was written (or, on PostgreSQL, guessed from an append that
        # happened before): entries' times follow their sequence numbers.
        "at": timezone.now().astimezone(UTC),
        **fields,
        "prev_hash": head_hash,
    }
    values["hash"] = entry_hash(values)
    return values


_HEAD_SQL = f"SELECT seq, hash FROM {AuditEntry._meta.db_table} ORDER BY seq DESC LIMIT 1"
_INSERT_FIELDS = [AuditEntry._meta.get_field(name) for name in (*HASHED_FIELDS, "hash")]
_INSERT_SQL = (
    f"INSERT INTO {AuditEntry._meta.db_table} "
    f"({', '.join(f.column for f in _INSERT_FIELDS)}) "
    f"VALUES ({', '.join(['%s'] * len(_INSERT_FIELDS))}) RETURNING id"
)
# Migration 0003: takes the advisory lock, reads the head after it, inserts if the entry was
# built on that head; its parameters are _INSERT_FIELDS in this order.
_APPEND_SQL = (
    "SELECT new_id, head_seq, head_hash FROM liuhen_audit_append("
    f"{', '.join(['%s'] * len(_INSERT_FIELDS))})"
)

# The head this process last wrote or saw on PostgreSQL: the guess an append is built on. A
# wrong guess (another process appended, or our entry was rolled back) costs one more round
# trip, never a wrong entry: the database function checks it under the lock.
_head_guess: tuple[int, str] = (0, GENESIS_HASH)


def _append_postgresql(cursor, fields: dict) -> AuditEntry | None:
    """Lock, check the head and insert in one round trip when the guess is right; in two when
    it is not (the first call returns the real head and, inside a transaction, holding the
    lock, keeps it still). None after three stale heads."""
    global _head_guess
    head_seq, head_hash = _head_guess
    for _attempt in range(3):
        values = _chained(fields, head_seq, head_hash)
        cursor.execute(_APPEND_SQL, _params(values))
        new_id, head_seq, head_hash = cursor.fetchone()
        _head_guess = (head_seq, head_hash)
        if new_id is not None:
            return _entry(values, new_id)
    return None


# Only these need the database's own form (uuid and time as text on SQLite, detail as JSON);
# the rest are already plain str, int or None. Preparing every field through the proxied
# ``connection`` cost more than the SM3 (cProfile of bench/bench_audit.py).
_PREPARED = frozenset({"uuid", "at", "detail"})


def _params(values: dict) -> list:
    db = transaction.get_connection()
    return [field.get_db_prep_save(values[field.name], db) if field.name in _PREPARED
            else values[field.name] for field in _INSERT_FIELDS]


def _insert(cursor, values: dict) -> AuditEntry:
    """One INSERT, values prepared by the model's own fields: the ORM's save() machinery
    cost several times the hashing and the write together (bench/bench_audit.py)."""
    cursor.execute(_INSERT_SQL, _params(values))
    return _entry(values, cursor.fetchone()[0])


_ENTRY_ATTNAMES = [f.attname for f in AuditEntry._meta.concrete_fields]


def _entry(values: dict, pk: int) -> AuditEntry:
    # from_db(): every field's value in model order, marked as saved; cheaper than AuditEntry(**).
    row = [pk if name == "id" else values[name] for name in _ENTRY_ATTNAMES]
    return AuditEntry.from_db(connection.alias, _ENTRY_ATTNAMES, row)


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


_COLUMNS = ", ".join([*HASHED_FIELDS, "hash"])


def _chunk_sql(vendor: str) -> str:
    """One chunk of the chain in order, read raw: the ORM's per-value converters cost more
    than the hashing. PostgreSQL formats the time exactly as ``format_time`` does."""
    if vendor == "postgresql":
        columns = _COLUMNS.replace(
            "uuid, at,",
            "uuid::text, to_char(at AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS.US\"Z\"'),",
        ).replace("detail,", "detail::text,")
    else:
        # Read the time as text: the sqlite3 converter Django registers for datetime columns
        # parses every value in Python, which alone costs more than the SM3.
        columns = _COLUMNS.replace("uuid, at,", "uuid, CAST(at AS TEXT),")
    return (f"SELECT {columns} FROM {AuditEntry._meta.db_table} "
            "WHERE seq > %s ORDER BY seq LIMIT %s")


def _sqlite_time(text) -> str:
    # Django keeps aware datetimes on SQLite as naive UTC text, "YYYY-MM-DD HH:MM:SS[.ffffff]".
    if isinstance(text, str) and len(text) in (19, 26) and text[10] == " ":
        return text.replace(" ", "T") + ("Z" if len(text) == 26 else ".000000Z")

    value = parse_datetime(text) if isinstance(text, str) else text
    if value is None:
        return str(text)
    if timezone.is_naive(value):
        return value.isoformat(timespec="microseconds") + "Z"
    return format_time(value)


def _sqlite_uuid(text) -> str:
    text = str(text)
    if len(text) == 32:  # stored as 32 hex digits without dashes
        return f"{text[:8]}-{text[8:12]}-{text[12:16]}-{text[16:20]}-{text[20:]}"
    return str(uuid_module.UUID(text))


def _verify_range(first_seq: int, last_seq: int | None, prev_hash: str,
                  chunk_size: int = 20000) -> VerifyResult:
    """Check entries ``first_seq`` … ``last_seq`` (None: to the end), chained from ``prev_hash``."""
    expected_seq = first_seq
    checked = 0
    sm3 = hashlib.new
    loads = json.loads
    # One encoder, built once: json.dumps() with options builds a new one per call.
    encode = json.JSONEncoder(ensure_ascii=False, sort_keys=True, separators=(",", ":")).encode
    vendor = connection.vendor
    sql = _chunk_sql(vendor)
    sqlite = vendor != "postgresql"
    after = first_seq - 1
    while True:
        with connection.cursor() as cursor:
            cursor.execute(sql, [after, chunk_size])
            rows = cursor.fetchall()
        if not rows:
            break
        for row in rows:
            seq = row[0]
            if last_seq is not None and seq > last_seq:
                break
            if seq != expected_seq:
                return VerifyResult(False, checked, expected_seq,
                                    f"序号不连续：应为 {expected_seq}，实际为 {seq}（条目被删除或移动）")
            if row[16] != prev_hash:
                return VerifyResult(False, checked, seq, "前一条哈希不符（条目被删除、插入或重排）")
            values = list(row[:17])
            if sqlite:
                values[1] = _sqlite_uuid(values[1])
                values[2] = _sqlite_time(values[2])
            detail = values[15]
            values[15] = loads(detail) if isinstance(detail, (str, bytes)) else detail
            digest = sm3("sm3", encode(values).encode()).hexdigest()
            if digest != row[17]:
                return VerifyResult(False, checked, seq, "本条哈希不符（条目内容被修改）")
            prev_hash = row[17]
            expected_seq += 1
            checked += 1
        else:
            after = rows[-1][0]
            continue
        break  # reached the end of this range
    if last_seq is not None and expected_seq <= last_seq:
        return VerifyResult(False, checked, expected_seq,
                            f"序号不连续：应为 {expected_seq}（条目被删除）")
    return VerifyResult(True, checked, head_seq=expected_seq - 1 or None, head_hash=prev_hash)


def _verify_part(bounds: tuple[int, int | None, str]) -> VerifyResult:
    # Runs in a forked worker process: it opens its own database connection.

    connections.close_all()
    try:
        return _verify_range(*bounds)
    finally:
        connections.close_all()


def verify(*, chunk_size: int = 20000, workers: int = 1, min_parallel: int = 50_000) -> VerifyResult:
    """Walk the whole chain in order; report the first entry that breaks it.

    With ``workers`` > 1 the chain is cut into contiguous seq ranges checked by forked processes
    (each range starts from the stored hash of the entry before it, and every cut is checked
    too), so a million entries verify on all cores. Needs a database the workers can reach,
    i.e. not an in-memory one.
    """
    head = AuditEntry.objects.order_by("-seq").values_list("seq", flat=True).first()
    if workers <= 1 or head is None or head < min_parallel or (
        connection.vendor == "sqlite" and connection.is_in_memory_db()
    ):
        return _verify_range(1, None, GENESIS_HASH, chunk_size)
    step = -(-head // workers)
    starts = list(range(1, head + 1, step))
    cut_hashes = dict(AuditEntry.objects.filter(seq__in=[s - 1 for s in starts[1:]])
                      .values_list("seq", "hash"))
    parts = []
    for i, first in enumerate(starts):
        last = starts[i + 1] - 1 if i + 1 < len(starts) else None
        if first > 1 and (first - 1) not in cut_hashes:
            # The entry before this range is gone; everything up to it is still checked below.
            parts.append((first, last, ""))
        else:
            parts.append((first, last, cut_hashes.get(first - 1, GENESIS_HASH)))
    import multiprocessing  # only a verify of a long chain forks workers


    connections.close_all()
    with multiprocessing.get_context("fork").Pool(len(parts)) as pool:
        results = pool.map(_verify_part, parts)
    checked = 0
    for result in results:
        checked += result.checked
        if not result.ok:
            return VerifyResult(False, checked, result.first_bad_seq, result.problem)
    return VerifyResult(True, checked, head_seq=results[-1].head_seq,
                        head_hash=results[-1].head_hash)
