"""LeadBridge settings: one file, every value read from the environment.

The defaults are safe for a first local run: SQLite beside manage.py and Celery tasks run
in-process. Production sets DEBUG=false, which refuses to start without a real SECRET_KEY.
Every variable is listed in the README.
"""

from datetime import timedelta
from ipaddress import ip_network
from pathlib import Path

import environ
from celery.schedules import crontab
from csp import constants as csp_constants
from django.core.exceptions import ImproperlyConfigured

BASE_DIR = Path(__file__).resolve().parent.parent

env = environ.Env()
environ.Env.read_env(BASE_DIR / ".env", overwrite=False)

DEBUG = env.bool("DEBUG", default=True)

_DEV_SECRET_KEY = "dev-only-insecure-key-never-use-in-production"  # noqa: S105
SECRET_KEY = env("SECRET_KEY", default=_DEV_SECRET_KEY)
if not DEBUG and SECRET_KEY in ("", _DEV_SECRET_KEY):
    raise ImproperlyConfigured("SECRET_KEY must be set when DEBUG is false.")

ALLOWED_HOSTS = env.list("ALLOWED_HOSTS", default=["localhost", "127.0.0.1", "[::1]"])
CSRF_TRUSTED_ORIGINS = env.list("CSRF_TRUSTED_ORIGINS", default=[])
# The reverse proxies (IPs or CIDRs) whose X-Forwarded-For is believed (portal/net.py). None
# by default: anyone can send that header, so the client is whoever opened the connection.
TRUSTED_PROXIES = [ip_network(cidr.strip()) for cidr in env.list("TRUSTED_PROXIES", default=[])]

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "whitenoise.runserver_nostatic",
    "django.contrib.staticfiles",
    "django.contrib.humanize",
    "rest_framework",
    "corsheaders",
    "crispy_forms",
    "crispy_bootstrap5",
    "django_htmx",
    "django_celery_beat",
    "axes",
    "csp",
    "portal.accounts",
    "portal.notifications",
    "portal.integrations.webhooks",
    "portal.health",
    "portal.dashboard",
    "portal.demo",
    "leads",
    "leads.capture",
    "scoring",
    "leads.routing",
    "leads.inbox",
    "leads.handoff",
    "django_filters",
    "drf_spectacular",
    "drf_spectacular_sidecar",
    "portal.integrations.api",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    # Pages and JSON go out compressed (static files come compressed from WhiteNoise already).
    # Django's GZip pads each response at random (its BREACH mitigation), and CSRF tokens are
    # masked per response.
    "django.middleware.gzip.GZipMiddleware",
    # Outside the rest, so error pages and refusals carry the policy too.
    "portal.csp.SitePolicyMiddleware",
    # Outside the error middleware, so refusals (field errors) reach the embedding page too.
    "corsheaders.middleware.CorsMiddleware",
    # Outside the rest, so it sees every response under /api/ (see portal/error_handlers.py).
    "portal.error_handlers.ErrorMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    # request.htmx: the inbox answers its own polling with the rows alone.
    "django_htmx.middleware.HtmxMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "portal.sessions.IdleSessionMiddleware",
    # Last, as django-axes asks: it turns a locked-out login into the lockout page.
    "axes.middleware.AxesMiddleware",
]

ROOT_URLCONF = "portal.urls"
WSGI_APPLICATION = "portal.wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "portal.accounts.context_processors.navigation",
                "portal.notifications.context_processors.bell",
            ],
        },
    },
]

DATABASES = {"default": env.db("DATABASE_URL", default=f"sqlite:///{BASE_DIR / 'db.sqlite3'}")}
# A new connection per request costs ten times the throughput of the intake path.
DATABASES["default"]["CONN_MAX_AGE"] = env.int("CONN_MAX_AGE", default=600)
DATABASES["default"]["CONN_HEALTH_CHECKS"] = True
if DATABASES["default"]["ENGINE"] == "django.db.backends.postgresql":
    # The same backend, with a health check that polls the socket instead of a SELECT 1.
    DATABASES["default"]["ENGINE"] = "portal.postgresql"
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"
AUTH_USER_MODEL = "accounts.User"

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
# django-axes first: it refuses a locked-out username+address before the password is checked.
AUTHENTICATION_BACKENDS = [
    "axes.backends.AxesStandaloneBackend",
    "django.contrib.auth.backends.ModelBackend",
]
LOGIN_URL = "login"
LOGIN_REDIRECT_URL = "home"
LOGOUT_REDIRECT_URL = "login"

LANGUAGE_CODE = "en-us"
TIME_ZONE = env("TIME_ZONE", default="UTC")
# The dashboard's figures (every panel for one set of filters) are computed once and kept
# this long in the cache below, for every viewer; the page's Refresh recomputes them.
DASHBOARD_FIGURES_SECONDS = env.int("DASHBOARD_FIGURES_SECONDS", default=60)
# Local memory is per process; in production a Redis (e.g. redis://host:6379/1), so every web
# process shares one copy of the dashboard's figures.
CACHES = {"default": env.cache_url("CACHE_URL", default="locmemcache://")}
# How often an open inbox asks for new assignments (htmx polling), in seconds.
INBOX_POLL_SECONDS = env.int("INBOX_POLL_SECONDS", default=20)
USE_I18N = True
USE_TZ = True

STATIC_URL = "static/"
STATIC_ROOT = env.path("STATIC_ROOT", default=BASE_DIR / "staticfiles")
STATICFILES_DIRS = [BASE_DIR / "static"]
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {
        "BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"
        if DEBUG
        else "whitenoise.storage.CompressedManifestStaticFilesStorage"
    },
}

EMAIL_BACKEND = env(
    "EMAIL_BACKEND",
    default="django.core.mail.backends.console.EmailBackend"
    if DEBUG
    else "django.core.mail.backends.smtp.EmailBackend",
)
EMAIL_HOST = env("EMAIL_HOST", default="localhost")
EMAIL_PORT = env.int("EMAIL_PORT", default=25)
EMAIL_HOST_USER = env("EMAIL_HOST_USER", default="")
EMAIL_HOST_PASSWORD = env("EMAIL_HOST_PASSWORD", default="")
EMAIL_USE_TLS = env.bool("EMAIL_USE_TLS", default=False)
DEFAULT_FROM_EMAIL = env("DEFAULT_FROM_EMAIL", default="LeadBridge <leadbridge@localhost>")
# Seconds an SMTP connect or reply may take: a stalled server fails the send, which is retried.
EMAIL_TIMEOUT = env.int("EMAIL_TIMEOUT", default=10)
# Where the portal is reached, for the links in e-mails (portal/notifications).
LEADBRIDGE_SITE_URL = env("SITE_URL", default="http://127.0.0.1:8000")
# The daily digest of notifications goes at this hour of TIME_ZONE.
LEADBRIDGE_DIGEST_HOUR = env.int("NOTIFICATION_DIGEST_HOUR", default=8)
if not 0 <= LEADBRIDGE_DIGEST_HOUR <= 23:
    raise ImproperlyConfigured("NOTIFICATION_DIGEST_HOUR must be an hour, 0 to 23.")

if not DEBUG:
    SESSION_COOKIE_SECURE = env.bool("SESSION_COOKIE_SECURE", default=True)
    CSRF_COOKIE_SECURE = env.bool("CSRF_COOKIE_SECURE", default=True)
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
    SECURE_SSL_REDIRECT = env.bool("SECURE_SSL_REDIRECT", default=True)
    # Load balancers and container health checks probe over plain http and do not follow
    # redirects to https.
    SECURE_REDIRECT_EXEMPT = [r"^healthz/$"]
    SECURE_HSTS_SECONDS = env.int("SECURE_HSTS_SECONDS", default=60 * 60 * 24 * 365)
    SECURE_HSTS_INCLUDE_SUBDOMAINS = env.bool("SECURE_HSTS_INCLUDE_SUBDOMAINS", default=False)
    SECURE_HSTS_PRELOAD = env.bool("SECURE_HSTS_PRELOAD", default=False)
    # Subdomains and the browsers' preload list are decisions about the whole domain, which
    # other systems may share, and hard to undo: off unless the operator opts in (README).
    SILENCED_SYSTEM_CHECKS = ["security.W005", "security.W021"]

# Login throttling (django-axes). Failures are counted per username AND client address
# (portal/net.py, so TRUSTED_PROXIES applies): someone guessing a password from one address
# locks only that username from that address, never the user out everywhere. After
# LOGIN_FAILURE_LIMIT failures, that pair is refused (the lockout page, 429) until
# LOGIN_COOLOFF_MINUTES have passed since its last failed attempt; a success resets the count.
AXES_FAILURE_LIMIT = env.int("LOGIN_FAILURE_LIMIT", default=5)
AXES_COOLOFF_TIME = timedelta(minutes=env.float("LOGIN_COOLOFF_MINUTES", default=15))
AXES_LOCKOUT_PARAMETERS = [["username", "ip_address"]]
AXES_CLIENT_IP_CALLABLE = "portal.net.client_ip"
AXES_RESET_ON_SUCCESS = True
AXES_RESET_COOL_OFF_ON_FAILURE_DURING_LOCKOUT = True
AXES_LOCKOUT_CALLABLE = "portal.accounts.views.locked_out"
# Every successful login would be a row in axes' access log: the auth log is enough.
AXES_DISABLE_ACCESS_LOG = True

# Sessions end after SESSION_IDLE_SECONDS without a request (8 hours by default). Rather than
# a session write on every request (SESSION_SAVE_EVERY_REQUEST), a signed-in user's session is
# saved, with a fresh expiry, at most once per SESSION_REFRESH_SECONDS (portal/sessions.py): the
# idle time is exact to within that.
SESSION_COOKIE_AGE = env.int("SESSION_IDLE_SECONDS", default=8 * 60 * 60)
SESSION_REFRESH_SECONDS = env.int("SESSION_REFRESH_SECONDS", default=60)

# Content-Security-Policy on every response (django-csp): scripts only from our own static
# files, never inline (no <script> body, no on* attribute, no javascript: address). Styles
# allow inline: crispy-forms, the progress and funnel bars (a width per row) and a form's
# brand colour use style attributes; a style cannot run code, and what is interpolated into
# them is autoescaped or validated. No page may be framed (frame-ancestors 'none', as
# X-Frame-Options: DENY) except a hosted form, by the sites it lists
# (leads/capture/builder/embedding.py). Images: ours, data: (Bootstrap's icons) and https (a form's
# logo). CSP_REPORT_URI, when set, is where browsers report violations.
CONTENT_SECURITY_POLICY = {
    "DIRECTIVES": {
        "default-src": [csp_constants.SELF],
        "script-src": [csp_constants.SELF],
        "style-src": [csp_constants.SELF, csp_constants.UNSAFE_INLINE],
        "img-src": [csp_constants.SELF, "data:", "https:"],
        "connect-src": [csp_constants.SELF],
        "object-src": [csp_constants.NONE],
        "base-uri": [csp_constants.SELF],
        "frame-ancestors": [csp_constants.NONE],
        "report-uri": env.list("CSP_REPORT_URI", default=[]) or None,
    },
}

# Celery. No broker configured means the tasks run in-process, right after the commit that
# started them, so a first run needs no Redis.
CELERY_BROKER_URL = env("CELERY_BROKER_URL", default=env("REDIS_URL", default=""))
CELERY_TASK_ALWAYS_EAGER = not CELERY_BROKER_URL
CELERY_TASK_EAGER_PROPAGATES = True
CELERY_TASK_ACKS_LATE = True
CELERY_TASK_REJECT_ON_WORKER_LOST = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
# Two queues, so bulk work (imports, re-scoring, exports) never delays a new lead. Every
# handoff task names its queue; workers listen on one or both (`celery worker --queues`).
CELERY_HANDOFF_QUEUE = env("CELERY_HANDOFF_QUEUE", default="handoff")
CELERY_BULK_QUEUE = env("CELERY_BULK_QUEUE", default="bulk")
CELERY_TASK_DEFAULT_QUEUE = CELERY_HANDOFF_QUEUE
# Notification e-mails; the bulk worker's queue unless a worker of their own listens on another.
CELERY_NOTIFY_QUEUE = env("CELERY_NOTIFY_QUEUE", default=CELERY_BULK_QUEUE)
# The longest a handoff task may run (hard limit, seconds); the soft limit comes 10 s before
# (or halfway, for a short limit).
CELERY_TASK_TIME_LIMIT = env.int("CELERY_TASK_TIME_LIMIT", default=60)
CELERY_TASK_SOFT_TIME_LIMIT = max(CELERY_TASK_TIME_LIMIT - 10, CELERY_TASK_TIME_LIMIT // 2)
# After an e-mail, what a user is told "at once" waits this long and goes in one message (a
# rep given 40 leads in a minute gets two e-mails, not 40). 0: a message per change. The
# wait is a Celery countdown, so it is 0 without a broker (tasks in-process), and it must
# stay under the broker's visibility timeout (below), or the message is delivered twice.
LEADBRIDGE_EMAIL_QUIET_SECONDS = env.int(
    "NOTIFICATION_EMAIL_QUIET_SECONDS", default=60 if CELERY_BROKER_URL else 0
)
if not 0 <= LEADBRIDGE_EMAIL_QUIET_SECONDS < 2 * CELERY_TASK_TIME_LIMIT:
    raise ImproperlyConfigured(
        "NOTIFICATION_EMAIL_QUIET_SECONDS must be 0 or more and under twice "
        "CELERY_TASK_TIME_LIMIT (the broker's visibility timeout)."
    )
# Nothing on the request path waits for Redis: a publish gives up after ~50 ms and the stored
# submission waits for beat's next hand_off (leads/handoff/outbox.py). Workers reconnect.
BROKER_TIMEOUT = env.float("BROKER_TIMEOUT", default=0.05)
CELERY_TASK_PUBLISH_RETRY = False
CELERY_BROKER_CONNECTION_TIMEOUT = BROKER_TIMEOUT
CELERY_BROKER_CONNECTION_RETRY_ON_STARTUP = True
# A worker (and beat) that lost Redis reconnects for as long as it takes: Celery's default
# gives up after 100 tries (~45 min of an outage) and the worker exits.
CELERY_BROKER_CONNECTION_RETRY = True
CELERY_BROKER_CONNECTION_MAX_RETRIES = None
# A hand_off running when Redis goes away finishes its batch (each commits whole); its message
# can no longer be acknowledged and comes back (visibility timeout) or beat's sweep stands in,
# and finds nothing due. Cancelling it (Celery 6's default) would kill the process mid-batch
# only to redo the batch.
CELERY_WORKER_CANCEL_LONG_RUNNING_TASKS_ON_CONNECTION_LOSS = False
CELERY_BROKER_TRANSPORT_OPTIONS = {
    "socket_connect_timeout": BROKER_TIMEOUT,
    "socket_timeout": BROKER_TIMEOUT,
    "max_retries": 0,
    # A message not acknowledged this long after delivery (its worker died) is delivered
    # again: twice the longest task (and over the longest retry countdown, 60 s), not an hour.
    "visibility_timeout": CELERY_TASK_TIME_LIMIT * 2,
}
CELERY_TIMEZONE = TIME_ZONE

# Spam defence on the public intake (leads/capture/intake/spam.py, ratelimit.py). Rate limits are
# counted in each process and shared through Redis (the broker's by default; none configured:
# no limits) by a thread every RATE_LIMIT_FLUSH_SECONDS; a post never waits for Redis. A flush
# waits at most RATE_LIMIT_TIMEOUT; Redis down: each process limits on its own counts.
RATE_LIMIT_REDIS_URL = env("RATE_LIMIT_REDIS_URL", default=CELERY_BROKER_URL)
RATE_LIMIT_PER_IP_PER_MINUTE = env.int("RATE_LIMIT_PER_IP_PER_MINUTE", default=20)
RATE_LIMIT_PER_FORM_PER_MINUTE = env.int("RATE_LIMIT_PER_FORM_PER_MINUTE", default=600)
RATE_LIMIT_TIMEOUT = env.float("RATE_LIMIT_TIMEOUT", default=BROKER_TIMEOUT)
RATE_LIMIT_BACKOFF_SECONDS = env.float("RATE_LIMIT_BACKOFF_SECONDS", default=5)
RATE_LIMIT_FLUSH_SECONDS = env.float("RATE_LIMIT_FLUSH_SECONDS", default=0.1)
# A post sent sooner than this after its form was shown (hosted page, embed) is quarantined.
SPAM_MIN_FILL_SECONDS = env.float("SPAM_MIN_FILL_SECONDS", default=3)
# A render token older than this is held too: one token cannot be replayed for ever.
SPAM_TOKEN_MAX_AGE_SECONDS = env.float("SPAM_TOKEN_MAX_AGE_SECONDS", default=2 * 60 * 60)
# /healthz/ and `pipeline_status` say "degraded" when no worker started a task from the
# handoff or the bulk queue for this long: beat sends one to each every SWEEP_EVERY_SECONDS.
LEADBRIDGE_WORKER_SEEN_WITHIN_SECONDS = env.int(
    "WORKER_SEEN_WITHIN_SECONDS", default=3 * env.int("SWEEP_EVERY_SECONDS", default=60)
)
CELERY_BEAT_SCHEDULER = "django_celery_beat.schedulers:DatabaseScheduler"
CELERY_BEAT_SCHEDULE = {
    # Beat wakes the handoff now and then, for work whose message was lost (Redis was down,
    # a publish timed out); a message per stored submission wakes it at once otherwise.
    "handoff-sweep": {
        "task": "handoff.hand_off",
        "schedule": env.int("SWEEP_EVERY_SECONDS", default=60),
    },
    "capture-sweep-imports": {
        "task": "capture.sweep_imports",
        "schedule": env.int("SWEEP_EVERY_SECONDS", default=60),
    },
    # The escalation ladder (reminders, breaches, reassignments) and nurture's return dates.
    "handoff-escalate": {
        "task": "handoff.escalate",
        "schedule": env.int("ESCALATE_EVERY_SECONDS", default=60),
    },
    # Re-scorings and clocks' recounts whose message was lost (scoring/resume.py).
    "scoring-resume-runs": {
        "task": "handoff.resume_stalled_runs",
        "schedule": env.int("SWEEP_EVERY_SECONDS", default=60),
    },
    "handoff-nurture-return": {
        "task": "handoff.nurture_return",
        "schedule": env.int("NURTURE_EVERY_SECONDS", default=900),
    },
    "notifications-digest": {
        "task": "notifications.send_digests",
        "schedule": crontab(minute=0, hour=LEADBRIDGE_DIGEST_HOUR),
    },
    # Webhook retries due, and deliveries whose message was lost (portal/integrations/webhooks).
    "webhooks-sweep": {
        "task": "webhooks.sweep",
        "schedule": env.int("SWEEP_EVERY_SECONDS", default=60),
    },
    "notifications-sweep": {
        "task": "notifications.sweep_emails",
        "schedule": env.int("SWEEP_EVERY_SECONDS", default=60),
    },
    # The dashboard's facts of the leads web actions and imports changed (the handoff worker
    # folds its own batches'); every reader folds first too (portal/dashboard/facts.py).
    "dashboard-fold-facts": {
        "task": "dashboard.fold_facts",
        "schedule": env.int("FACTS_FOLD_EVERY_SECONDS", default=5),
    },
}
# Webhooks (docs/webhooks.md): only https:// receivers unless WEBHOOKS_ALLOW_HTTP (on by
# default while DEBUG); private, loopback and link-local addresses refused unless in
# WEBHOOKS_ALLOWED_NETWORKS (CIDRs); a receiver has WEBHOOKS_TIMEOUT_SECONDS to answer; the
# retries wait these many seconds in turn (27.5 hours in all, as Svix), and an endpoint whose
# deliveries all failed for WEBHOOKS_DISABLE_AFTER_SECONDS is switched off when one gives up.
WEBHOOKS_REQUIRE_HTTPS = not env.bool("WEBHOOKS_ALLOW_HTTP", default=DEBUG)
WEBHOOKS_ALLOWED_NETWORKS = [
    ip_network(cidr.strip()) for cidr in env.list("WEBHOOKS_ALLOWED_NETWORKS", default=[])
]
WEBHOOKS_TIMEOUT_SECONDS = env.float("WEBHOOKS_TIMEOUT_SECONDS", default=5)
WEBHOOKS_RETRY_SCHEDULE = [
    int(seconds)
    for seconds in env.list(
        "WEBHOOKS_RETRY_SCHEDULE", default=["5", "300", "1800", "7200", "18000", "36000", "36000"]
    )
]
WEBHOOKS_DISABLE_AFTER_SECONDS = env.int("WEBHOOKS_DISABLE_AFTER_SECONDS", default=24 * 60 * 60)
# A retry due within this many seconds is published with a countdown; later ones, the sweeper's.
WEBHOOKS_COUNTDOWN_MAX_SECONDS = 60
# A worker process sends webhooks on one pool of this many threads, shared by its tasks, and
# keeps as many connections alive per receiver address (webhooks/sending.py, sender.py).
WEBHOOKS_SEND_THREADS = env.int("WEBHOOKS_SEND_THREADS", default=16)
# The handoff takes up to this many submissions (then leads) per transaction
# (leads/handoff/tasks.py). A batch that fails, or a lead no queue has room for, is tried
# again after HANDOFF_RETRY_SECONDS. A batch pair costs ~30 ms of CPU (worker and
# PostgreSQL) whatever its size, ~47 statements: at 250 that was a sixth of a lead's CPU
# in a backlog (docs/performance.md); a trickle's batches are small whatever this says.
LEADBRIDGE_HANDOFF_BATCH = env.int("HANDOFF_BATCH", default=500)
LEADBRIDGE_HANDOFF_RETRY_SECONDS = env.int("HANDOFF_RETRY_SECONDS", default=60)
# A re-scoring or clocks' recount that has not moved for RUN_RESUME_AFTER_SECONDS is sent
# again by beat's sweeper (longer than a task's time limit and the broker's visibility
# timeout, so a message merely waiting or redelivered is not taken for lost); one sent again
# RUN_RESUME_ATTEMPTS times without moving stops, marked failed with the reason.
LEADBRIDGE_RUN_RESUME_AFTER_SECONDS = env.int(
    "RUN_RESUME_AFTER_SECONDS", default=max(300, CELERY_TASK_TIME_LIMIT * 3)
)
LEADBRIDGE_RUN_RESUME_ATTEMPTS = env.int("RUN_RESUME_ATTEMPTS", default=3)
# The escalation step claims this many due leads per transaction (routing/escalation.py).
LEADBRIDGE_ESCALATION_BATCH = env.int("ESCALATION_BATCH", default=2000)
# A worker process starts `hand_off` runs at most this often, so a steady stream is taken in
# batches rather than a run per few leads (leads/handoff/tasks.py).
LEADBRIDGE_HANDOFF_PACE_SECONDS = env.float("HANDOFF_PACE_SECONDS", default=0.2)
# The worker keeps its database connection from task to task (a new connection cost more
# than a whole batch); Django's CONN_MAX_AGE and health checks still apply (portal/celery.py).
CELERY_DB_REUSE_MAX = env.int("CELERY_DB_REUSE_MAX", default=1000)
# Fold ann+promo@x.com onto ann@x.com when matching a submission to a lead. Off by default:
# switched on over a database that already holds +tagged leads, a new post would fold onto
# a different key than the stored lead's and make a second lead (see README).
LEADBRIDGE_FOLD_PLUS_ADDRESSES = env.bool("FOLD_PLUS_ADDRESSES", default=False)
# How long a web process serves a published form from memory before reading it again: the
# longest another process takes to see a publish or unpublish (leads/capture/selectors.py).
LEADBRIDGE_PUBLISHED_FORM_SECONDS = env.float("PUBLISHED_FORM_SECONDS", default=2.0)

# CORS only on the intake routes, and there only for the origins the form lists: no origin is
# allowed globally; leads.capture.builder.embedding answers django-cors-headers'
# check_request_enabled.
CORS_URLS_REGEX = r"^/(api/v1/forms/|submissions/v3/integration/submit/|uploads/form/v2/)"
CORS_ALLOWED_ORIGINS: list[str] = []
CORS_ALLOW_METHODS = ("GET", "POST", "OPTIONS")
CORS_ALLOW_HEADERS = ("accept", "content-type", "idempotency-key")

CRISPY_ALLOWED_TEMPLATE_PACKS = "bootstrap5"
CRISPY_TEMPLATE_PACK = "bootstrap5"

REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": ["rest_framework.authentication.SessionAuthentication"],
    "DEFAULT_PERMISSION_CLASSES": ["rest_framework.permissions.IsAuthenticated"],
    "DEFAULT_PAGINATION_CLASS": "rest_framework.pagination.PageNumberPagination",
    "PAGE_SIZE": 50,
    # JSON in, JSON out, and every refusal in the README's one error shape.
    "DEFAULT_PARSER_CLASSES": ["rest_framework.parsers.JSONParser"],
    "DEFAULT_RENDERER_CLASSES": ["rest_framework.renderers.JSONRenderer"],
    "EXCEPTION_HANDLER": "portal.error_handlers.api_exception_handler",
    "DEFAULT_SCHEMA_CLASS": "drf_spectacular.openapi.AutoSchema",
}
# The REST API's rate per token, per signed-in user or per address ("600/minute"), counted by
# the intake's limiter in Redis (RATE_LIMIT_REDIS_URL), shared by every web process.
API_RATE = env("API_RATE", default="600/minute")

# The REST API's OpenAPI schema (/api/schema/), read in Swagger UI (/api/docs/) and ReDoc
# (/api/redoc/), both served from our static files (drf-spectacular-sidecar), not a CDN.
SPECTACULAR_SETTINGS = {
    "TITLE": "LeadBridge API",
    "DESCRIPTION": "Leads, forms, submissions, agreements, queues, the events feed and the "
    "dashboard's figures. Authenticate with a personal token (`Authorization: Bearer lb_…`) "
    "made on your profile page, or the portal's session. Errors: docs/errors.md.",
    "VERSION": "1",
    "SERVE_INCLUDE_SCHEMA": False,
    "SCHEMA_PATH_PREFIX": "/api/v1",
    "PREPROCESSING_HOOKS": ["portal.integrations.api.schema.only_v1"],
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
    "COMPONENT_SPLIT_REQUEST": True,
    "ENUM_NAME_OVERRIDES": {"Stage": "leads.models.Stage"},
}

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "filters": {"client_error": {"()": "portal.log_filters.ClientErrorWithoutTraceback"}},
    "handlers": {"console": {"class": "logging.StreamHandler"}},
    "root": {"handlers": ["console"], "level": env("LOG_LEVEL", default="INFO")},
    "loggers": {
        # Django's own console handler (DEBUG) and mail_admins would print every record a
        # second time: everything goes to the root's one handler.
        "django": {"handlers": [], "level": "INFO", "propagate": True},
        # A 403 or 400 is one line (method, path, status), without a traceback.
        "django.request": {"filters": ["client_error"]},
        "django.security": {"filters": ["client_error"]},
        "django.db.backends": {"level": "WARNING"},
        "celery.app.trace": {"level": "WARNING"},
    },
}
