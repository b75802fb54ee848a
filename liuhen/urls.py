from django.contrib import admin
from django.urls import include, path

from liuhen.core.api import api

admin.site.site_header = "留痕 · 系统管理"
admin.site.site_title = "留痕"
admin.site.index_title = "配置"

urlpatterns = [
    path("", include("liuhen.core.urls")),
    path("", include("liuhen.cases.urls")),
    path("", include("liuhen.audit.urls")),
    path("", include("liuhen.evidence.urls")),
    path("", include("liuhen.rules.urls")),
    path("", include("liuhen.rules.deadline_urls")),
    path("", include("liuhen.org.urls")),
    path("admin/", admin.site.urls),
    path("api/", api.urls),
]
