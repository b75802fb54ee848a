from django.urls import path

from liuhen.cases import views

urlpatterns = [
    path("cases/", views.case_list, name="case_list"),
    path("cases/new/", views.case_create, name="case_create"),
    path("cases/new/people/", views.case_form_officers, name="case_form_people"),
    path("cases/<int:pk>/stage/", views.case_move, name="case_move"),
    path("cases/<int:pk>/edit/", views.case_edit, name="case_edit"),
    path("parties/", views.party_list, name="party_list"),
    path("parties/new/", views.party_create, name="party_create"),
    path("patrols/", views.patrol_list, name="patrol_list"),
    path("patrols/new/", views.patrol_create, name="patrol_create"),
    path("patrols/<int:pk>/case/", views.patrol_open_case, name="patrol_open_case"),
]
