from django.urls import path

from leads.routing import views

app_name = "routing"
urlpatterns = [
    path("", views.queue_list, name="queue_list"),
    path("new/", views.queue_new, name="queue_new"),
    path("<int:pk>/", views.queue_edit, name="queue_edit"),
    path("<int:pk>/pool/", views.queue_pool, name="queue_pool"),
    path("<int:pk>/fairness/", views.queue_fairness, name="queue_fairness"),
    path("simulator/", views.simulator, name="simulator"),
    path("me/", views.my_availability, name="my_availability"),
    path("reps/", views.rep_list, name="rep_list"),
    path("reps/<int:pk>/", views.rep_availability, name="rep_availability"),
    path("absences/<int:pk>/delete/", views.absence_delete, name="absence_delete"),
]
