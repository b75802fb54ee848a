"""Audit pages for the legal affairs office (第二十三条, 第二十六条): browse and export.

Looking at the log and exporting it are themselves audited, with the filters used.
"""

from __future__ import annotations

import csv
import io
import json
from datetime import datetime

from django import forms
from django.contrib.auth.decorators import login_required
from django.http import HttpResponse, StreamingHttpResponse
from django.shortcuts import render
from django.urls import NoReverseMatch, reverse
from django.utils import timezone
from django.utils.http import content_disposition_header

from liuhen.access.choices import Role
from liuhen.access.services import require
from liuhen.audit import events
from liuhen.audit.choices import Outcome
from liuhen.audit.queries import (
    CSV_COLUMNS,
    RENAMED_OBJECT_TYPES,
    AuditFilter,
    search_entries,
)
from liuhen.audit.services import record
from liuhen.core import display, limits
from liuhen.core.errors import InvalidInput
from liuhen.core.exports import safe_row
from liuhen.core.pages import form_error, handles_errors
from liuhen.org.models import Officer

PAGE_SIZE = 100
VIA_LABELS = {"web": "网页", "api": "接口", "cli": "命令行", "station": "采集站", "system": "系统",
              "task": "后台任务", "admin": "管理后台"}
ROLE_LABELS = dict(Role.choices)
COUNT_CAP = 10_000
DATETIME_WIDGET = forms.DateTimeInput(attrs={"type": "datetime-local"}, format="%Y-%m-%dT%H:%M")


# The page of each kind of object an entry can name (the object shown by name and linked).
OBJECT_PAGES = {
    "cases.case": "case_detail",
    "evidence.recording": "recording_detail",
}

# Groups of actions (the part before the dot) offered as "all of …" in the action filter.
ACTION_GROUPS = {
    "auth.": "登录与令牌", "audit.": "审计日志", "case.": "案件", "party.": "当事人",
    "patrol.": "巡查", "deadline.": "法定期限", "calendar.": "工作日历", "device.": "设备",
    "recording.": "音像记录", "upload.": "上传", "fixity.": "固定值校验", "officer.": "执法人员",
    "org.": "单位与人员", "document.": "文字记录", "approval.": "内部审批", "service.": "送达",
    "levy.": "征收", "fee_receipt.": "收费票据", "completeness.": "记录完整性",
    "rules_report.": "完整性统计", "retention.": "保存期限", "hold.": "法律冻结",
    "disposal.": "销毁", "casefile.": "案卷", "longterm.": "长期保存", "violation.": "违规",
    "party_copy.": "当事人复制",
}


def action_choices() -> list:
    """操作 filter: each group ("全部案件操作") and each action, by name (codes stay the values:
    a group is a prefix, as the API's ``action`` filter)."""
    labels = display.action_labels()
    groups = [(prefix, f"全部{name}操作") for prefix, name in ACTION_GROUPS.items()]
    actions = sorted(labels.items(), key=lambda item: (item[0].split(".")[0], item[1]))
    return [("", "全部"), ("按类别", groups), ("按操作", actions)]


def object_type_choices() -> list:
    return [("", "全部"), *display.object_type_choices()]


class ObjectTypeField(forms.ChoiceField):
    """A model's name before the layout moved it (``evidence.device``, kept in old entries,
    bookmarks and exported links) is read as its current name; the search then finds the
    entries under both (audit.queries.RENAMED_OBJECT_TYPES)."""

    def to_python(self, value):
        value = super().to_python(value)
        return RENAMED_OBJECT_TYPES.get(value, value)


class AuditFilterForm(forms.Form):
    actor = forms.CharField(label="操作人（姓名或ID）", required=False, max_length=limits.SEARCH)
    action = forms.ChoiceField(label="操作", required=False, choices=action_choices)
    object_type = ObjectTypeField(label="对象类型", required=False, choices=object_type_choices)
    object_id = forms.CharField(label="对象ID", required=False, max_length=limits.CODE)
    outcome = forms.ChoiceField(label="结果", required=False,
                                choices=[("", "全部")] + list(Outcome.choices))
    since = forms.DateTimeField(label="时间自", required=False, widget=DATETIME_WIDGET,
                                input_formats=["%Y-%m-%dT%H:%M", "%Y-%m-%d %H:%M", "%Y-%m-%d"])
    until = forms.DateTimeField(label="时间至", required=False, widget=DATETIME_WIDGET,
                                input_formats=["%Y-%m-%dT%H:%M", "%Y-%m-%d %H:%M", "%Y-%m-%d"])

    def clean(self):
        data = super().clean()
        if data.get("since") and data.get("until") and data["since"] > data["until"]:
            self.add_error("until", "截止时间不能早于起始时间")
        return data

    def to_filter(self) -> AuditFilter:
        data = self.cleaned_data
        return AuditFilter(**{k: (data.get(k) or None) for k in
                              ("actor", "object_type", "object_id", "action", "outcome",
                               "since", "until")})

    def described(self) -> dict:
        return {k: str(v) for k, v in self.cleaned_data.items() if v and k != "format"}


def _page_number(request) -> int:
    try:
        return max(1, int(request.GET.get("page", "1")))
    except ValueError:
        return 1


def object_url(object_type: str, object_id: str) -> str:
    page = OBJECT_PAGES.get(display._object_aliases.get(object_type, object_type))
    if not page or not object_id.isdigit():
        return ""
    try:
        return reverse(page, args=[int(object_id)])
    except NoReverseMatch:
        return ""


def label_entry(entry) -> None:
    """What a person reads of one entry: names instead of codes (issue 13 item 1)."""
    entry.role_label = ROLE_LABELS.get(entry.actor_role, entry.actor_role)
    entry.action_label = display.action_label(entry.action)
    entry.object_label = display.object_type_label(entry.object_type) if entry.object_type else ""
    entry.object_url = object_url(entry.object_type, entry.object_id)
    entry.detail_fields = display.detail_fields(entry.detail, entry.object_type)
    entry.via_label = VIA_LABELS.get(entry.via, entry.via)


def name_users(entries) -> None:
    """A login's object is the user: shown by the officer's name, not the login name the
    entry recorded (``head_zd`` → 李支队; issue 13 item 1). The entry itself is not changed."""
    ids = {int(e.object_id) for e in entries
           if e.object_type == "auth.user" and str(e.object_id).isdigit()}
    names = dict(Officer.objects.filter(user_id__in=ids).values_list("user_id", "name"))
    for entry in entries:
        if entry.object_type == "auth.user" and str(entry.object_id).isdigit():
            entry.object_repr = names.get(int(entry.object_id), entry.object_repr)


@login_required
@handles_errors
def audit_list(request):
    """审计日志: filter by actor, object, action, outcome and time; 100 entries a page."""
    require(request.user, "audit.view", event=events.event_audit_viewed)
    form = AuditFilterForm(request.GET or None)
    page = None
    if not form.is_bound or form.is_valid():
        if not form.is_bound:
            form.cleaned_data = {}
        try:
            qs = search_entries(form.to_filter())
        except InvalidInput as exc:
            form_error(form, exc)
        else:
            count = qs.order_by().values("pk")[: COUNT_CAP + 1].count()
            pages = max(1, -(-min(count, COUNT_CAP) // PAGE_SIZE))
            number = min(_page_number(request), pages)
            rows = list(qs[(number - 1) * PAGE_SIZE: number * PAGE_SIZE])
            for entry in rows:
                label_entry(entry)
            name_users(rows)
            record(actor=request.user, action=events.event_audit_viewed,
                   detail={"filters": form.described(), "page": number, "shown": len(rows)})
            query = request.GET.copy()
            query.pop("page", None)
            page = {"rows": rows, "number": number, "pages": pages,
                    "count": min(count, COUNT_CAP), "capped": count > COUNT_CAP,
                    "has_prev": number > 1, "has_next": number < pages,
                    "query": query.urlencode()}
    return render(request, "audit/audit_list.html", {
        "form": form, "page": page, "export_query": request.GET.urlencode()})


class _Echo:
    def write(self, value):
        return value


# The export's columns (issue 13 item 1): Chinese headers, Beijing time with its offset, names
# beside the codes (the codes and the hashes stay, so the chain can be checked from the file).
EXPORT_HEADERS = ["序号", "编号", "时间（北京时间，UTC+08:00）", "操作人编号", "操作人", "角色", "会话",
                  "来源IP", "渠道", "操作", "操作代码", "对象类型", "对象类型代码", "对象编号", "对象",
                  "结果", "原因", "详情", "详情（原始 JSON）", "前一条哈希", "本条哈希（SM3）"]
OUTCOME_LABELS = dict(Outcome.choices)


def beijing_time(at: datetime) -> str:
    return timezone.localtime(at).isoformat(sep=" ", timespec="seconds")


def export_row(values: tuple) -> list:
    (seq, uuid, at, actor_id, actor_name, actor_role, session, ip, via, action, object_type,
     object_id, object_repr, outcome, reason, detail, prev_hash, hash_) = values
    return [
        seq, str(uuid), beijing_time(at), "" if actor_id is None else actor_id, actor_name,
        ROLE_LABELS.get(actor_role, actor_role), session, ip, VIA_LABELS.get(via, via),
        display.action_label(action), action,
        display.object_type_label(object_type) if object_type else "", object_type, object_id,
        object_repr, OUTCOME_LABELS.get(outcome, outcome), reason,
        display.detail_text(detail, object_type),
        json.dumps(detail, ensure_ascii=False, sort_keys=True), prev_hash, hash_,
    ]


def _csv_rows(qs):
    writer = csv.writer(_Echo())
    # UTF-8 with a byte-order mark so that Excel opens the Chinese text correctly.
    yield "\ufeff" + writer.writerow(EXPORT_HEADERS)
    for values in qs.values_list(*CSV_COLUMNS).iterator(chunk_size=2000):
        # Reasons, names and details are typed by people: no cell may run as a formula.
        yield writer.writerow(safe_row(export_row(values)))


def _xlsx(qs) -> bytes:
    import openpyxl  # heavy; only the spreadsheet export needs it

    book = openpyxl.Workbook(write_only=True)
    sheet = book.create_sheet("审计日志")
    sheet.append(EXPORT_HEADERS)
    for values in qs.values_list(*CSV_COLUMNS).iterator(chunk_size=2000):
        sheet.append(safe_row(export_row(values)))
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


@login_required
@handles_errors
def audit_export(request):
    """Export the filtered log as CSV (streamed); the export itself is audited first."""
    require(request.user, "audit.export", event=events.event_audit_exported)
    form = AuditFilterForm(request.GET or None)
    if form.is_bound and not form.is_valid():
        raise InvalidInput("筛选条件有误：" + "；".join(
            str(e) for errors in form.errors.values() for e in errors))
    if not form.is_bound:
        form.cleaned_data = {}
    qs = search_entries(form.to_filter())
    kind = "xlsx" if request.GET.get("format") == "xlsx" else "csv"
    record(actor=request.user, action=events.event_audit_exported,
           detail={"filters": form.described(), "format": kind})
    stamp = timezone.localtime().strftime("%Y%m%d-%H%M%S")
    if kind == "xlsx":
        response = HttpResponse(
            _xlsx(qs.order_by("seq")),
            content_type="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet")
        response["Content-Disposition"] = content_disposition_header(True, f"审计日志-{stamp}.xlsx")
        return response
    response = StreamingHttpResponse(_csv_rows(qs.order_by("seq")),
                                     content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = content_disposition_header(True, f"审计日志-{stamp}.csv")
    return response
