from django.urls import path

from leads.inbox import views

app_name = "inbox"
urlpatterns = [
    path("", views.lead_list, name="list"),
    path("<int:pk>/", views.lead_detail, name="lead"),
    # One URL per move, named after it: inbox:accept, inbox:reject, inbox:contact...
    *(
        path(f"<int:pk>/{name}/", views.lead_action, {"name": name}, name=name)
        for name in views.VERBS
    ),
]
