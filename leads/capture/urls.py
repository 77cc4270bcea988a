from django.urls import path

from leads.capture.builder import account_tokens
from leads.capture.builder import views as builder
from leads.capture.imports import exports
from leads.capture.imports import views as import_views
from leads.capture.intake import compat, quarantine_views, views
from leads.capture.intake.api import FormDefinition, SubmissionCreate

app_name = "capture"
urlpatterns = [
    # The public intake first: nearly every request is one of these, and Django tries the
    # patterns in order (the portal's URLconf includes this one first, too).
    path("f/<slug:slug>/", views.form_page, name="form"),
    path("f/<slug:slug>/thanks/", views.thanks, name="thanks"),
    path("api/v1/forms/<slug:slug>/", FormDefinition.as_view(), name="api_form_definition"),
    path(
        "api/v1/forms/<slug:slug>/submissions/",
        SubmissionCreate.as_view(),
        name="api_submission_create",
    ),
    # Drop-in compatible endpoints: a site switches from HubSpot or Salesforce by changing a URL.
    path(
        "submissions/v3/integration/submit/<str:portal_id>/<str:guid>",
        compat.hubspot_submit,
        name="hubspot_submit",
    ),
    path(
        "submissions/v3/integration/secure/submit/<str:portal_id>/<str:guid>",
        compat.hubspot_secure_submit,
        name="hubspot_secure_submit",
    ),
    path(
        "uploads/form/v2/<str:portal_id>/<str:guid>",
        compat.hubspot_v2_submit,
        name="hubspot_v2_submit",
    ),
    path("servlet/servlet.WebToLead", compat.web_to_lead, name="web_to_lead_servlet"),
    path("web-to-lead/", compat.web_to_lead, name="web_to_lead"),
    # The marketers' pages.
    path("forms/", builder.form_list, name="form_list"),
    path("forms/new/", builder.form_new, name="form_new"),
    path("forms/<int:pk>/", builder.form_detail, name="builder"),
    path("forms/<int:pk>/settings/", builder.form_edit, name="form_edit"),
    path("forms/<int:pk>/preview/", builder.form_preview, name="form_preview"),
    path("forms/<int:pk>/hubspot-token/", builder.hubspot_token, name="hubspot_token"),
    path("forms/hubspot-tokens/", account_tokens.account_tokens, name="account_tokens"),
    path(
        "forms/hubspot-tokens/<int:pk>/revoke/",
        account_tokens.account_token_revoke,
        name="account_token_revoke",
    ),
    path("forms/submissions/export/", exports.submissions_export, name="submissions_export"),
    path("forms/<int:pk>/fields/new/", builder.field_new, name="field_new"),
    path("forms/<int:pk>/fields/<int:field_pk>/", builder.field_edit, name="field_edit"),
    path(
        "forms/<int:pk>/fields/<int:field_pk>/remove/",
        builder.field_remove,
        name="field_remove",
    ),
    path("forms/<int:pk>/fields/<int:field_pk>/move/", builder.field_move, name="field_move"),
    # One URL per status move: capture:publish, capture:unpublish, capture:archive.
    *(
        path(f"forms/<int:pk>/{move}/", builder.form_status, {"move": move}, name=move)
        for move in builder.STATUS_MOVES
    ),
    # The spam quarantine: marketing reviews held posts, releases or discards them.
    path("quarantine/", quarantine_views.quarantine_list, name="quarantine_list"),
    path("quarantine/<int:pk>/", quarantine_views.quarantine_detail, name="quarantine_post"),
    path(
        "quarantine/<int:pk>/release/",
        quarantine_views.quarantine_release_view,
        name="quarantine_release",
    ),
    path(
        "quarantine/<int:pk>/discard/",
        quarantine_views.quarantine_discard_view,
        name="quarantine_discard",
    ),
    path("imports/", import_views.import_list, name="import_list"),
    path("imports/new/", import_views.import_new, name="import_new"),
    path("imports/<int:pk>/", import_views.import_detail, name="import_detail"),
    path("imports/<int:pk>/start/", import_views.import_begin, name="import_start"),
    path("imports/<int:pk>/progress/", import_views.import_progress, name="import_progress"),
    path("imports/<int:pk>/report.csv", import_views.import_report, name="import_report"),
]
