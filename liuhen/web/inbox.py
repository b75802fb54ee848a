"""The providers of the 待办 page (issue 13 item 2) for what waits across areas: access
requests (第十六条), internal approvals (第五条、第十九条), statutory deadlines, destruction
registers (第十四条), rectifications (第二十三条), violations to check (第二十六条), device
maintenance (第二十一条) and late uploads (第十三条).

Each provider asks the owning area through its public query or service and ``restrict()``,
so what the page lists is what the person may open; each item links to where to act.
Registered in ``WebConfig.ready()`` through ``liuhen.core.inbox``; another area registers its
own in the same way.
"""

from __future__ import annotations

import datetime as _dt

from django.conf import settings
from django.db.models import Q
from django.urls import reverse
from django.utils import timezone

from liuhen.access import services as access_services
from liuhen.access.choices import Role
from liuhen.access.querysets import allows, user_role
from liuhen.core import inbox
from liuhen.core.inbox import InboxItem, InboxSection
from liuhen.core.kept import kept
from liuhen.deadlines.queries import visible_entries
from liuhen.devices.choices import DeviceStatus
from liuhen.devices.models import Device
from liuhen.devices.queries import maintenance_due
from liuhen.devices.services import maintenance_interval
from liuhen.evidence.models import Recording
from liuhen.keeping.choices import DisposalStatus
from liuhen.keeping.models import DisposalList
from liuhen.records.choices import ApprovalAction, ApprovalDecision
from liuhen.records.models import Approval
from liuhen.records.services import authorities
from liuhen.supervision.choices import RectificationStatus, ViolationStatus
from liuhen.supervision.models import Rectification, Violation

# Late uploads of the last days are shown to whoever follows them up (第十三条).
LATE_UPLOAD_DAYS = 7
# Devices are many only at bureau scope; past this the page asks the device list instead.
DEVICE_SCAN_LIMIT = 2000


def _name(user) -> str:
    officer = getattr(user, "officer", None)
    return officer.name if officer is not None else getattr(user, "username", "")


def _section(key, title, queryset, item, *, limit, url, basis="", overdue_q=None,
             all_overdue=False, keep=False):
    """``overdue_q`` picks the late ones among ``queryset``; ``all_overdue``: every row is late
    (one COUNT, not the same one twice: issue 9 item 3). ``keep``: a section nobody clears
    from the dashboard (deadlines, late uploads) is kept ``DEADLINE_SUMMARY_SECONDS`` per
    scoped query (core.kept; 0.3 s of SQLite each on a million recordings); the sections a
    person acts on (requests, approvals) are always counted afresh."""
    if keep:
        return kept(("inbox", key, str(queryset.query), limit, str(overdue_q), all_overdue),
                    settings.DEADLINE_SUMMARY_SECONDS,
                    lambda: _section(key, title, queryset, item, limit=limit, url=url,
                                     basis=basis, overdue_q=overdue_q, all_overdue=all_overdue))
    count = queryset.count()
    if all_overdue:
        overdue = count
    else:
        overdue = queryset.filter(overdue_q).count() if overdue_q is not None and count else 0
    items = [item(row) for row in queryset[:limit]] if limit and count else []
    return InboxSection(key=key, title=title, count=count, items=items, url=url, basis=basis,
                        overdue=overdue)


def access_requests(user, limit):
    """调阅申请 awaiting this unit head's decision (第十六条)."""
    if user_role(user) != Role.UNIT_HEAD:
        return None
    queryset = access_services.pending_for(user).order_by("created_at", "id")

    def item(r):
        return InboxItem(title=f"{_name(r.requester)} 申请调阅 {r.target_label}",
                         url=reverse("access_inbox"), detail=f"申请编号 {r.number}",
                         due=timezone.localdate(r.created_at))

    return _section("access_requests", "调阅申请待审批", queryset, item, limit=limit,
                    url=reverse("access_inbox"), basis="第十六条")


def pending_approvals(user):
    """The internal approvals ``user`` may decide now: the role holds the authority for the
    action (approvals.toml), the case's unit is in scope, and the request is not their own."""
    role = user_role(user)
    actions = [a for a, auth in authorities().items() if role in auth.roles]
    if not actions:
        return Approval.objects.none()
    pending = Approval.objects.filter(decision=ApprovalDecision.PENDING).exclude(
        requested_by=user)
    ordinary = [a for a in actions if a != ApprovalAction.WAIVER]
    ids = set(pending.restrict(user, "approval.decide").filter(action__in=ordinary)
              .values_list("pk", flat=True)) if ordinary else set()
    if ApprovalAction.WAIVER in actions:
        ids |= set(pending.restrict(user, "rules.waive").filter(action=ApprovalAction.WAIVER)
                   .values_list("pk", flat=True))
    return (Approval.objects.filter(pk__in=ids).select_related("case", "requested_by__officer")
            .order_by("requested_at", "id"))


def approvals(user, limit):
    """Internal approvals to decide (第五条第四款、第十九条), each linked to the case's
    records page where the decision is taken."""
    if not (allows(user, "approval.decide") or allows(user, "rules.waive")):
        return None
    queryset = pending_approvals(user)

    def item(a):
        return InboxItem(
            title=f"{a.case.number} {a.get_action_display()}",
            url=reverse("case_records", args=[a.case_id]) + "#approvals",
            detail=f"{_name(a.requested_by)} 申请", due=timezone.localdate(a.requested_at))

    return _section("approvals", "内部审批待决定", queryset, item, limit=limit,
                    url=reverse("case_list"), basis="第五条、第十九条")


def _deadline_item(today):
    def item(e):
        return InboxItem(title=f"{e.case.number} {e.name}", url=reverse("case_detail",
                         args=[e.case_id]), detail=e.citation, due=e.due, overdue=e.due < today)
    return item


def my_deadlines(user, limit):
    """Statutory deadlines of the cases this officer handles, from the day the reminder starts
    (three working days before, ``CaseDeadlineEntry.warn_from``) and once overdue."""
    if not allows(user, "case.view") or getattr(user, "officer", None) is None:
        return None
    today = timezone.localdate()
    queryset = (visible_entries(user).filter(warn_from__lte=today, case__officers__user=user)
                .select_related("case").order_by("due", "case_id", "code"))
    return _section("my_deadlines", "我承办案件的法定期限（将到期、已逾期）", queryset,
                    _deadline_item(today), limit=limit,
                    url=reverse("deadline_list") + f"?officer={user.officer.pk}",
                    overdue_q=Q(due__lt=today), keep=True)


def unit_overdue_deadlines(user, limit):
    """For the unit head and the bureau leader: deadlines already missed in their scope."""
    if user_role(user) not in (Role.UNIT_HEAD, Role.BUREAU_LEADER):
        return None
    today = timezone.localdate()
    queryset = (visible_entries(user).filter(due__lt=today).select_related("case")
                .order_by("due", "case_id", "code"))
    return _section("unit_overdue_deadlines", "本单位已逾期的法定期限", queryset,
                    _deadline_item(today), limit=limit,
                    url=reverse("deadline_list") + "?status=overdue", all_overdue=True,
                    keep=True)


def disposals(user, limit):
    """Destruction registers awaiting this person's approval (第十四条: the unit head and the
    legal affairs office), or, approved, awaiting execution by the records keeper."""
    role = user_role(user)
    registers = DisposalList.objects.restrict(user, "disposal.view").exclude(proposed_by=user)
    if role == Role.UNIT_HEAD and allows(user, "disposal.approve"):
        queryset = registers.filter(status=DisposalStatus.PROPOSED, head_by__isnull=True)
        title = "销毁清册待批准"
    elif role == Role.LEGAL_OFFICE and allows(user, "disposal.approve"):
        queryset = registers.filter(status=DisposalStatus.PROPOSED, legal_by__isnull=True)
        title = "销毁清册待批准"
    elif allows(user, "disposal.execute"):
        queryset = DisposalList.objects.restrict(user, "disposal.execute").filter(
            status=DisposalStatus.APPROVED)
        title = "已批准待执行的销毁清册"
    else:
        return None

    def item(r):
        return InboxItem(title=f"销毁清册 {r.number}",
                         url=reverse("keeping_disposal_register", args=[r.pk]),
                         detail=r.unit.name, due=timezone.localdate(r.proposed_at))

    return _section("disposals", title, queryset.select_related("unit").order_by("proposed_at"),
                    item, limit=limit, url=reverse("keeping_disposal"), basis="第十四条")


def rectifications(user, limit):
    """限期整改 (第二十三条): the unit head reports what was corrected; the legal affairs office
    verifies what was reported."""
    today = timezone.localdate()
    visible = Rectification.objects.restrict(user, "rectification.view").select_related(
        "unit", "item")
    if allows(user, "rectification.report"):
        # restrict() keeps the units the head reports for (rectification.report: own tree).
        queryset = Rectification.objects.restrict(user, "rectification.report").filter(
            status=RectificationStatus.REQUESTED).select_related("unit")
        overdue = Q(deadline__lt=today)
        title = "限期整改待报告"
    elif allows(user, "spotcheck.manage"):
        queryset = visible.filter(status=RectificationStatus.REPORTED)
        overdue = None
        title = "整改情况待验收"
    else:
        return None

    def item(r):
        return InboxItem(title=f"{r.unit.name}：{r.request[:40]}",
                         url=reverse("rectification_list") + f"#rect-{r.pk}",
                         due=r.deadline,
                         overdue=r.status == RectificationStatus.REQUESTED and r.deadline < today)

    return _section("rectifications", title, queryset.order_by("deadline", "id"), item,
                    limit=limit, url=reverse("rectification_list"), basis="第二十三条",
                    overdue_q=overdue)


def violations(user, limit):
    """Suspected violations (第二十六条) the legal affairs office has still to check."""
    if not allows(user, "violation.handle"):
        return None
    queryset = Violation.objects.restrict(user, "violation.handle").filter(
        status__in=[ViolationStatus.OPEN, ViolationStatus.MEASURE_TAKEN])

    def item(v):
        return InboxItem(title=f"{v.get_status_display()}：{v.title[:40]}",
                         url=reverse("violation_detail", args=[v.pk]),
                         due=timezone.localdate(v.detected_at))

    return _section("violations", "违规事项待核查、待办结", queryset.order_by("id"), item,
                    limit=limit, url=reverse("violation_list"), basis="第二十六条")


def device_maintenance(user, limit):
    """Devices whose 定期维护保养 (第二十一条) is due, for the device keeper; faulty ones
    waiting for a repairer too (第二十二条)."""
    if user_role(user) != Role.DEVICE_KEEPER or not allows(user, "device.manage"):
        return None
    now = timezone.now()
    devices = list(Device.objects.restrict(user, "device.manage")
                   .exclude(status=DeviceStatus.RETIRED).order_by("id")[:DEVICE_SCAN_LIMIT])
    due = []
    for device in devices:
        when = maintenance_due(device, maintenance_interval(device))
        if device.status == DeviceStatus.FAULTY or when < now:
            due.append((device, when))
    due.sort(key=lambda pair: pair[1])

    def item(pair):
        device, when = pair
        faulty = device.status == DeviceStatus.FAULTY
        return InboxItem(title=f"{device} {'故障待维修' if faulty else '定期维护保养已到期'}",
                         url=reverse("device_detail", args=[device.pk]),
                         due=timezone.localdate(when), overdue=True)

    return InboxSection(key="device_maintenance", title="设备维护保养与维修", count=len(due),
                        items=[item(p) for p in due[:limit]], url=reverse("device_list"),
                        basis="第二十一条、第二十二条", overdue=len(due))


def late_uploads(user, limit):
    """Uploads of the last days that came after the deadline (第十三条), for whoever follows
    them up in the unit (the unit head, the records keeper)."""
    if user_role(user) not in (Role.UNIT_HEAD, Role.RECORDS_KEEPER):
        return None
    # From the start of the minute: the same query for a minute, so its count can be kept.
    since = timezone.now().replace(second=0, microsecond=0) - _dt.timedelta(days=LATE_UPLOAD_DAYS)
    queryset = (Recording.objects.restrict(user, "recording.late_report")
                .filter(is_late=True, stored_at__gte=since)
                .select_related("unit").order_by("-stored_at", "-id"))

    def item(r):
        return InboxItem(title=r.original_name, url=reverse("recording_detail", args=[r.pk]),
                         detail=r.unit.name, due=timezone.localdate(r.stored_at), overdue=True)

    return _section("late_uploads", f"近{LATE_UPLOAD_DAYS}日逾期上传的音像记录", queryset, item,
                    limit=limit, url=reverse("recording_late"), basis="第十三条", keep=True)


def register_providers() -> None:
    for order, (key, provider) in enumerate([
        ("access_requests", access_requests),
        ("approvals", approvals),
        ("disposals", disposals),
        ("rectifications", rectifications),
        ("violations", violations),
        ("my_deadlines", my_deadlines),
        ("unit_overdue_deadlines", unit_overdue_deadlines),
        ("device_maintenance", device_maintenance),
        ("late_uploads", late_uploads),
    ]):
        inbox.register(key, provider, order=10 * (order + 1))
