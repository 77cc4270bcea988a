from csp.decorators import csp_update
from django.urls import path
from drf_spectacular.views import (
    SpectacularAPIView,
    SpectacularRedocView,
    SpectacularSwaggerSplitView,
)
from rest_framework.routers import SimpleRouter

from portal.integrations.api import pages, views

router = SimpleRouter(trailing_slash=True)
# /api/v1/forms/<slug>/ is the public intake's (leads/capture/urls.py): the marketers'
# forms resource is the form builder's.
router.register("builder/forms", views.FormViewSet, basename="form")
router.register("submissions", views.SubmissionViewSet, basename="submission")
router.register("leads", views.LeadViewSet, basename="lead")
router.register("events", views.LeadEventViewSet, basename="event")
router.register("agreements", views.AgreementViewSet, basename="agreement")
router.register("queues", views.QueueViewSet, basename="queue")

app_name = "api"
urlpatterns = [
    *router.urls,
    # One URL per move of the inbox's table: leads/<id>/accept/, leads/<id>/reject/...
    *(
        path(f"leads/<int:pk>/{name}/", view, name=f"lead-{name}")
        for name, view in views.MOVE_VIEWS.items()
    ),
    path("dashboard/", views.DashboardView.as_view(), name="dashboard"),
]

# Under /api/ but outside v1 (portal/urls.py): the schema and its two readers.
schema_urlpatterns = [
    path("schema/", SpectacularAPIView.as_view(), name="schema"),
    path("docs/", SpectacularSwaggerSplitView.as_view(url_name="schema"), name="docs"),
    # ReDoc runs its search in a Web Worker it starts from a blob: URL; that page alone may.
    path(
        "redoc/",
        csp_update({"worker-src": ["blob:"]})(
            SpectacularRedocView.as_view(url_name="schema", template_name="api/redoc.html")
        ),
        name="redoc",
    ),
]

profile_urlpatterns = [
    path("", pages.profile, name="profile"),
    path("tokens/", pages.token_new, name="token_new"),
    path("tokens/<int:pk>/revoke/", pages.token_revoke_view, name="token_revoke"),
]
