import pytest
from django.conf import settings


def pytest_collection_modifyitems(config, items):
    missing = {
        "postgres": (
            not settings.USING_POSTGRES,
            "PostgreSQL is not answering on 127.0.0.1:5432 and DATABASE_URL is not set",
        ),
        "redis": (
            not settings.USING_REDIS,
            "Redis is not answering on 127.0.0.1:6379 and CELERY_BROKER_URL is not set",
        ),
    }
    for item in items:
        for marker, (absent, reason) in missing.items():
            if absent and item.get_closest_marker(marker):
                item.add_marker(pytest.mark.skip(reason=f"needs {marker}: {reason}"))
