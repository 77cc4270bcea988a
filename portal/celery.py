import os

from celery import Celery

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "portal.settings")

app = Celery("leadbridge")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks(["leads.routing", "scoring"])
