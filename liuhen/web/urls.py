"""Root URLs: every app's pages, the admin and the JSON API (``liuhen.web.api``)."""

from django.contrib import admin
from django.http import HttpResponsePermanentRedirect
from django.urls import include, path, re_path

from liuhen.web import views
from liuhen.web.api import api

admin.site.site_header = "留痕 · 系统管理"
admin.site.site_title = "留痕"
admin.site.index_title = "配置"

# Admin pages of models that changed app in issue 15 keep their old addresses as redirects
# (bookmarks, the user guide): /admin/<old app>/<model>/… → /admin/<new app>/<model>/….
MOVED_ADMIN_PAGES = {
    "evidence/device": "devices/device",
    "org/apitoken": "access/apitoken",
    "rules/holidayyear": "deadlines/holidayyear",
}


def _moved_admin_page(request, old, rest):
    target = f"/admin/{MOVED_ADMIN_PAGES[old]}/{rest}"
    query = request.META.get("QUERY_STRING", "")
    return HttpResponsePermanentRedirect(f"{target}?{query}" if query else target)


urlpatterns = [
    path("", views.dashboard, name="dashboard"),
    path("healthz", views.healthz, name="healthz"),
    path("cases/<int:pk>/", views.case_detail, name="case_detail"),
    path("", include("liuhen.access.urls")),
    path("", include("liuhen.cases.urls")),
    path("", include("liuhen.web.auditlog.urls")),
    path("", include("liuhen.evidence.urls")),
    path("", include("liuhen.records.urls")),
    path("", include("liuhen.web.case_records_urls")),
    path("", include("liuhen.rules.urls")),
    path("", include("liuhen.deadlines.urls")),
    re_path(rf"^admin/(?P<old>{'|'.join(MOVED_ADMIN_PAGES)})/(?P<rest>.*)$", _moved_admin_page),
    path("admin/", admin.site.urls),
    path("api/", api.urls),
]
