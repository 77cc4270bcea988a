"""The marketing manager's page of HubSpot account tokens: make one (shown once), revoke one.

An account token opens the secure HubSpot endpoint of every form, as a HubSpot private app
token does; so it is the manager's (capture.manage_hubspot_tokens), not every marketer's.
"""

from django import forms
from django.contrib import messages
from django.core.paginator import Paginator
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render

from leads.capture.builder.tokens import hubspot_account_token_issue, hubspot_account_token_revoke
from leads.capture.models import HubSpotAccountToken
from portal.accounts.decorators import permission_required_or_403

MANAGE = "capture.manage_hubspot_tokens"
PAGE_SIZE = 20


class AccountTokenForm(forms.Form):
    name = forms.CharField(
        max_length=100,
        label="Who uses it",
        help_text="E.g. “Website server” or “Zapier”: shown here, so you know what to revoke.",
    )


@permission_required_or_403(MANAGE)
def account_tokens(request: HttpRequest) -> HttpResponse:
    """GET lists the tokens; POST makes one and shows it, once."""
    bound = AccountTokenForm(request.POST or None)
    if request.method == "POST" and bound.is_valid():
        account_token, token = hubspot_account_token_issue(
            name=bound.cleaned_data["name"], by=request.user
        )
        response = render(
            request,
            "capture/account_token_made.html",
            {"account_token": account_token, "token": token},
        )
        response["Cache-Control"] = "no-store"
        return response
    tokens = HubSpotAccountToken.objects.select_related("created_by", "revoked_by")
    page = Paginator(tokens, PAGE_SIZE).get_page(request.GET.get("page"))
    status = 400 if request.method == "POST" else 200
    return render(
        request, "capture/account_tokens.html", {"page": page, "bound": bound}, status=status
    )


@permission_required_or_403(MANAGE)
def account_token_revoke(request: HttpRequest, pk: int) -> HttpResponse:
    """GET asks first; POST revokes at once."""
    account_token = get_object_or_404(HubSpotAccountToken, pk=pk)
    if request.method == "POST":
        if hubspot_account_token_revoke(account_token=account_token, by=request.user):
            messages.success(request, f"Revoked the token “{account_token}”: it opens nothing now.")
        else:
            messages.info(request, f"The token “{account_token}” was already revoked.")
        return redirect("capture:account_tokens")
    return render(request, "capture/account_token_revoke.html", {"account_token": account_token})
