from datetime import date

from django.core.management.base import BaseCommand

from portal.dashboard.services import review_freeze


class Command(BaseCommand):
    help = "Freeze the handoff review of the two weeks ending --until (yesterday by default)."

    def add_arguments(self, parser):
        parser.add_argument("--until", type=date.fromisoformat, help="YYYY-MM-DD, included.")

    def handle(self, *args, until=None, **options):
        review = review_freeze(until=until)
        self.stdout.write(f"{review}: {review.get_absolute_url()}")
