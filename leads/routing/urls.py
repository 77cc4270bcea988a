from django.urls import path

from leads.routing import views

app_name = "routing"
urlpatterns = [
    path("", views.queue_list, name="queue_list"),
    path("new/", views.queue_new, name="queue_new"),
    path("<int:pk>/", views.queue_edit, name="queue_edit"),
]
