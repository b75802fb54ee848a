from django.urls import include, path

from liuhen.rules import views

urlpatterns = [
    path("rules/report/", views.report, name="rules_report"),
    path("rules/", views.rule_list, name="rules_list"),
    path("rules/levy-import/", views.levy_import, name="rules_levy_import"),
    # A case's written records (documents, approvals, service) live in the cases app.
    path("", include("liuhen.cases.records_urls")),
]
