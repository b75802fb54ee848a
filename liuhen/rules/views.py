"""Pages of the rules app: the rule set, the completeness report and the platform import."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.shortcuts import render

from liuhen.cases.choices import CaseKind
from liuhen.cases.records_api import save_upload
from liuhen.core.access import require
from liuhen.core.errors import LiuhenError
from liuhen.core.pages import handles_errors
from liuhen.rules import engine, events, imports, reports


@login_required
@handles_errors
def rule_list(request):
    """全过程记录要求: every rule per kind with its article, as the data files say."""
    require(request.user, "rules.view", event=events.event_completeness_viewed)
    kinds = [(CaseKind(kind).label, rules) for kind, rules in engine.load_rules().items()]
    return render(request, "rules/rule_list.html", {"kinds": kinds})


@login_required
@handles_errors
def report(request):
    """记录完整性统计 for unit heads and the legal affairs office (第二十四条)."""
    require(request.user, "report.view", event=events.event_report_viewed)
    try:
        unit_id = int(request.GET.get("unit") or 0) or None
    except ValueError:
        unit_id = None
    data = reports.build_report(actor=request.user, unit_id=unit_id)
    return render(request, "rules/report.html", {"report": data})


@login_required
@handles_errors
def levy_import(request):
    """导入社保核心平台记录（第七条）或收费票据（第九条）: upload, then the match report."""
    require(request.user, "document.create", event=events.event_levy_imported)
    result, status = None, 200
    if request.method == "POST":
        upload = request.FILES.get("file")
        kind = request.POST.get("kind", CaseKind.LEVY)
        if upload is None:
            messages.error(request, "请选择要导入的文件")
            status = 400
        else:
            try:
                with save_upload(upload) as path:
                    result = imports.import_records(
                        actor=request.user,
                        kind=kind,
                        file_path=path,
                        file_name=upload.name,
                        dry_run=request.POST.get("dry_run") == "1",
                    ).as_dict()
            except LiuhenError as exc:
                messages.error(request, exc.message)
                status = exc.status
    return render(request, "rules/levy_import.html", {"result": result}, status=status)
