"""The profile page: who you are, and your personal API tokens (made, shown once, revoked)."""

from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_http_methods

from portal.integrations.api.selectors import tokens_of
from portal.integrations.api.services import NAME_MAX_LENGTH, token_create, token_revoke


class TokenForm(forms.Form):
    name = forms.CharField(
        max_length=NAME_MAX_LENGTH,
        label="Token name",
        help_text="What it is for, e.g. “CRM sync” or “warehouse export”.",
    )
    read_only = forms.BooleanField(
        required=False,
        label="Read-only",
        help_text="It can read what you can read, and change nothing.",
    )


def _page(request: HttpRequest, form: TokenForm, *, shown: str = "", status: int = 200):
    context = {"form": form, "tokens": tokens_of(user=request.user), "shown": shown}
    return render(request, "api/profile.html", context, status=status)


@login_required
@never_cache
def profile(request: HttpRequest) -> HttpResponse:
    return _page(request, TokenForm())


@login_required
@never_cache
@require_http_methods(["POST"])
def token_new(request: HttpRequest) -> HttpResponse:
    form = TokenForm(request.POST)
    if not form.is_valid():
        return _page(request, form, status=400)
    token, raw = token_create(user=request.user, **form.cleaned_data)
    messages.success(request, f"Created the token {token.name}. Copy it now: it is shown once.")
    # Rendered, not redirected: the secret is never stored, not even in the session.
    return _page(request, TokenForm(), shown=raw)


@login_required
@never_cache
def token_revoke_view(request: HttpRequest, pk: int) -> HttpResponse:
    """GET asks first (a page, no dialog); POST revokes."""
    token = get_object_or_404(tokens_of(user=request.user), pk=pk)
    if request.method == "POST":
        token_revoke(token_id=token.pk, by=request.user)
        messages.success(request, f"Revoked {token.name}: it no longer opens the API.")
        return redirect("profile")
    if token.revoked_at:
        messages.info(request, f"{token.name} is already revoked.")
        return redirect("profile")
    return render(request, "api/token_revoke.html", {"token": token})
