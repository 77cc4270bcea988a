from django.urls import path

from leads.capture import views
from leads.capture.api import SubmissionCreate

app_name = "capture"
urlpatterns = [
    path("forms/", views.form_list, name="form_list"),
    path("f/<slug:slug>/", views.form_page, name="form"),
    path("f/<slug:slug>/thanks/", views.thanks, name="thanks"),
    path(
        "api/v1/forms/<slug:slug>/submissions/",
        SubmissionCreate.as_view(),
        name="api_submission_create",
    ),
]
