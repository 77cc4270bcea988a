"""Container health probe for the web service: exit 0 only when /healthz/ answers 200.

The slim image has no curl. The request goes to 127.0.0.1, so ALLOWED_HOSTS must include
127.0.0.1; otherwise Django answers 400 and the container is reported unhealthy. It is plain
http: the settings exempt /healthz/ from SECURE_SSL_REDIRECT, which is on by default.
"""

import os
import sys
import urllib.request

URL = os.environ.get("HEALTHCHECK_URL", "http://127.0.0.1:8000/healthz/")

try:
    with urllib.request.urlopen(URL, timeout=4) as response:  # noqa: S310 - our own http URL
        sys.exit(0 if response.status == 200 else 1)
except Exception as error:
    print(f"healthcheck {URL}: {error}", file=sys.stderr)
    sys.exit(1)
