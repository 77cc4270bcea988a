from django.core.management.base import BaseCommand

from leads.models import Lead
from portal.demo.services import DEMO_PASSWORD, DEMO_USERS, demo_seed


class Command(BaseCommand):
    help = "Create the demo users, form, signed agreement, queues and a quarter of leads."

    def add_arguments(self, parser):
        parser.add_argument("--leads", type=int, default=300)
        parser.add_argument("--seed", type=int, default=7, help="Random seed, for repeatable data.")

    def handle(self, *args, leads: int, seed: int, **options):
        if Lead.objects.exists():
            self.stdout.write("Demo data is already there; nothing added.")
        else:
            summary = demo_seed(leads=leads, seed=seed)
            self.stdout.write(self.style.SUCCESS(f"Created {summary.leads} demo leads."))
        self.stdout.write(f"Demo logins (password {DEMO_PASSWORD!r}):")
        for username, _first, _last, role in DEMO_USERS:
            self.stdout.write(f"  {username:<18} {role.value}")
