"""Pages and file streams of the evidence vault (the tus server lives under /api/uploads/)."""

from django.urls import include, path

from liuhen.evidence import fixity_views, link_views, views

urlpatterns = [
    path("recordings/", views.recording_list, name="recording_list"),
    path("recordings/upload/", views.upload_page, name="recording_upload"),
    path("recordings/uploads/<uuid:upload_id>/", views.upload_result, name="upload_result"),
    path("recordings/late/", views.late_report, name="recording_late"),
    path("recordings/fixity/", fixity_views.fixity_page, name="recording_fixity"),
    path("recordings/<int:pk>/", views.recording_detail, name="recording_detail"),
    path("recordings/<int:pk>/marks/", views.recording_mark, name="recording_mark"),
    path("recordings/<int:pk>/links/", views.recording_link, name="recording_link"),
    path("recordings/<int:pk>/case-links/", link_views.recording_case_link,
         name="recording_case_link"),
    path("recordings/<int:pk>/case-links/<int:link_id>/end/", link_views.recording_case_unlink,
         name="recording_case_unlink"),
    path("recordings/<int:pk>/original", views.recording_original, name="recording_original"),
    path("recordings/<int:pk>/proxy", views.recording_proxy, name="recording_proxy"),
    path("recordings/<int:pk>/poster", views.recording_poster, name="recording_poster"),
    path(
        "recordings/<int:pk>/thumbnails/<int:index>",
        views.recording_thumbnail,
        name="recording_thumbnail",
    ),
    # The tus server (/api/uploads/), before the ninja API in the root URLs.
    path("", include("liuhen.evidence.tus.urls")),
]
