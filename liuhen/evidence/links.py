"""A recording's links to cases, its patrol and its party (第十八条 classification).

A recording may be evidence in several cases (第十四条: its retention follows the longest of
them): each link is a :class:`~liuhen.evidence.models.CaseLink` with who linked it, when and
why, and is ended (never deleted) with who, when and why. One active link is primary:
``Recording.case`` mirrors it and the recording belongs to that case's unit. Completeness
(rules), access (``Recording.scope_links``) and retention (keeping) follow every active link.
Every change is audited in the service's transaction and tells the apps above that the cases
concerned changed (``cases.events.case_changed``).
"""

from __future__ import annotations

from django.db import transaction
from django.utils import timezone

from liuhen.access.querysets import unit_allowed
from liuhen.audit.services import record, record_denied
from liuhen.cases import events as case_events
from liuhen.cases.models import Case
from liuhen.core.errors import Conflict, InvalidInput, NotFound
from liuhen.evidence import events
from liuhen.evidence.models import CaseLink, Recording

LINK_LABELS = {"case": "案件", "patrol": "巡查", "party": "当事人"}
REASON_MAX = 500


def linked_case_ids(recording) -> list[int]:
    """The cases a recording is evidence in now (active links), primary first."""
    return list(
        CaseLink.objects.filter(recording_id=recording.pk, ended_at__isnull=True)
        .order_by("-is_primary", "linked_at", "id")
        .values_list("case_id", flat=True)
    )


def cases_changed(case_ids, actor) -> None:
    """Tell the apps above that these cases changed (``None`` ids are skipped)."""
    ids = [i for i in set(case_ids) if i]
    if not ids:
        return
    for case in Case.objects.filter(pk__in=ids).order_by("pk"):
        case_events.case_changed.publish(case=case, actor=actor)


def recording_changed(recording, actor, *, case_ids=None) -> None:
    """Every case the recording is linked to changed (a mark may meet a requirement).
    ``case_ids``: its active links' cases when the caller knows them (a recording created in
    the caller's transaction: its case or none), saving the query per ingested file."""
    cases_changed(linked_case_ids(recording) if case_ids is None else case_ids, actor)
    events.recording_changed.publish(recording=recording, actor=actor)


def create_primary_link(*, recording, case, actor, reason: str) -> CaseLink:
    """The first link of a recording stored with its case (inside the ingest transaction)."""
    return CaseLink.objects.create(recording=recording, case=case, is_primary=True,
                                   linked_by=actor, reason=reason[:REASON_MAX])


def _refuse(actor, recording, reason: str, *, target_label: str | None = None):
    record_denied(actor=actor, action=events.event_recording_linked, target=recording,
                  reason=reason)
    raise NotFound(f"{target_label}不存在或无权访问" if target_label else None)


def _check_may_link(actor, recording, objects) -> None:
    if not Recording.objects.restrict(actor, "recording.link").filter(pk=recording.pk).exists():
        _refuse(actor, recording, "无权关联该音像记录")
    for obj, label in objects:
        if obj is not None and not unit_allowed(actor, "recording.link", obj.unit):
            _refuse(actor, recording, f"无权关联到该{label}", target_label=label)


def link_recording(
    *, actor, recording: Recording, case=None, patrol=None, party=None, reason: str = ""
) -> Recording:
    """Set a recording's primary case, its patrol or its party (第十八条 classification).

    The recording then belongs to the primary case's unit. Changing an existing primary case,
    patrol or party needs a reason: the old primary link is ended with it (kept, with who and
    when), never overwritten. Further cases are added with :func:`add_case_link`.
    """
    if case is None and patrol is None and party is None:
        raise InvalidInput("请至少指定案件、巡查或当事人之一")
    _check_may_link(actor, recording, ((case, "案件"), (patrol, "巡查"), (party, "当事人")))
    reason = (reason or "").strip()[:REASON_MAX]
    target_case = case if case is not None else recording.case
    target_party = party if party is not None else recording.party
    if (target_case is not None and target_party is not None
            and not target_case.parties.filter(pk=target_party.pk).exists()):
        raise InvalidInput("该当事人不属于所选案件")
    changes = {}
    for name, new in (("case", case), ("patrol", patrol), ("party", party)):
        if new is None:
            continue
        old_id = getattr(recording, f"{name}_id")
        if old_id == new.pk:
            continue
        if old_id is not None and not reason:
            raise Conflict(f"该音像记录已关联其他{LINK_LABELS[name]}，更改关联须填写理由")
        changes[name] = [old_id, new.pk]
    if not changes:
        return recording
    with transaction.atomic():
        recording = Recording.objects.select_for_update().get(pk=recording.pk)
        old_unit = recording.unit_id
        before = linked_case_ids(recording)
        if "case" in changes:
            _replace_primary(recording, case, actor=actor, reason=reason)
        if "patrol" in changes:
            recording.patrol = patrol
        if "party" in changes:
            recording.party = party
        recording.save(update_fields=["case", "patrol", "party", "unit"])
        detail = {"changes": changes, "reason": reason}
        if recording.unit_id != old_unit:
            detail["unit"] = [old_unit, recording.unit_id]
        record(actor=actor, action=events.event_recording_linked, target=recording,
               reason=reason, detail=detail)
        # Re-evaluate the old and the new cases' completeness (第十条) and deadlines.
        cases_changed(before + linked_case_ids(recording), actor)
        events.recording_changed.publish(recording=recording, actor=actor)
    return recording


def _replace_primary(recording, case, *, actor, reason: str) -> None:
    """Make ``case`` the primary link: the old primary link is ended with the reason, an
    existing secondary link to ``case`` is promoted, or a new link is made."""
    now = timezone.now()
    active = CaseLink.objects.select_for_update().filter(recording=recording,
                                                         ended_at__isnull=True)
    old = active.filter(is_primary=True).first()
    if old is not None:
        old.ended_at, old.ended_by, old.end_reason = now, actor, reason or "更改主关联案件"
        old.save(update_fields=["ended_at", "ended_by", "end_reason"])
    existing = active.filter(case=case).first()
    if existing is not None:
        existing.is_primary = True
        existing.save(update_fields=["is_primary"])
    else:
        CaseLink.objects.create(recording=recording, case=case, is_primary=True,
                                linked_by=actor, linked_at=now,
                                reason=reason or "关联案件")
    recording.case = case
    recording.unit = case.unit


def add_case_link(*, actor, recording: Recording, case, reason: str) -> CaseLink:
    """Link a recording to one more case (it is evidence there too), with the reason why.

    The first link of a recording with no case becomes its primary link. A recording already
    linked to that case is refused (409). Audited; both the recording's cases and the new one
    are re-evaluated.
    """
    _check_may_link(actor, recording, ((case, "案件"),))
    reason = (reason or "").strip()[:REASON_MAX]
    if not reason:
        raise InvalidInput("请填写关联理由（为什么这条音像记录是该案件的证据）")
    with transaction.atomic():
        recording = Recording.objects.select_for_update().get(pk=recording.pk)
        if CaseLink.objects.filter(recording=recording, case=case,
                                   ended_at__isnull=True).exists():
            raise Conflict(f"该音像记录已关联案件 {case.number}")
        primary = recording.case_id is None
        link = CaseLink.objects.create(recording=recording, case=case, is_primary=primary,
                                       linked_by=actor, reason=reason)
        if primary:
            recording.case, recording.unit = case, case.unit
            recording.save(update_fields=["case", "unit"])
        record(actor=actor, action=events.event_recording_case_linked, target=recording,
               reason=reason, detail={"link": link.pk, "case": case.pk,
                                      "case_number": case.number, "primary": primary})
        recording_changed(recording, actor)
    return link


def end_case_link(*, actor, link: CaseLink, reason: str) -> CaseLink:
    """End one link (wrongly linked, or no longer evidence there), with the reason; kept.

    When the primary link ends, the oldest remaining link becomes primary and the recording
    moves to that case's unit; with none left the recording keeps its unit and has no case.
    """
    recording = link.recording
    _check_may_link(actor, recording, ((link.case, "案件"),))
    reason = (reason or "").strip()[:REASON_MAX]
    if not reason:
        raise InvalidInput("解除关联须填写理由")
    with transaction.atomic():
        recording = Recording.objects.select_for_update().get(pk=recording.pk)
        link = CaseLink.objects.select_for_update().get(pk=link.pk)
        if link.ended_at is not None:
            raise Conflict("该关联已解除")
        link.ended_at, link.ended_by, link.end_reason = timezone.now(), actor, reason
        link.save(update_fields=["ended_at", "ended_by", "end_reason"])
        promoted = None
        if link.is_primary:
            promoted = (CaseLink.objects.filter(recording=recording, ended_at__isnull=True)
                        .select_related("case").order_by("linked_at", "id").first())
            if promoted is not None:
                promoted.is_primary = True
                promoted.save(update_fields=["is_primary"])
                recording.case, recording.unit = promoted.case, promoted.case.unit
            else:
                recording.case = None
            recording.save(update_fields=["case", "unit"])
        record(actor=actor, action=events.event_recording_case_unlinked, target=recording,
               reason=reason, detail={"link": link.pk, "case": link.case_id,
                                      "primary_now": promoted.case_id if promoted else None})
        cases_changed([link.case_id, *linked_case_ids(recording)], actor)
        events.recording_changed.publish(recording=recording, actor=actor)
    return link
