"""Cases in the admin: read-only and scoped like the pages.

Cases change only through cases.services (stage machine, audit); the admin is a place to look,
never a back door. Each role sees what ``restrict(user, "case.view")`` lets it see.
"""

from __future__ import annotations

from django.contrib import admin

from liuhen.access.admin import ScopedReadOnlyAdmin
from liuhen.cases import events
from liuhen.cases.models import Case, Party, Patrol
from liuhen.cases.privacy import listed_parties


@admin.register(Case)
class CaseAdmin(ScopedReadOnlyAdmin):
    view_action = "case.view"
    read_event = events.event_case_viewed
    list_display = ("number", "kind", "cause", "unit", "stage", "opened_on")
    list_filter = ("kind", "stage")
    search_fields = ("number", "cause")
    list_select_related = ("unit",)
    show_full_result_count = False


@admin.register(Patrol)
class PatrolAdmin(ScopedReadOnlyAdmin):
    view_action = "patrol.view"
    read_event = events.event_patrol_viewed
    list_display = ("date", "area", "unit")
    list_select_related = ("unit",)


@admin.register(Party)
class PartyAdmin(ScopedReadOnlyAdmin):
    view_action = "party.view"
    read_event = events.event_party_viewed
    # 第十七条第四款 (liuhen/cases/privacy.py): the admin is no handling unit's work page, so
    # it shows what lists show: a person's name and every ID number masked.
    list_display = ("shown_name", "kind", "shown_id_number", "unit")
    list_select_related = ("unit",)
    exclude = ("id_number", "name")

    @admin.display(description="名称/姓名")
    def shown_name(self, obj):
        return listed_parties([obj])[0].name

    @admin.display(description="身份证号/统一社会信用代码")
    def shown_id_number(self, obj):
        return listed_parties([obj])[0].id_number

    def get_readonly_fields(self, request, obj=None):
        hidden = set(self.exclude)
        return ["shown_name", "shown_id_number",
                *(n for n in super().get_readonly_fields(request, obj) if n not in hidden)]
