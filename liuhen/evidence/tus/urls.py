"""URLs of the tus server (included by evidence/urls.py, before the ninja API)."""

from django.urls import path

from liuhen.evidence import tus

urlpatterns = [
    path("api/uploads", tus.uploads),
    path("api/uploads/", tus.uploads, name="tus_uploads"),
    path("api/uploads/<uuid:upload_id>", tus.upload, name="tus_upload"),
    path("api/uploads/<uuid:upload_id>/", tus.upload),
    path("api/uploads/<uuid:upload_id>/result", tus.result, name="tus_upload_result"),
]
