"""The product's settings plus the bench-only app and URLs. Used only by bench/ scripts.

`BENCH_DEFENCES=off` (bench-only; the product has no such switch) serves the intake without
issue 7's defences, for the figure they are compared with: no rate limit (no counting, no
flush thread), no fill-time check, and no spam checks, so nothing is quarantined (`bench.apps`).
"""

import os

from django.core.exceptions import ImproperlyConfigured

from portal.settings import *  # noqa: F403

INSTALLED_APPS = [*INSTALLED_APPS, "bench"]  # noqa: F405
ROOT_URLCONF = "bench.urls"

DEFENCES = "BENCH_DEFENCES"
BENCH_DEFENCES = os.environ.get(DEFENCES, "on")
if BENCH_DEFENCES not in ("on", "off"):
    raise ImproperlyConfigured(f"{DEFENCES} is on or off, not {BENCH_DEFENCES!r}.")
if BENCH_DEFENCES == "off":
    RATE_LIMIT_REDIS_URL = ""
    SPAM_MIN_FILL_SECONDS = 0
