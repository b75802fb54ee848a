from django.urls import path

from liuhen.supervision import views

urlpatterns = [
    path("supervision/violations/", views.violation_list, name="violation_list"),
    path("supervision/violations/detect/", views.violation_detect, name="violation_detect"),
    path("supervision/violations/new/", views.violation_report, name="violation_report"),
    path("supervision/violations/<int:pk>/", views.violation_detail, name="violation_detail"),
    path("supervision/violations/<int:pk>/<slug:action>/", views.violation_action,
         name="violation_action"),
]
