"""Lawful disposal of records whose retention ended (第十四条): the monthly list, the
destruction register (销毁清册) and its approvals, and the execution.

Recordings go through the vault's one deleting path (``evidence.disposal.dispose_original``,
which leaves a tombstone). A case's file (卷宗) — its written records (文字记录) and every
version of its case-file PDF — goes as one unit once the case file's period ended: each row
becomes a tombstone with its permit (``records.DocumentDisposal``, ``CaseFileDisposal``: digests,
dates, both approvals, register number; the database refuses a tombstone without one, and
never deletes either), and only after that commits is its stored file erased (on S3 once its
Object Lock retention has passed, never before; a file another live record still names is
kept). ``liuhen verify`` then finds neither a missing file nor an orphan.

Steps, one function each, every one audited: :func:`candidates` and :func:`case_candidates`
(past the disposal date and not held), :func:`propose` (the records keeper), :func:`approve`
(the unit head and the legal affairs office, two people; either may :func:`reject`),
:func:`execute` (each item checked again: a hold placed or a case linked since the proposal
keeps the item).
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta

from django.db import transaction
from django.db.models import Q
from django.utils import timezone

from liuhen.access.choices import Role
from liuhen.access.querysets import unit_allowed, user_role, user_unit
from liuhen.access.services import require
from liuhen.audit.choices import Outcome
from liuhen.audit.services import record, record_denied
from liuhen.cases.models import Case
from liuhen.core.errors import Conflict, Forbidden, InvalidInput, LiuhenError
from liuhen.evidence import disposal as originals
from liuhen.evidence import fixity
from liuhen.evidence.models import Recording, RecordingDisposal
from liuhen.evidence.storage import get_storage
from liuhen.keeping import events, holds, services
from liuhen.keeping.choices import DisposalItemOutcome, DisposalStatus
from liuhen.keeping.models import CaseFile, CaseFileDisposal, DisposalItem, DisposalList
from liuhen.keeping.retention import Period, Retention, load_table
from liuhen.records.models import Document, DocumentDisposal

log = logging.getLogger(__name__)

OPEN_STATUSES = (DisposalStatus.PROPOSED, DisposalStatus.APPROVED)


@dataclass(frozen=True)
class Candidate:
    recording: Recording
    retention: Retention


@dataclass
class CaseCandidate:
    """A case whose file (卷宗) is past its period: its written records and case-file versions
    not yet disposed of, each with the retention that ended for it."""

    case: Case
    retention: Retention
    documents: list = field(default_factory=list)  # [(Document, Retention)]
    case_files: list = field(default_factory=list)  # [(CaseFile, Retention)]


def _latest_capture(periods, as_of: date) -> datetime | None:
    """Recordings captured after this cannot be past their date by ``as_of``: the rows that
    apply to every recording (the patrol minimum) count from capture and the longest wins.
    A few days' margin covers month ends (31 August + 6 months is 28 February)."""
    rows = [periods[r.id] for r in load_table().group("recording") if r.applies == "every"]
    if any(p.permanent for p in rows):
        return None
    months = max((p.months for p in rows), default=0)
    cutoff = Period(months=-months).end(as_of) + timedelta(days=3)
    return timezone.make_aware(datetime.combine(cutoff, time.max))


def candidates(*, user, as_of: date | None = None) -> list[Candidate]:
    """The monthly list: recordings in ``user``'s scope whose disposal date has come by
    ``as_of`` (today), not held, not disposed, not already on an open register."""
    as_of = as_of or timezone.localdate()
    periods = services.periods_in_force()
    latest = _latest_capture(periods, as_of)
    if latest is None:
        return []
    rows = (Recording.objects.restrict(user, "disposal.propose")
            .filter(disposed_at__isnull=True, captured_start__lte=latest)
            .exclude(pk__in=DisposalItem.objects.filter(
                register__status__in=OPEN_STATUSES).values("recording_id"))
            .select_related("unit", "case").order_by("captured_start", "id"))
    found = []
    for rec in rows:
        ret = services.recording_retention(rec, periods=periods)
        if ret.disposal_date is not None and ret.disposal_date <= as_of:
            found.append(Candidate(rec, ret))
    held = holds.held_recording_ids(c.recording.pk for c in found)
    return [c for c in found if c.recording.pk not in held]


def _open_record_ids() -> tuple[set[int], set[int]]:
    """Documents and case-file versions already on an open register."""
    open_items = DisposalItem.objects.filter(register__status__in=OPEN_STATUSES)
    return (set(open_items.exclude(document=None).values_list("document_id", flat=True)),
            set(open_items.exclude(case_file=None).values_list("case_file_id", flat=True)))


def _case_candidate(case, *, periods, as_of: date, skip=(set(), set())) -> CaseCandidate | None:
    """The case's file if its period ended by ``as_of``, no hold stands and something of it is
    still kept; ``skip``: documents and versions already on an open register."""
    ret = services.case_file_retention(case, periods=periods)
    if ret.disposal_date is None or ret.disposal_date > as_of:
        return None
    if holds.active_holds().filter(case=case).exists():
        return None
    found = CaseCandidate(case, ret)
    for doc in (Document.objects.filter(case=case, disposed_at__isnull=True)
                .exclude(pk__in=skip[0]).order_by("pk")):
        doc_ret = services.document_retention(doc, periods=periods)
        if doc_ret.disposal_date is not None and doc_ret.disposal_date <= as_of:
            found.documents.append((doc, doc_ret))
    found.case_files = [(cf, ret) for cf in CaseFile.objects.filter(
        case=case, disposed_at__isnull=True).exclude(pk__in=skip[1]).order_by("version")]
    return found if (found.documents or found.case_files) else None


def case_candidates(*, user, as_of: date | None = None) -> list[CaseCandidate]:
    """The monthly list's case files (第十二条, 第十四条): closed or archived cases in ``user``'s
    scope whose case file's period ended by ``as_of``, not held, with written records or
    case-file versions still kept and not on an open register."""
    as_of = as_of or timezone.localdate()
    periods = services.periods_in_force()
    skip = _open_record_ids()
    cases = (Case.objects.restrict(user, "disposal.propose")
             .filter(Q(archived_at__isnull=False) | Q(closed_on__isnull=False))
             .filter(Q(documents__disposed_at__isnull=True)
                     | Q(case_files__disposed_at__isnull=True))
             .distinct().select_related("unit").order_by("closed_on", "id"))
    return [c for case in cases
            if (c := _case_candidate(case, periods=periods, as_of=as_of, skip=skip))]


def _refuse(actor, target, message: str, exc_class=InvalidInput):
    record_denied(actor=actor, action=events.event_disposal_refused, target=target,
                  reason=message)
    raise exc_class(message)


def _next_number(as_of: date) -> str:
    prefix = f"XH-{as_of:%Y%m}-"
    taken = DisposalList.objects.filter(number__startswith=prefix).count()
    return f"{prefix}{taken + 1:03d}"


def _ids(values, what: str) -> set[int]:
    try:
        return {int(pk) for pk in values}
    except (TypeError, ValueError):
        raise InvalidInput(f"所选{what}编号无效") from None


def propose(*, actor, recording_ids=(), case_ids=(), note: str = "",
            as_of: date | None = None) -> DisposalList:
    """The records keeper puts recordings and case files (卷宗: every written record and
    case-file version of the case still kept) of the monthly list on a new register."""
    require(actor, "disposal.propose", event=events.event_disposal_refused)
    as_of = as_of or timezone.localdate()
    wanted = _ids(recording_ids, "音像记录")
    wanted_cases = _ids(case_ids, "案件")
    if not wanted and not wanted_cases:
        raise InvalidInput("请选择要提出销毁的音像记录或案卷")
    listed = {c.recording.pk: c for c in candidates(user=actor, as_of=as_of)} if wanted else {}
    if wanted - set(listed):
        _refuse(actor, None, "所选记录不在本月可销毁清单中（保存期限未满、已冻结或已提出）："
                + "、".join(str(pk) for pk in sorted(wanted - set(listed))))
    files = {c.case.pk: c for c in case_candidates(user=actor, as_of=as_of)} if wanted_cases else {}
    if wanted_cases - set(files):
        _refuse(actor, None, "所选案卷不在本月可销毁清单中（保存期限未满、已冻结或已提出）："
                + "、".join(str(pk) for pk in sorted(wanted_cases - set(files))))
    with transaction.atomic():
        register = DisposalList.objects.create(
            number=_next_number(as_of), unit=user_unit(actor), as_of=as_of,
            note=(note or "").strip()[:2000], proposed_by=actor)
        for pk in sorted(wanted):
            DisposalItem.objects.create(register=register, recording_id=pk,
                                        retention=listed[pk].retention.as_dict())
        documents, versions = [], []
        for pk in sorted(wanted_cases):
            for doc, ret in files[pk].documents:
                DisposalItem.objects.create(register=register, document=doc,
                                            retention=ret.as_dict())
                documents.append(doc.pk)
            for cf, ret in files[pk].case_files:
                DisposalItem.objects.create(register=register, case_file=cf,
                                            retention=ret.as_dict())
                versions.append(cf.pk)
        record(actor=actor, action=events.event_disposal_proposed, target=register,
               detail={"number": register.number, "recordings": sorted(wanted),
                       "cases": sorted(wanted_cases), "documents": documents,
                       "case_files": versions})
    return register


def _item_unit(item: DisposalItem):
    if item.recording_id:
        return item.recording.unit
    return (item.document or item.case_file).case.unit


def _locked(register: DisposalList) -> DisposalList:
    return DisposalList.objects.select_for_update().get(pk=register.pk)


def approve(*, actor, register: DisposalList, opinion: str = "") -> DisposalList:
    """One of the two approvals: the unit head over every item's unit, or the legal office.
    Both given: the register is approved."""
    role = user_role(actor)
    if role not in (Role.UNIT_HEAD, Role.LEGAL_OFFICE):
        _refuse(actor, register, "销毁须由单位负责人和法制机构批准", Forbidden)
    with transaction.atomic():
        register = _locked(register)
        if register.status != DisposalStatus.PROPOSED:
            _refuse(actor, register, f"清册{register.get_status_display()}，不能再批准", Conflict)
        if actor.pk == register.proposed_by_id:
            _refuse(actor, register, "提出人不能批准自己提出的销毁")
        now = timezone.now()
        if role == Role.UNIT_HEAD:
            units = {_item_unit(i) for i in register.items.select_related(
                "recording__unit", "document__case__unit", "case_file__case__unit")}
            if not all(unit_allowed(actor, "disposal.approve", u) for u in units):
                _refuse(actor, register, "清册中有不属于本单位的记录，单位负责人无权批准", Forbidden)
            register.head_by, register.head_at, register.head_opinion = actor, now, opinion
        else:
            register.legal_by, register.legal_at, register.legal_opinion = actor, now, opinion
        if register.head_by_id and register.legal_by_id:
            register.status = DisposalStatus.APPROVED
        register.save()
        record(actor=actor, action=events.event_disposal_approved, target=register,
               reason=opinion, detail={"number": register.number, "as": role})
    return register


def reject(*, actor, register: DisposalList, opinion: str) -> DisposalList:
    """The unit head or the legal office refuses the register (with an opinion)."""
    if user_role(actor) not in (Role.UNIT_HEAD, Role.LEGAL_OFFICE):
        _refuse(actor, register, "无权审批销毁", Forbidden)
    opinion = (opinion or "").strip()
    if not opinion:
        raise InvalidInput("不予批准须写明意见")
    with transaction.atomic():
        register = _locked(register)
        if register.status != DisposalStatus.PROPOSED:
            _refuse(actor, register, f"清册{register.get_status_display()}，不能再审批", Conflict)
        register.status = DisposalStatus.REJECTED
        register.rejected_by, register.rejected_at = actor, timezone.now()
        if user_role(actor) == Role.UNIT_HEAD:
            register.head_opinion = opinion
        else:
            register.legal_opinion = opinion
        register.save()
        record(actor=actor, action=events.event_disposal_rejected, target=register,
               reason=opinion, detail={"number": register.number})
    return register


def _still_disposable(item: DisposalItem) -> tuple[Retention | None, str]:
    rec = item.recording
    if rec.disposed_at:
        return None, "已销毁"
    if on_hold := holds.holds_on_recording(rec):
        return None, f"已冻结：{on_hold[0].get_kind_display()} {on_hold[0].reference}".strip()
    ret = services.recording_retention(rec)
    if ret.disposal_date is None or ret.disposal_date > timezone.localdate():
        return None, f"保存期限已变化：{ret.period_label}，{ret.disposal_label}"
    return ret, ""


def execute(*, actor, register: DisposalList) -> DisposalList:
    """Destroy each item of an approved register (both approvals, 第十四条) through the vault's
    tombstone path; an item held or no longer due since the proposal is skipped; one whose
    storage lock has not passed waits (run again later)."""
    require(actor, "disposal.execute", event=events.event_disposal_refused, target=register)
    register = DisposalList.objects.get(pk=register.pk)
    if not (register.head_by_id and register.legal_by_id):
        _refuse(actor, register, "销毁须经单位负责人和法制机构双方批准，清册尚缺批准")
    if register.status != DisposalStatus.APPROVED:
        _refuse(actor, register, f"清册{register.get_status_display()}，不能执行", Conflict)
    head = originals.Approval(register.head_by, register.head_at, register.head_opinion)
    legal = originals.Approval(register.legal_by, register.legal_at, register.legal_opinion)
    items = register.items.select_related("recording", "document__case", "case_file__case").filter(
        outcome__in=(DisposalItemOutcome.PENDING, DisposalItemOutcome.WAITING))
    for item in items:
        if not item.recording_id:
            outcome, note = _execute_record(actor, register, item, head, legal)
            DisposalItem.objects.filter(pk=item.pk).update(outcome=outcome,
                                                           outcome_note=note[:500])
            continue
        ret, why = _still_disposable(item)
        if ret is None:
            outcome, note = DisposalItemOutcome.SKIPPED, why
        else:
            try:
                originals.dispose_original(
                    actor=actor, recording=item.recording, register_number=register.number,
                    proposed_by=register.proposed_by, proposed_at=register.proposed_at,
                    unit_head=head, legal=legal, retention=ret.as_dict())
                outcome, note = DisposalItemOutcome.DISPOSED, ""
            except originals.ObjectLocked as exc:
                outcome, note = DisposalItemOutcome.WAITING, exc.message
            except LiuhenError as exc:
                outcome, note = DisposalItemOutcome.SKIPPED, exc.message
        DisposalItem.objects.filter(pk=item.pk).update(outcome=outcome, outcome_note=note[:500])
    erase_pending_records(actor=actor)  # a file whose erasure failed earlier: tried again
    with transaction.atomic():
        register = _locked(register)
        waiting = register.items.filter(outcome=DisposalItemOutcome.WAITING).count()
        if not waiting:
            register.status = DisposalStatus.EXECUTED
            register.executed_by, register.executed_at = actor, timezone.now()
            register.save()
        tally = {o: register.items.filter(outcome=o).count() for o in DisposalItemOutcome.values}
        record(actor=actor, action=events.event_disposal_executed, target=register,
               outcome="succeeded", detail={"number": register.number, "tally": tally})
    return register


# --- written records and case files ---------------------------------------------------------


def _record_still_disposable(row) -> tuple[Retention | None, str]:
    """A document or case-file version of the register, checked again at execution."""
    if row.disposed_at:
        return None, "已销毁"
    if on_hold := list(holds.active_holds().filter(case=row.case)):
        return None, f"已冻结：{on_hold[0].get_kind_display()} {on_hold[0].reference}".strip()
    ret = (services.document_retention(row) if isinstance(row, Document)
           else services.case_file_retention(row.case))
    if ret.disposal_date is None or ret.disposal_date > timezone.localdate():
        return None, f"保存期限已变化：{ret.period_label}，{ret.disposal_label}"
    return ret, ""


def _check_record_approvals(row, head: originals.Approval, legal: originals.Approval) -> str:
    """Two different people: a unit head over the case's unit and the legal office ("" if
    so, else why not)."""
    if head is None or legal is None or head.user is None or legal.user is None:
        return "销毁须经单位负责人和法制机构双方批准"
    if head.user.pk == legal.user.pk:
        return "单位负责人与法制机构的批准须由不同人员作出"
    if (user_role(head.user) != Role.UNIT_HEAD
            or not unit_allowed(head.user, "disposal.approve", row.case.unit)):
        return "批准人不是该案件所属单位的负责人"
    if user_role(legal.user) != Role.LEGAL_OFFICE:
        return "第二项批准须由法制机构作出"
    return ""


def _execute_record(actor, register, item, head, legal) -> tuple[str, str]:
    row = item.document or item.case_file
    ret, why = _record_still_disposable(row)
    if ret is None:
        return DisposalItemOutcome.SKIPPED, why
    if problem := _check_record_approvals(row, head, legal):
        record_denied(actor=actor, action=events.event_disposal_refused, target=row,
                      reason=problem)
        return DisposalItemOutcome.SKIPPED, problem
    if row.storage_key:
        until = get_storage().retained_until(row.storage_key)
        if until is not None and until > timezone.now():
            return (DisposalItemOutcome.WAITING,
                    f"存储的对象锁定（Object Lock）保留至 {until:%Y-%m-%d}，暂不能销毁")
    try:
        dispose_record(actor=actor, row=row, register=register, unit_head=head, legal=legal,
                       retention=ret.as_dict())
    except LiuhenError as exc:
        return DisposalItemOutcome.SKIPPED, exc.message
    return DisposalItemOutcome.DISPOSED, ""


def dispose_record(*, actor, row, register: DisposalList, unit_head: originals.Approval,
                   legal: originals.Approval, retention: dict):
    """Make a written record or a case-file version a tombstone (第十四条): its permit with
    the register number, both approvals, digests and the retention that ended, then
    ``disposed_at``; its stored file is erased once that commits. The database refuses the
    tombstone without the permit (``triggers.tombstone_protections``)."""
    if problem := _check_record_approvals(row, unit_head, legal):
        _refuse(actor, row, problem)
    model = type(row)
    permit_model = DocumentDisposal if model is Document else CaseFileDisposal
    now = timezone.now()
    with transaction.atomic():
        locked = model.objects.select_for_update().get(pk=row.pk)
        if locked.disposed_at is not None:
            raise Conflict(f"该记录已于 {timezone.localtime(locked.disposed_at):%Y-%m-%d} 销毁")
        permit = permit_model.objects.create(
            tombstone=locked, register_number=register.number,
            proposed_by=register.proposed_by, proposed_at=register.proposed_at,
            unit_head_approved_by=unit_head.user, unit_head_approved_at=unit_head.at,
            legal_approved_by=legal.user, legal_approved_at=legal.at, retention=retention,
            storage_key=locked.storage_key, sha256=locked.sha256, sm3=locked.sm3,
            size=locked.size, executed_by=actor, executed_at=now)
        locked.disposed_at, locked.disposal_register = now, register.number
        locked.save(update_fields=["disposed_at", "disposal_register"])
        record(actor=actor, action=events.event_record_disposed, target=locked,
               reason=f"依销毁清册 {register.number} 销毁（第十四条保存期限届满）",
               detail={"register_number": register.number, "permit": permit.pk,
                       "kind": permit_model._meta.model_name, "case": locked.case.number,
                       "sha256": locked.sha256, "sm3": locked.sm3, "size": locked.size,
                       "storage_key": locked.storage_key, "retention": retention,
                       "approvals": {
                           "unit_head": [unit_head.user.pk, unit_head.at.isoformat(),
                                         unit_head.opinion],
                           "legal_office": [legal.user.pk, legal.at.isoformat(),
                                            legal.opinion]}})
        transaction.on_commit(lambda: erase_record_object(permit, actor=actor))
    return permit


def _still_named(key: str) -> bool:
    """Whether a record not disposed of still names ``key`` (content-addressed files are
    shared: the same scan on two documents)."""
    return any(kind.rows().filter(storage_key=key).exists() for kind in fixity.stored_kinds())


def erase_record_object(permit, *, actor=None, storage=None) -> bool:
    """Erase the stored file of a committed document or case-file tombstone; audited, also
    when it fails (``erase_pending_records`` tries again). A file that another live record
    still names is kept (nothing of the disposed record remains but what others need)."""
    storage = storage or get_storage()
    permit = type(permit).objects.select_related("tombstone").get(pk=permit.pk)
    row = permit.tombstone
    if permit.object_erased_at is not None or row.disposed_at is None:
        return permit.object_erased_at is not None
    key = row.storage_key
    try:
        if not key:
            detail = {"removed": [], "note": "无电子文件（纸质记录）"}
        elif _still_named(key):
            detail = {"removed": [], "kept": "其他在保记录仍引用该文件"}
        else:
            detail = storage.erase_original(key, permit=permit)
    except (OSError, ValueError, LiuhenError) as exc:
        with transaction.atomic():
            record(actor=actor, action=events.event_record_object_erased, target=row,
                   outcome=Outcome.FAILED, reason=f"文件删除失败，将重试：{exc}"[:500],
                   detail={"permit": permit.pk, "key": key})
        log.error("DISPOSAL: erasing %s of %s failed: %s", key, row, exc)
        return False
    with transaction.atomic():
        # Once: a run that met the same permit at the same time (two retries) records nothing.
        if type(permit).objects.filter(pk=permit.pk, object_erased_at__isnull=True).update(
                object_erased_at=timezone.now(), erase_detail={"storage": storage.name, **detail}):
            record(actor=actor, action=events.event_record_object_erased, target=row,
                   detail={"permit": permit.pk, "key": key, "storage": storage.name, **detail})
    return True


def erase_pending_records(*, actor=None, storage=None) -> int:
    """Retry the erasure of every document and case-file tombstone whose file is still
    stored; how many succeeded."""
    done = 0
    for model in (DocumentDisposal, CaseFileDisposal):
        for permit in model.objects.filter(object_erased_at__isnull=True).order_by("pk"):
            done += erase_record_object(permit, actor=actor, storage=storage)
    return done


def retry_erasures(*, storage=None) -> dict:
    """The scheduler's retry (第十四条): every tombstone, recording, written record or case-file
    version, whose stored object is still there because its erasure failed after the tombstone
    committed (a file-system error, S3 unreachable) is erased again. Idempotent: an object
    already erased is not touched again, two runs at once record each erasure once; every
    attempt is audited by the erasing function, and a run that found anything pending adds one
    entry with the counts (a run with nothing to do writes nothing)."""
    permits = (RecordingDisposal, DocumentDisposal, CaseFileDisposal)
    pending = sum(m.objects.filter(object_erased_at__isnull=True).count() for m in permits)
    if not pending:
        return {"objects_pending": 0, "objects_erased": 0, "objects_left": 0}
    erased = originals.erase_pending(storage=storage) + erase_pending_records(storage=storage)
    left = sum(m.objects.filter(object_erased_at__isnull=True).count() for m in permits)
    result = {"objects_pending": pending, "objects_erased": erased, "objects_left": left}
    with transaction.atomic():
        record(actor=None, action=events.event_erasures_retried,
               outcome=Outcome.FAILED if left else Outcome.SUCCEEDED,
               reason=f"{left} 个对象仍未删除，将于下次重试" if left else "", detail=result)
    return result
