from django.urls import path

from liuhen.devices import views

urlpatterns = [
    path("devices/", views.device_list, name="device_list"),
    path("devices/<int:pk>/", views.device_detail, name="device_detail"),
    path("devices/<int:pk>/<slug:action>/", views.device_action, name="device_action"),
]
