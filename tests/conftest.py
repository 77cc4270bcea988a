import pytest
from django.conf import settings


def pytest_collection_modifyitems(config, items):
    engine = settings.DATABASES["default"]["ENGINE"].rsplit(".", 1)[-1]
    missing = {
        "postgres": (
            not settings.USING_POSTGRES,
            f"the tests run on {engine}; start PostgreSQL on 127.0.0.1:5432 "
            "or set DATABASE_URL to a PostgreSQL server",
        ),
        "redis": (
            not settings.USING_REDIS,
            "no Celery broker; start Redis on 127.0.0.1:6379 or set CELERY_BROKER_URL",
        ),
    }
    for item in items:
        for marker, (absent, reason) in missing.items():
            if absent and item.get_closest_marker(marker):
                item.add_marker(pytest.mark.skip(reason=f"needs {marker}: {reason}"))
