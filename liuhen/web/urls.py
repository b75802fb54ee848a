"""Root URLs: every app's pages, the admin and the JSON API (``liuhen.web.api``)."""

from django.contrib import admin
from django.http import HttpResponsePermanentRedirect
from django.templatetags.static import static
from django.urls import include, path, re_path

from liuhen.access import views as access_views
from liuhen.web import case_records, views
from liuhen.web.api import api

admin.site.site_header = "留痕 · 系统管理"
admin.site.site_title = "留痕"
admin.site.index_title = "配置"
# One login path for everyone, with TOTP (issue 16 item 6): the admin sends people to ours.
admin.site.login = access_views.admin_login

# Admin pages of models that changed app in issue 15 keep their old addresses as redirects
# (bookmarks, the user guide): /admin/<old app>/<model>/… → /admin/<new app>/<model>/….
MOVED_ADMIN_PAGES = {
    "evidence/device": "devices/device",
    "org/apitoken": "access/apitoken",
    "rules/holidayyear": "deadlines/holidayyear",
}


def _favicon(request):
    # Pages without the icon link (the admin's, Django's own) make the browser ask for
    # /favicon.ico; a 404 there is a failed request in every admin page's console.
    return HttpResponsePermanentRedirect(static("liuhen/favicon.svg"))


def _moved_admin_page(request, old, rest):
    target = f"/admin/{MOVED_ADMIN_PAGES[old]}/{rest}"
    query = request.META.get("QUERY_STRING", "")
    return HttpResponsePermanentRedirect(f"{target}?{query}" if query else target)


urlpatterns = [
    path("", views.dashboard, name="dashboard"),
    path("healthz", views.healthz, name="healthz"),
    path("favicon.ico", _favicon),
    path("inbox/", views.inbox_page, name="inbox"),
    path("inbox/count/", views.inbox_count, name="inbox_count"),
    path("cases/<int:pk>/", views.case_detail, name="case_detail"),
    path("", include("liuhen.access.urls")),
    path("", include("liuhen.cases.urls")),
    path("", include("liuhen.web.auditlog.urls")),
    # The recording page with the panels of the apps above the vault (retention: keeping).
    path("recordings/<int:pk>/", views.recording_detail),
    path("", include("liuhen.evidence.urls")),
    path("", include("liuhen.records.urls")),
    # The records page of a case (documents, approvals, service, with its completeness).
    path("cases/<int:pk>/records/", case_records.case_records, name="case_records"),
    path("cases/<int:pk>/records/documents/", case_records.document_add,
         name="case_document_add"),
    path("cases/<int:pk>/records/documents/<int:doc_id>/file/", case_records.document_download,
         name="case_document_file"),
    path("cases/<int:pk>/records/approvals/", case_records.approval_request,
         name="case_approval_request"),
    path("cases/<int:pk>/records/approvals/<int:approval_id>/decision/",
         case_records.approval_decide, name="case_approval_decide"),
    path("cases/<int:pk>/records/services/", case_records.service_add, name="case_service_add"),
    path("", include("liuhen.rules.urls")),
    path("", include("liuhen.deadlines.urls")),
    path("", include("liuhen.keeping.urls")),
    path("", include("liuhen.disclosure.urls")),
    path("", include("liuhen.devices.urls")),
    path("", include("liuhen.supervision.urls")),
    re_path(rf"^admin/(?P<old>{'|'.join(MOVED_ADMIN_PAGES)})/(?P<rest>.*)$", _moved_admin_page),
    path("admin/", admin.site.urls),
    path("api/", api.urls),
]

# An outage (database unreachable, disk full) answers 503, not a 500 (issue 16 item 4).
handler500 = "liuhen.core.outage.server_error"
# One look for the other errors; JSON with a code under /api/ (issue 13 item 7).
handler400 = "liuhen.core.pages.bad_request"
handler403 = "liuhen.core.pages.permission_denied"
handler404 = "liuhen.core.pages.page_not_found"
