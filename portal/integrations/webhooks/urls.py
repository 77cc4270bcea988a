from django.urls import path

from portal.integrations.webhooks import views

app_name = "webhooks"

urlpatterns = [
    path("", views.endpoint_list, name="list"),
    path("new/", views.endpoint_new, name="new"),
    path("<int:pk>/", views.endpoint_detail, name="endpoint"),
    path("<int:pk>/edit/", views.endpoint_edit, name="edit"),
    path("<int:pk>/test/", views.endpoint_send_test, name="test"),
    path("<int:pk>/disable/", views.endpoint_switch_off, name="disable"),
    path("<int:pk>/enable/", views.endpoint_switch_on, name="enable"),
    path("<int:pk>/secret/", views.endpoint_new_secret, name="secret"),
    path("<int:pk>/deliveries.csv", views.deliveries_csv, name="deliveries_csv"),
    path("deliveries/<int:pk>/redeliver/", views.delivery_send_again, name="redeliver"),
]
