from django.urls import path

from liuhen.org import views

urlpatterns = [
    path("me/tokens/", views.token_list, name="token_list"),
    path("me/tokens/<int:pk>/revoke/", views.token_revoke, name="token_revoke"),
]
