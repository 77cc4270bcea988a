from django.urls import path

from leads.capture import views

app_name = "capture"
urlpatterns = [
    path("forms/", views.form_list, name="form_list"),
    path("f/<slug:slug>/", views.form_page, name="form"),
    path("f/<slug:slug>/thanks/", views.thanks, name="thanks"),
]
