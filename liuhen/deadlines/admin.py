"""Django admin for the working-day calendar (放假与调休安排), editable by the administrator.

Every change is audited and re-computes the stored open deadlines of the cases in progress,
since a moved holiday moves every working-day due date (行政处罚法 第八十五条).
"""

from __future__ import annotations

from django.contrib import admin
from django.db import transaction
from django.utils import timezone

from liuhen.audit.services import record
from liuhen.deadlines.events import event_calendar_changed
from liuhen.deadlines.models import Holiday, HolidayYear
from liuhen.deadlines.tasks import enqueue_refresh_open_deadlines


class HolidayInline(admin.TabularInline):
    model = Holiday
    extra = 1
    fields = ("date", "name", "kind")
    ordering = ("date",)


@admin.register(HolidayYear)
class HolidayYearAdmin(admin.ModelAdmin):
    list_display = ("year", "provisional", "source", "document_number", "day_count", "updated_at")
    list_filter = ("provisional",)
    search_fields = ("source",)
    fields = ("year", "provisional", "source", "document_number")
    inlines = [HolidayInline]

    @admin.display(description="放假/调休天数")
    def day_count(self, obj) -> int:
        return obj.days.count()

    def save_model(self, request, obj, form, change):
        obj.updated_at = timezone.now()
        super().save_model(request, obj, form, change)

    def save_related(self, request, form, formsets, change):
        super().save_related(request, form, formsets, change)
        obj = form.instance
        changed_days = []
        for formset in formsets:
            now = timezone.now()
            for day in formset.new_objects + [o for o, _ in formset.changed_objects]:
                Holiday.objects.filter(pk=day.pk).update(updated_at=now)
                changed_days.append(f"{day.date:%Y-%m-%d} {day.name} {day.kind}")
            changed_days += [f"删除 {d.date:%Y-%m-%d} {d.name}" for d in formset.deleted_objects]
        record(
            actor=request.user,
            action=event_calendar_changed,
            target=obj,
            detail={
                "year": obj.year,
                "provisional": obj.provisional,
                "changed": changed_days[:200],
                "created": not change,
            },
        )
        _refresh_after_commit()

    def delete_model(self, request, obj):
        record(
            actor=request.user,
            action=event_calendar_changed,
            target=obj,
            detail={"year": obj.year, "deleted": True},
        )
        super().delete_model(request, obj)
        _refresh_after_commit()


def _refresh_after_commit() -> None:
    transaction.on_commit(enqueue_refresh_open_deadlines)
