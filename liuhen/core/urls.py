from django.urls import path

from liuhen.core import views

urlpatterns = [
    path("", views.dashboard, name="dashboard"),
    path("login/", views.login_view, name="login"),
    path("logout/", views.logout_view, name="logout"),
    path("otp/", views.otp_setup, name="otp_setup"),
    path("healthz", views.healthz, name="healthz"),
]
