from django.urls import path

from liuhen.access import views

urlpatterns = [
    path("login/", views.login_view, name="login"),
    path("logout/", views.logout_view, name="logout"),
    path("otp/", views.otp_setup, name="otp_setup"),
    path("me/tokens/", views.token_list, name="token_list"),
    path("me/tokens/<int:pk>/revoke/", views.token_revoke, name="token_revoke"),
]
