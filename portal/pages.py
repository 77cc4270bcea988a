"""The one page that edits one thing: a form in a card, under the list it belongs to."""

from django.http import HttpRequest, HttpResponse
from django.shortcuts import render


def edit_page(
    request: HttpRequest, bound, *, title: str, back: str, parent_url: str, parent_label: str
) -> HttpResponse:
    """`templates/edit_page.html`; a post with errors answers 400, so a script sees the refusal."""
    status = 400 if bound.is_bound and bound.errors else 200
    context = {
        "bound": bound,
        "title": title,
        "back": back,
        "parent_url": parent_url,
        "parent_label": parent_label,
    }
    return render(request, "edit_page.html", context, status=status)
