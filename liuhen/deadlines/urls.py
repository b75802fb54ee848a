from django.urls import path

from liuhen.deadlines import views

urlpatterns = [
    path("deadlines/", views.deadline_list, name="deadline_list"),
    path("cases/<int:pk>/deadlines/facts/", views.deadline_fact_add, name="deadline_fact_add"),
]
