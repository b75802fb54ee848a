from django.urls import path

from liuhen.rules import deadline_views

urlpatterns = [
    path("deadlines/", deadline_views.deadline_list, name="deadline_list"),
    path(
        "cases/<int:pk>/documents/generate/<slug:doc_type>/",
        deadline_views.generate_document,
        name="document_generate",
    ),
    path(
        "cases/<int:pk>/deadlines/facts/",
        deadline_views.deadline_fact_add,
        name="deadline_fact_add",
    ),
]
