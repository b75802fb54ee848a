from django.urls import path

from liuhen.keeping import views

urlpatterns = [
    path("keeping/retention/", views.retention_table, name="keeping_retention_table"),
]
