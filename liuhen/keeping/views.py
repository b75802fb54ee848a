"""Pages of the keeping app: the retention table (第十四条) and its audited changes."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.shortcuts import redirect, render

from liuhen.access.querysets import allows
from liuhen.audit.services import record
from liuhen.core.errors import LiuhenError
from liuhen.core.pages import handles_errors
from liuhen.keeping import events, services
from liuhen.keeping.models import RetentionChange


@login_required
@handles_errors
def retention_table(request):
    """保存期限表: each row with its source, default and the period in force; the bureau's
    changes with their reasons. POST changes one row (``services.change_period``)."""
    if request.method == "POST":
        try:
            services.change_period(actor=request.user, row_id=request.POST.get("row_id", ""),
                                   period=request.POST.get("period", ""),
                                   reason=request.POST.get("reason", ""))
        except LiuhenError as exc:
            messages.error(request, exc.message)
            return _render(request, status=exc.status)
        messages.success(request, "保存期限已修改，修改理由已记录")
        return redirect("keeping_retention_table")
    record(actor=request.user, action=events.event_retention_table_viewed, request=request)
    return _render(request)


def _render(request, status: int = 200):
    context = {
        "rows": services.table_rows(),
        "changes": RetentionChange.objects.select_related("changed_by")[:100],
        "may_change": allows(request.user, "retention.change"),
    }
    return render(request, "keeping/retention_table.html", context, status=status)
