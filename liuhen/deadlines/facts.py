"""What the statutory deadlines of a case are computed from: its facts and written records
(documents, approvals, service, stage log), loaded in a handful of queries, and the deadlines
that have started, each with the record that met or extended it (see ``services`` for the
list of deadlines, where each starts and what meets it)."""

from __future__ import annotations

import datetime as _dt
from dataclasses import dataclass, field

from django.db.models import Prefetch
from django.utils import timezone

from liuhen.cases.choices import NO_FINE_OUTCOMES, NOTHING_TO_ENFORCE, CaseKind, Stage
from liuhen.cases.models import StageLog
from liuhen.deadlines.statutory import DeadlineRule, add_months, get_rule
from liuhen.records.choices import ApprovalAction, ApprovalDecision, DocumentType
from liuhen.records.models import Approval, Document, Service, current_documents

#: Stages that come after the investigation (第十七条: the investigation is over).
AFTER_INVESTIGATION = set(Stage.values) - {Stage.INITIATION, Stage.PATROL, Stage.INVESTIGATION}

#: Facts that start or meet a deadline and have no field of their own on the case: recorded
#: as a written record (文字记录, type “其他”) carrying the marker in ``extra``, so the fact
#: has its own trace (第十条) and the deadlines read it like any other record.
DEADLINE_FACTS: dict[str, tuple[str, dict]] = {
    "seizure_start": ("实施查封、扣押", {"deadline_start": "seizure"}),
    "seizure_end": ("查封、扣押处理决定（解除、没收、移送等）", {"deadline_met": "seizure"}),
    "preservation_start": ("先行登记保存证据", {"deadline_start": "evidence_preservation"}),
    "preservation_decided": ("先行登记保存证据处理决定", {"deadline_met": "evidence_preservation"}),
    "review_received": ("收到行政复议申请书副本", {"deadline_start": "review_response"}),
    "review_answered": ("提出行政复议答复并提交证据", {"deadline_met": "review_response"}),
    "litigation_received": ("收到行政诉讼起诉状副本", {"deadline_start": "litigation_response"}),
    "litigation_answered": ("提交行政诉讼答辩状及证据", {"deadline_met": "litigation_response"}),
    "hearing_notified": ("通知当事人举行听证", {}),
    # 劳动保障监察条例第二十条, 行政处罚法第三十六条: the two years run from the violation (its
    # end, when it continued).
    "violation_ended": (
        "违法行为发生（连续或者继续状态的，行为终了）",
        {"deadline_start": "limitation"},
    ),
    # 行政处罚法第六十七条: the party pays within 15 days; paying also ends the need to enforce.
    "fine_paid": ("当事人缴纳罚款", {"deadline_met": ["fine_payment", "court_enforcement"]}),
    # 行政强制法第五十三条, for a case whose decision is not on record here (行政强制 cases).
    "appeal_periods_ended": (
        "复议、诉讼期限届满（当事人未申请复议、未起诉，又不履行）",
        {"deadline_start": "court_enforcement"},
    ),
    "enforcement_applied": (
        "申请人民法院强制执行",
        {"deadline_met": ["court_enforcement", "reminder_period"]},
    ),
}

#: 行政诉讼法第四十六条第一款: six months to sue from knowing of the decision (复议: sixty days,
#: 行政复议法第二十条, ends earlier); 行政强制法第五十三条's three months run from the later.
APPEAL_MONTHS = 6



def day_of(value) -> _dt.date | None:
    if value is None:
        return None
    if isinstance(value, _dt.datetime):
        return timezone.localdate(value) if timezone.is_aware(value) else value.date()
    if isinstance(value, _dt.date):
        return value
    try:
        return _dt.date.fromisoformat(str(value)[:10])
    except ValueError:
        return None


def codes(value) -> set[str]:
    if not value:
        return set()
    if isinstance(value, str):
        return {value}
    if isinstance(value, list | tuple):
        return {str(v) for v in value}
    return set()


class Facts:
    """Everything about a case the deadlines read, loaded in a handful of queries (or taken
    from the prefetched lists :func:`prefetch` attaches when many cases are refreshed)."""

    def __init__(self, case):
        self.case = case
        prefetched = getattr(case, "dl_documents", None) is not None
        if prefetched:
            documents, approvals = case.dl_documents, case.dl_approvals
            services, logs = case.dl_services, case.dl_stage_logs
        else:
            documents = current_documents(case)
            approvals = (
                case.approvals.filter(decision=ApprovalDecision.APPROVED)
                .select_related("approver__officer")
                .order_by("decided_at", "id")
            )
            services = case.services.select_related("document").order_by("served_at", "id")
            logs = case.stage_history()
        self.documents = list(documents)
        self.approvals = list(approvals)
        self.services = list(services)
        self.stage_logs = list(logs)

    def approval(self, action):
        return next((a for a in self.approvals if a.action == action), None)

    def docs(self, *types):
        return [d for d in self.documents if d.doc_type in types]

    def served(self, *types):
        return [s for s in self.services if s.document.doc_type in types]

    def marked(self, key: str, code: str):
        return [d for d in self.documents if code in codes((d.extra or {}).get(key))]


def prefetch(queryset):
    """``queryset`` of cases with what :class:`Facts` reads, in one query per relation."""

    return queryset.prefetch_related(
        Prefetch(
            "documents",
            to_attr="dl_documents",
            queryset=Document.objects.filter(is_current=True).order_by("date", "id"),
        ),
        Prefetch(
            "approvals",
            to_attr="dl_approvals",
            queryset=Approval.objects.filter(decision=ApprovalDecision.APPROVED)
            .select_related("approver__officer")
            .order_by("decided_at", "id"),
        ),
        Prefetch(
            "services",
            to_attr="dl_services",
            queryset=Service.objects.select_related("document").order_by("served_at", "id"),
        ),
        Prefetch(
            "stage_logs", to_attr="dl_stage_logs", queryset=StageLog.objects.order_by("at", "id")
        ),
    )


def approval_label(approval) -> str:
    who = ""
    if approval.approver_id:
        officer = getattr(approval.approver, "officer", None)
        who = officer.name if officer else approval.approver.get_username()
    day = day_of(approval.decided_at)
    return f"{approval.get_action_display()}审批（{who + '，' if who else ''}{day or ''}同意）"


def doc_label(doc) -> str:
    fact = DEADLINE_FACTS.get((doc.extra or {}).get("deadline_fact", ""))
    text = fact[0] if fact else doc.get_doc_type_display()
    if doc.number:
        text += f" {doc.number}"
    if doc.date:
        text += f"（{doc.date:%Y-%m-%d}）"
    return text


def service_label(service) -> str:
    return (
        f"{service.document.get_doc_type_display()}{service.get_method_display()}"
        f"给{service.recipient}（{day_of(service.served_at):%Y-%m-%d}）"
    )


@dataclass
class Item:
    rule: DeadlineRule
    start: _dt.date
    started_by: str
    extended: bool = False
    extended_by: str = ""
    met_on: _dt.date | None = None
    met_by: str = ""
    met_known: bool = False  # met, even if the day is not on record (听证已申请)
    met_ids: dict = field(default_factory=dict)
    note: str = ""  # said of this case (e.g. the surcharge accrued), beside the rule's note


def deadline_items(facts: Facts) -> list[Item]:
    """Every deadline that has started for the case, with what met or extended it."""
    items = [*_limitation(facts), *_complaint_acceptance(facts), *_investigation(facts)]
    if facts.case.kind == CaseKind.PENALTY:
        decision, decided = _penalty_decision(facts)
        items.append(decision)
        if decided:
            service = _decision_service(facts, decided)
            items.append(service)
            if service.met_on:
                items += _after_service(facts, service)
        items += [*_hearing_request(facts), *_hearing_notice(facts)]
    return [
        *items,
        *_reminder(facts),
        *_evidence_preservation(facts),
        *_marked_deadlines(facts),
    ]


def _limitation(facts: Facts) -> list[Item]:
    # 劳动保障监察条例第二十条, 行政处罚法第三十六条: two years from the violation (its end);
    # met when the bureau learnt of it (complaint or report, or opening the case).
    case = facts.case
    started = [d for d in facts.marked("deadline_start", "limitation") if d.date]
    if not started:
        return []
    item = Item(get_rule("limitation"), started[0].date, doc_label(started[0]))
    found = [
        (day, label)
        for day, label in (
            (case.complaint_received_on, "收到投诉/举报"),
            (case.opened_on, "立案"),
        )
        if day
    ]
    day, label = min(found)
    item.met_on, item.met_by = day, f"{label}（{day:%Y-%m-%d}）"
    return [item]


def _after_service(facts: Facts, service: Item) -> list[Item]:
    """Fine payment (第六十七条, surcharge 第七十二条) and the three months to apply to a court
    (行政强制法第五十三条), both from the day the decision was served. A decision without a fine
    (警告 only, 不予行政处罚, 第五十七条第一款) has no payment to make and so neither the
    deadline nor the surcharge; one that leaves the party nothing to do has nothing to enforce."""
    served = service.met_on
    outcome = facts.case.penalty_outcome
    items: list[Item] = []
    paid = [d for d in facts.marked("deadline_met", "fine_payment") if d.date]
    payment = Item(get_rule("fine_payment"), served, f"送达行政处罚决定书（{served:%Y-%m-%d}）")
    if paid:
        payment.met_on, payment.met_by = paid[0].date, doc_label(paid[0])
        payment.met_ids = {"document": paid[0].pk}
    if outcome not in NO_FINE_OUTCOMES:
        items.append(payment)
    if outcome in NOTHING_TO_ENFORCE:
        return items
    ended = add_months(served, APPEAL_MONTHS)
    court = Item(
        get_rule("court_enforcement"),
        ended,
        f"送达后六个月诉讼期限届满（行政诉讼法第四十六条，{ended:%Y-%m-%d}）",
    )
    applied = [
        d
        for d in [
            *facts.docs(DocumentType.ENFORCEMENT_APPLICATION),
            *facts.marked("deadline_met", "court_enforcement"),
        ]
        if d.date
    ]
    if applied:
        first = min(applied, key=lambda d: d.date)
        court.met_on, court.met_by, court.met_ids = first.date, doc_label(first), {
            "document": first.pk
        }
    return [*items, court]


def _reminder(facts: Facts) -> list[Item]:
    # 行政强制法第三十五条、第五十四条: enforcement only after 10 (working, 第六十九条) days from
    # the service of the 催告书; met by the application or the enforcement decision after it.
    served = facts.served(DocumentType.REMINDER_NOTICE)
    signed = [
        d
        for d in facts.docs(DocumentType.REMINDER_NOTICE)
        if d.date and d.signature == "signed"
    ]
    if served:
        start, by = day_of(served[0].served_at), service_label(served[0])
    elif signed:
        start, by = signed[0].date, f"送达并签收 {doc_label(signed[0])}"
    else:
        return []
    item = Item(get_rule("reminder_period"), start, by)
    acts = [
        d
        for d in facts.docs(DocumentType.ENFORCEMENT_APPLICATION, DocumentType.ENFORCEMENT_DECISION)
        if d.date and d.date >= start
    ] + [d for d in facts.marked("deadline_met", "reminder_period") if d.date and d.date >= start]
    if acts:
        first = min(acts, key=lambda d: d.date)
        item.met_on, item.met_by, item.met_ids = first.date, doc_label(first), {
            "document": first.pk
        }
    return [item]


def _complaint_acceptance(facts: Facts) -> list[Item]:
    # 《关于实施〈劳动保障监察条例〉若干规定》第十八条: 5 working days from the complaint.
    case = facts.case
    if not case.complaint_received_on:
        return []
    return [
        Item(
            get_rule("complaint_acceptance"),
            case.complaint_received_on,
            f"收到投诉/举报（{case.complaint_received_on:%Y-%m-%d}）",
            met_on=case.opened_on,
            met_by=f"立案（{case.opened_on:%Y-%m-%d}）",
        )
    ]


def _investigation(facts: Facts) -> list[Item]:
    # 《劳动保障监察条例》第十七条: 60 working days, +30 with the head's approval.
    case, closed = facts.case, facts.case.closed_on
    if case.kind not in (CaseKind.PENALTY, CaseKind.INSPECTION):
        return []
    item = Item(get_rule("investigation"), case.opened_on, f"立案（{case.opened_on:%Y-%m-%d}）")
    ext = facts.approval(ApprovalAction.INVESTIGATION_EXTENSION)
    if ext is not None:
        item.extended, item.extended_by = True, approval_label(ext)
    candidates = []
    end = facts.approval(ApprovalAction.INVESTIGATION_END)
    if end is not None and end.decided_at:
        candidates.append((day_of(end.decided_at), approval_label(end), {"approval": end.pk}))
    log = next((s for s in facts.stage_logs if s.to_stage in AFTER_INVESTIGATION), None)
    if log is not None:
        candidates.append(
            (
                day_of(log.at),
                f"转入{Stage(log.to_stage).label}环节（{day_of(log.at):%Y-%m-%d}）",
                {"stage_log": log.pk},
            )
        )
    if closed:
        candidates.append((closed, f"结案（{closed:%Y-%m-%d}）", {}))
    if candidates:
        item.met_on, item.met_by, item.met_ids = min(candidates, key=lambda c: c[0])
    return [item]


def _penalty_decision(facts: Facts) -> tuple[Item, _dt.date | None]:
    # 行政处罚法 第六十条: decision within 90 days of opening. Returns the item and the day
    # the decision was made (None while there is none).
    case, closed = facts.case, facts.case.closed_on
    # The rule is 劳动保障监察条例第十七条's (it displaces 第六十条's ninety days), so the
    # approved extension of the investigation extends it too.
    item = Item(
        get_rule("penalty_decision"), case.opened_on, f"立案（{case.opened_on:%Y-%m-%d}）"
    )
    ext = facts.approval(ApprovalAction.INVESTIGATION_EXTENSION)
    if ext is not None:
        item.extended, item.extended_by = True, approval_label(ext)
    decision_docs = [d for d in facts.docs(DocumentType.PENALTY_DECISION) if d.date]
    decided = case.decided_on or (decision_docs[0].date if decision_docs else None)
    if case.decided_on:
        item.met_on, item.met_by = case.decided_on, f"作出决定（{case.decided_on:%Y-%m-%d}）"
    elif decision_docs:
        item.met_on, item.met_by = decision_docs[0].date, doc_label(decision_docs[0])
        item.met_ids = {"document": decision_docs[0].pk}
    elif closed:
        item.met_on, item.met_by = closed, f"结案（未作处罚决定，{closed:%Y-%m-%d}）"
    return item, decided


def _decision_service(facts: Facts, decided: _dt.date) -> Item:
    # 第六十一条: served within 7 (working) days when the party was not present.
    item = Item(get_rule("decision_service"), decided, f"作出行政处罚决定（{decided:%Y-%m-%d}）")
    served = facts.served(DocumentType.PENALTY_DECISION)
    on_spot = [
        d for d in facts.docs(DocumentType.PENALTY_DECISION) if d.signature == "signed" and d.date
    ]
    if served:
        item.met_on, item.met_by = day_of(served[0].served_at), service_label(served[0])
        item.met_ids = {"service": served[0].pk}
    elif on_spot:
        item.met_on = on_spot[0].date
        item.met_by = f"当场交付并签收 {doc_label(on_spot[0])}"
        item.met_ids = {"document": on_spot[0].pk}
    return item


def told(facts: Facts) -> tuple[_dt.date | None, str]:
    """The day the party was told of the intended penalty and their rights (行政处罚法第四十四条,
    第六十四条第一项): the first service of the 告知书, or one signed for; (None, "") if never."""
    served = facts.served(DocumentType.VIOLATION_NOTICE, DocumentType.HEARING_NOTICE)
    told_docs = [
        d
        for d in facts.docs(DocumentType.VIOLATION_NOTICE, DocumentType.HEARING_NOTICE)
        if d.date and d.signature == "signed"
    ]
    start = by = None
    if served:
        start, by = day_of(served[0].served_at), service_label(served[0])
    elif told_docs:
        start, by = told_docs[0].date, f"告知并签收 {doc_label(told_docs[0])}"
    return start, by or ""


def _hearing_request(facts: Facts) -> list[Item]:
    # 第六十四条第一项: the party may ask for a hearing within 5 days of being told.
    start, by = told(facts)
    if not start:
        return []
    item = Item(get_rule("hearing_request"), start, by)
    if facts.case.hearing_requested:
        item.met_known, item.met_by = True, "当事人已申请听证"
    return [item]


def _hearing_notice(facts: Facts) -> list[Item]:
    # 第六十四条第二项: notify the hearing at least 7 (working) days before it.
    hearing = _hearing(facts)
    if hearing is None:
        return []
    day, source_label, notice = hearing
    item = Item(get_rule("hearing_notice"), day, f"{source_label}（{day:%Y-%m-%d}）")
    if notice is not None:
        notice_served = [s for s in facts.services if s.document_id == notice.pk]
        if notice_served:
            item.met_on = day_of(notice_served[0].served_at)
            item.met_by = service_label(notice_served[0])
            item.met_ids = {"service": notice_served[0].pk}
        elif notice.date:
            item.met_on, item.met_by = notice.date, doc_label(notice)
            item.met_ids = {"document": notice.pk}
    return [item]


def _evidence_preservation(facts: Facts) -> list[Item]:
    # 行政处罚法 第五十六条: a decision on preserved evidence within 7 (working) days.
    preservation = facts.approval(ApprovalAction.EVIDENCE_PRESERVATION)
    started = [d for d in facts.marked("deadline_start", "evidence_preservation") if d.date]
    if preservation is not None and preservation.decided_at:
        return [
            _marked_item(
                facts,
                "evidence_preservation",
                day_of(preservation.decided_at),
                approval_label(preservation),
            )
        ]
    if started:
        return [
            _marked_item(facts, "evidence_preservation", started[0].date, doc_label(started[0]))
        ]
    return []


def _marked_deadlines(facts: Facts) -> list[Item]:
    # 行政强制法 第二十五条 (seizure), 行政复议法 第四十八条, 行政诉讼法 第六十七条.
    items = []
    codes_ = ["seizure", "review_response", "litigation_response"]
    if facts.case.kind != CaseKind.PENALTY:
        codes_.append("court_enforcement")  # 行政强制法第五十三条 (penalty: from the service)
    for code in codes_:
        started = [d for d in facts.marked("deadline_start", code) if d.date]
        if not started:
            continue
        item = _marked_item(facts, code, started[0].date, doc_label(started[0]))
        if code == "court_enforcement" and item.met_on is None:
            applied = [
                d
                for d in facts.docs(DocumentType.ENFORCEMENT_APPLICATION)
                if d.date and d.date >= item.start
            ]
            if applied:
                item.met_on, item.met_by = applied[0].date, doc_label(applied[0])
                item.met_ids = {"document": applied[0].pk}
        if code == "seizure":
            ext = facts.approval(ApprovalAction.SEIZURE_EXTENSION)
            if ext is not None:
                item.extended, item.extended_by = True, approval_label(ext)
        items.append(item)
    return items


def _marked_item(facts: Facts, code: str, start: _dt.date, started_by: str) -> Item:
    item = Item(get_rule(code), start, started_by)
    met = [d for d in facts.marked("deadline_met", code) if d.date and d.date >= start]
    if met:
        item.met_on, item.met_by, item.met_ids = (
            met[0].date,
            doc_label(met[0]),
            {"document": met[0].pk},
        )
    return item


def _hearing(facts: Facts):
    """(hearing day, where it comes from, the notice document or None)."""

    for doc in facts.documents:
        day = day_of((doc.extra or {}).get("hearing_date"))
        if day is not None:
            return day, f"举行听证（{doc_label(doc)}所定）", doc
    held = [d for d in facts.docs(DocumentType.HEARING_RECORD) if d.date]
    if held:
        return held[0].date, "举行听证（听证笔录）", None
    return None
