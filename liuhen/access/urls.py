from django.urls import path

from liuhen.access import grant_views, views

urlpatterns = [
    path("login/", views.login_view, name="login"),
    path("logout/", views.logout_view, name="logout"),
    path("otp/", views.otp_setup, name="otp_setup"),
    path("me/password/", views.password_change, name="password_change"),
    path("me/tokens/", views.token_list, name="token_list"),
    path("me/tokens/<int:pk>/revoke/", views.token_revoke, name="token_revoke"),
    # Access requests and grants (调阅申请与授权, 第十六条).
    path("access/requests/new/", grant_views.request_new, name="access_request_new"),
    path("access/requests/<int:pk>/decision/", grant_views.decide, name="access_decide"),
    path("access/requests/<int:pk>/withdraw/", grant_views.withdraw, name="access_withdraw"),
    path("access/grants/<int:pk>/revoke/", grant_views.revoke, name="access_revoke"),
    path("access/inbox/", grant_views.inbox, name="access_inbox"),
    path("access/mine/", grant_views.mine, name="access_mine"),
]
