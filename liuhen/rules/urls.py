from django.urls import path

from liuhen.rules import views

urlpatterns = [
    path("rules/report/", views.report, name="rules_report"),
    path("rules/", views.rule_list, name="rules_list"),
]
