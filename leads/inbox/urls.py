from django.urls import path

from leads.inbox import views
from leads.inbox.actions import ACTIONS

app_name = "inbox"
urlpatterns = [
    path("", views.lead_list, name="list"),
    path("export/", views.lead_export, name="export"),
    path("<int:pk>/", views.lead_detail, name="lead"),
    path("<int:pk>/seen/", views.repeats_seen, name="repeats_seen"),
    # One URL per move, named after it: inbox:accept, inbox:reject, inbox:contact...
    *(path(f"<int:pk>/{name}/", views.lead_action, {"name": name}, name=name) for name in ACTIONS),
]
