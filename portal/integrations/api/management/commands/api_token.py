from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand, CommandError

from portal.integrations.api.services import token_create


class Command(BaseCommand):
    help = (
        "Make a personal API token for a user and print it (once). People make their own on "
        "their profile page; this is for scripts, set-ups and the docs' quickstart."
    )

    def add_arguments(self, parser):
        parser.add_argument("username")
        parser.add_argument("--name", default="command line", help="What the token is for.")
        parser.add_argument("--read-only", action="store_true")

    def handle(self, *args, username: str, name: str, read_only: bool, **options):
        user = get_user_model().objects.filter(username=username, is_active=True).first()
        if user is None:
            raise CommandError(f"No active user called {username!r}.")
        _token, raw = token_create(user=user, name=name, read_only=read_only)
        self.stdout.write(raw)
