from django.urls import path

from liuhen.web import case_records as views

urlpatterns = [
    path("cases/<int:pk>/records/", views.case_records, name="case_records"),
    path("cases/<int:pk>/records/documents/", views.document_add, name="case_document_add"),
    path(
        "cases/<int:pk>/records/documents/<int:doc_id>/file/",
        views.document_download,
        name="case_document_file",
    ),
    path("cases/<int:pk>/records/approvals/", views.approval_request, name="case_approval_request"),
    path(
        "cases/<int:pk>/records/approvals/<int:approval_id>/decision/",
        views.approval_decide,
        name="case_approval_decide",
    ),
    path("cases/<int:pk>/records/services/", views.service_add, name="case_service_add"),
]
