from django.urls import path

from scoring import views

app_name = "scoring"
urlpatterns = [
    path("", views.agreement_page, name="agreement"),
    path("new/", views.draft_new, name="new"),
    path("flags/", views.flags_page, name="flags"),
    path("rescore/<int:pk>/", views.rescore_progress, name="rescore_progress"),
    path("v<int:version>/", views.version_page, name="version"),
    path("v<int:version>/edit/", views.edit, name="edit"),
    path("v<int:version>/criteria/new/", views.criterion_add, name="criterion_add"),
    path("v<int:version>/criteria/<int:pk>/", views.criterion_edit, name="criterion_edit"),
    path(
        "v<int:version>/criteria/<int:pk>/remove/",
        views.criterion_remove_view,
        name="criterion_remove",
    ),
    path(
        "v<int:version>/criteria/<int:pk>/up/",
        views.criterion_move_view,
        {"offset": -1},
        name="criterion_up",
    ),
    path(
        "v<int:version>/criteria/<int:pk>/down/",
        views.criterion_move_view,
        {"offset": 1},
        name="criterion_down",
    ),
    path("v<int:version>/forms/", views.forms_set, name="forms"),
    path("v<int:version>/rebase/", views.rebase, name="rebase"),
    path("v<int:version>/propose/", views.propose, name="propose"),
    path("v<int:version>/sign/<str:side>/", views.sign, name="sign"),
    path("v<int:version>/send-back/", views.send_back, name="send_back"),
    path("v<int:version>/comment/", views.comment, name="comment"),
]
