from django.urls import include, path

from bench.views import baseline

urlpatterns = [
    path("bench/baseline/", baseline, name="bench-baseline"),
    path("", include("portal.urls")),
]
