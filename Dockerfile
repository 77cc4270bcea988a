# syntax=docker/dockerfile:1
# LeadBridge production image: one image for web (gunicorn), worker and beat (celery).
# The settings read everything from the environment; see docker-compose.yml for the set.
FROM python:3.11-slim

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1 \
    VIRTUAL_ENV=/opt/venv \
    PATH=/opt/venv/bin:$PATH

# A real home: gunicorn (>= 25.1) puts its control socket in ~/.gunicorn/ by default.
RUN groupadd --system leadbridge \
    && useradd --system --gid leadbridge --create-home --home-dir /home/leadbridge \
       --shell /usr/sbin/nologin leadbridge \
    && python -m venv /opt/venv

WORKDIR /app

# Dependencies first, read from pyproject.toml, so a code change does not reinstall them.
COPY pyproject.toml ./
RUN python -c "import tomllib; print('\n'.join(tomllib.load(open('pyproject.toml', 'rb'))['project']['dependencies']))" \
       > /tmp/requirements.txt \
    && pip install -r /tmp/requirements.txt \
    && rm /tmp/requirements.txt

COPY . .
# Editable, so /app is the only copy of the code: settings find templates/ and static/
# beside manage.py (BASE_DIR), which a site-packages install would not carry.
RUN pip install --no-deps -e .

# The manifest storage (DEBUG=false) needs the hashed files at build time; the key is only
# there to get past the settings' production check and is never used at run time.
RUN DEBUG=false SECRET_KEY=collectstatic-build-only-not-a-secret \
    python manage.py collectstatic --noinput

# The code and the collected files stay owned by root: the app only reads them.
USER leadbridge

EXPOSE 8000
# ALLOWED_HOSTS must accept 127.0.0.1 for this probe to get a 200 (see docker/healthcheck.py).
HEALTHCHECK --interval=30s --timeout=5s --start-period=20s --retries=3 \
    CMD ["python", "/app/docker/healthcheck.py"]

# WEB_CONCURRENCY sets the number of gunicorn workers (gunicorn reads it itself).
CMD ["gunicorn", "portal.wsgi:application", \
     "--bind", "0.0.0.0:8000", \
     "--worker-tmp-dir", "/dev/shm", \
     "--access-logfile", "-"]
