from django.urls import path

from liuhen.records import views

urlpatterns = [
    path(
        "cases/<int:pk>/documents/generate/<slug:doc_type>/",
        views.generate_document,
        name="document_generate",
    ),
    path("rules/levy-import/", views.levy_import, name="rules_levy_import"),
]
