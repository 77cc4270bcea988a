from django.contrib import admin
from django.contrib.auth import views as auth_views
from django.templatetags.static import static
from django.urls import include, path
from django.utils.functional import lazy
from django.views.generic import RedirectView

from portal.accounts.views import healthz, home
from portal.dashboard.views import (
    dashboard,
    dashboard_csv,
    dashboard_refresh,
    review,
    review_csv,
    review_list,
)
from portal.integrations.api.urls import profile_urlpatterns, schema_urlpatterns

urlpatterns = [
    # Capture first: its public intake is most of the traffic (leads/capture/urls.py).
    path("", include("leads.capture.urls")),
    path("", home, name="home"),
    path("healthz/", healthz, name="healthz"),
    # For what asks the site root for its icon (feed readers, old browsers); pages link it.
    path("favicon.ico", RedirectView.as_view(url=lazy(static, str)("favicon.ico"))),
    path("login/", auth_views.LoginView.as_view(redirect_authenticated_user=True), name="login"),
    path("logout/", auth_views.LogoutView.as_view(), name="logout"),
    path("password/", auth_views.PasswordChangeView.as_view(), name="password_change"),
    path(
        "password/done/", auth_views.PasswordChangeDoneView.as_view(), name="password_change_done"
    ),
    path("dashboard/", dashboard, name="dashboard"),
    path("dashboard/print/", dashboard, {"printable": True}, name="dashboard_print"),
    path("dashboard/refresh/", dashboard_refresh, name="dashboard_refresh"),
    path("dashboard/<slug:panel>.csv", dashboard_csv, name="dashboard_csv"),
    path("dashboard/reviews/", review_list, name="review_list"),
    path("dashboard/reviews/<int:pk>/", review, name="review"),
    path("dashboard/reviews/<int:pk>/<slug:panel>.csv", review_csv, name="review_csv"),
    path("leads/", include("leads.inbox.urls")),
    path("agreement/", include("scoring.urls")),
    path("queues/", include("leads.routing.urls")),
    path("notifications/", include("portal.notifications.urls")),
    path("webhooks/", include("portal.integrations.webhooks.urls")),
    path("profile/", include(profile_urlpatterns)),
    path("api/v1/", include("portal.integrations.api.urls")),
    path("api/", include(schema_urlpatterns)),
    path("admin/", admin.site.urls),
]

# JSON under /api/, pages elsewhere (portal/error_handlers.py).
handler400 = "portal.error_handlers.bad_request"
handler403 = "portal.error_handlers.permission_denied"
handler404 = "portal.error_handlers.page_not_found"
handler500 = "portal.error_handlers.server_error"
