"""Audit pages for the legal affairs office (第二十三条, 第二十六条): browse and export.

Looking at the log and exporting it are themselves audited, with the filters used.
"""

from __future__ import annotations

import csv
import json

from django import forms
from django.contrib.auth.decorators import login_required
from django.http import StreamingHttpResponse
from django.shortcuts import render
from django.utils import timezone

from liuhen.access.choices import Role
from liuhen.access.services import require
from liuhen.audit import events
from liuhen.audit.choices import Outcome
from liuhen.audit.queries import CSV_COLUMNS, AuditFilter, search_entries
from liuhen.audit.services import format_time, record
from liuhen.core.errors import InvalidInput
from liuhen.core.exports import safe_row
from liuhen.core.pages import form_error, handles_errors

PAGE_SIZE = 100
ROLE_LABELS = dict(Role.choices)
COUNT_CAP = 10_000
DATETIME_WIDGET = forms.DateTimeInput(attrs={"type": "datetime-local"}, format="%Y-%m-%dT%H:%M")


class AuditFilterForm(forms.Form):
    actor = forms.CharField(label="操作人（姓名或ID）", required=False, max_length=150)
    action = forms.CharField(label="操作（前缀，如 case.）", required=False, max_length=64)
    object_type = forms.CharField(label="对象类型（如 cases.case）", required=False, max_length=64)
    object_id = forms.CharField(label="对象ID", required=False, max_length=64)
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
        return {k: str(v) for k, v in self.cleaned_data.items() if v}


def _page_number(request) -> int:
    try:
        return max(1, int(request.GET.get("page", "1")))
    except ValueError:
        return 1


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
                entry.role_label = ROLE_LABELS.get(entry.actor_role, entry.actor_role)
                entry.detail_text = (json.dumps(entry.detail, ensure_ascii=False, sort_keys=True)
                                     if entry.detail else "")
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


def _csv_rows(qs):
    writer = csv.writer(_Echo())
    # UTF-8 with a byte-order mark so that Excel opens the Chinese text correctly.
    yield "\ufeff" + writer.writerow(CSV_COLUMNS)
    for row in qs.values_list(*CSV_COLUMNS).iterator(chunk_size=2000):
        values = list(row)
        values[1] = str(values[1])
        values[2] = format_time(values[2])
        values[15] = json.dumps(values[15], ensure_ascii=False, sort_keys=True)
        # Reasons, names and details are typed by people: no cell may run as a formula.
        yield writer.writerow(safe_row("" if v is None else v for v in values))


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
    record(actor=request.user, action=events.event_audit_exported,
           detail={"filters": form.described(), "format": "csv"})
    stamp = timezone.localtime().strftime("%Y%m%d-%H%M%S")
    response = StreamingHttpResponse(_csv_rows(qs.order_by("seq")),
                                     content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="liuhen-audit-{stamp}.csv"'
    return response
