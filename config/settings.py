"""Counterpoint settings: one file, everything read from the environment.

Unset variables fall back to the embedded defaults (SQLite in WAL mode, kombu's filesystem
broker under ``var/``), so a fresh checkout runs with no services installed. Setting
``DATABASE_URL`` and ``REDIS_URL`` moves the same code onto PostgreSQL and Redis.
"""

import secrets
from pathlib import Path

import environ

BASE_DIR = Path(__file__).resolve().parent.parent
env = environ.Env()

VAR_DIR = Path(env.str("COUNTERPOINT_VAR_DIR", default=str(BASE_DIR / "var")))
VAR_DIR.mkdir(parents=True, exist_ok=True)


def _embedded_secret(name: str) -> str:
    """A random secret generated once and kept in var/, for runs that did not set one."""
    path = VAR_DIR / name
    if not path.exists():
        path.write_text(secrets.token_urlsafe(50))
        path.chmod(0o600)
    return path.read_text().strip()


DEBUG = env.bool("DEBUG", default=False)
SECRET_KEY = env.str("SECRET_KEY", default="") or _embedded_secret("secret_key")
# Keys the hash of an annotator's external id (Prolific PID); rotating it unlinks returning
# annotators from their earlier pseudonyms, so it is separate from SECRET_KEY.
PSEUDONYM_KEY = env.str("PSEUDONYM_KEY", default="") or _embedded_secret("pseudonym_key")
ALLOWED_HOSTS = env.list("ALLOWED_HOSTS", default=["localhost", "127.0.0.1", "[::1]"])
CSRF_TRUSTED_ORIGINS = env.list("CSRF_TRUSTED_ORIGINS", default=[])
SITE_URL = env.str("SITE_URL", default="http://127.0.0.1:8000")

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "whitenoise.runserver_nostatic",
    "django.contrib.staticfiles",
    "rest_framework",
    "drf_spectacular",
    "drf_spectacular_sidecar",
    "axes",
    "interventions",
    "annotators",
    "collection",
    "analysis",
    "simulation",
    "audit",
]

MIDDLEWARE = [
    "config.request_id.RequestIdMiddleware",
    "config.metrics.MetricsMiddleware",
    "config.load_shedding.LoadSheddingMiddleware",
    "config.body_limit.RequestBodyLimitMiddleware",
    "config.db_unavailable.DatabaseUnavailableMiddleware",
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "config.staff_sessions.StaffIdleTimeoutMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "csp.middleware.CSPMiddleware",
    # Last, as django-axes requires: it turns a locked-out login into its 429 answer.
    "axes.middleware.AxesMiddleware",
]

AUTHENTICATION_BACKENDS = [
    "axes.backends.AxesStandaloneBackend",
    "django.contrib.auth.backends.ModelBackend",
]
# Trusted reverse proxies in front of the app (0: clients connect directly). Rate limits
# and the login lockout read the client's address through them (config/client_address.py).
NUM_PROXIES = env.int("NUM_PROXIES", default=0)
# Admin sign-in: after AXES_FAILURE_LIMIT wrong passwords for one username from one
# address, that pair is locked out (429) for AXES_COOLOFF_TIME hours.
AXES_FAILURE_LIMIT = env.int("AXES_FAILURE_LIMIT", default=10)
AXES_COOLOFF_TIME = env.float("AXES_COOLOFF_HOURS", default=0.25)
AXES_LOCKOUT_PARAMETERS = [["username", "ip_address"]]
AXES_RESET_ON_SUCCESS = True
AXES_CLIENT_IP_CALLABLE = "config.client_address.client_address"
AXES_VERBOSE = False
AXES_LOCKOUT_CALLABLE = "config.login_lockout.lockout_response"
# Annotators: new sessions per client address a minute, labels per enrollment (429 with
# Retry-After beyond them).
ENTRY_RATE_PER_MINUTE = env.int("ENTRY_RATE_PER_MINUTE", default=60)
LABEL_RATE = env.str("LABEL_RATE", default="120/min")
# A request that waited longer than this for a gunicorn thread is answered 503 at once
# (config.load_shedding); 0 turns shedding off.
SHED_QUEUE_SECONDS = env.float("SHED_QUEUE_SECONDS", default=1.0)

ROOT_URLCONF = "config.urls"
WSGI_APPLICATION = "config.wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "config" / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
            ],
        },
    },
]

DATABASES = {
    "default": env.db("DATABASE_URL", default=f"sqlite:///{VAR_DIR / 'counterpoint.sqlite3'}")
}
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    DATABASES["default"]["OPTIONS"] = {
        # WAL lets the web server and the worker read while the other writes; IMMEDIATE
        # takes the write lock at BEGIN so concurrent writers queue instead of deadlocking.
        "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;",
        "transaction_mode": "IMMEDIATE",
        "timeout": 20,
    }
else:
    DATABASES["default"]["CONN_MAX_AGE"] = env.int("CONN_MAX_AGE", default=60)
    DATABASES["default"]["CONN_HEALTH_CHECKS"] = True
# The annotator hot path runs its statements prepared on PostgreSQL (SQL PREPARE, once
# per connection: collection.engine_sql). Turn it off behind a pooler in transaction
# mode, which hands each transaction any server connection.
DB_PREPARED_STATEMENTS = env.bool("DB_PREPARED_STATEMENTS", default=True)

DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]

LANGUAGE_CODE = "en-gb"
TIME_ZONE = "UTC"
USE_I18N = True
USE_TZ = True

STATIC_URL = "static/"
STATIC_ROOT = VAR_DIR / "static"
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "whitenoise.storage.CompressedManifestStaticFilesStorage"},
}
if DEBUG:
    STORAGES["staticfiles"] = {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"}
WHITENOISE_USE_FINDERS = DEBUG

# The largest request body accepted at all (an admin import of a big file), in bytes.
REQUEST_MAX_BYTES = env.int("REQUEST_MAX_BYTES", default=64_000_000)
DATA_UPLOAD_MAX_MEMORY_SIZE = env.int("DATA_UPLOAD_MAX_MEMORY_SIZE", default=2_621_440)
FILE_UPLOAD_MAX_MEMORY_SIZE = DATA_UPLOAD_MAX_MEMORY_SIZE
# Imports of prompts and responses are read in memory; larger files go through the
# management command.
IMPORT_MAX_BYTES = env.int("IMPORT_MAX_BYTES", default=50 * 1024 * 1024)

# Security headers; the HTTPS-only ones are switched on by SECURE_SSL=true behind TLS.
SECURE_SSL = env.bool("SECURE_SSL", default=False)
SECURE_SSL_REDIRECT = SECURE_SSL
SESSION_COOKIE_SECURE = SECURE_SSL
CSRF_COOKIE_SECURE = SECURE_SSL
SECURE_HSTS_SECONDS = 31_536_000 if SECURE_SSL else 0
SECURE_HSTS_INCLUDE_SUBDOMAINS = SECURE_SSL
SECURE_HSTS_PRELOAD = SECURE_SSL
SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https") if SECURE_SSL else None
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
X_FRAME_OPTIONS = "DENY"
SESSION_COOKIE_HTTPONLY = True
# Sessions end 12 hours after sign-in whatever happens, a researcher's after 30 idle
# minutes (config.staff_sessions).
SESSION_COOKIE_AGE = env.int("SESSION_COOKIE_AGE", default=12 * 3600)
STAFF_IDLE_SECONDS = env.int("STAFF_IDLE_SECONDS", default=30 * 60)

# Model answers are untrusted text: even after sanitising, the pages run no inline script.
CONTENT_SECURITY_POLICY = {
    "DIRECTIVES": {
        "default-src": ["'self'"],
        "script-src": ["'self'"],
        "style-src": ["'self'"],
        "img-src": ["'self'", "data:"],
        "object-src": ["'none'"],
        "base-uri": ["'none'"],
        "frame-ancestors": ["'none'"],
        "form-action": ["'self'"],
    }
}

REDIS_URL = env.str("REDIS_URL", default="")
BROKER_DIR = VAR_DIR / "broker"
# Sessions live in the database only: nothing a participant's request needs may depend on
# Redis, so entry, consent and the questionnaire go on through a Redis outage.
SESSION_ENGINE = "django.contrib.sessions.backends.db"
if REDIS_URL:
    CELERY_BROKER_URL = REDIS_URL
    # A message whose worker died before acknowledging it (acks_late) comes back after
    # this long: just past the longest a task may run (CELERY_TASK_TIME_LIMIT, 600 s), so
    # no live task is run twice and a dead one's work resumes within 11 minutes. (Missed
    # refreshes are caught sooner by the minute sweep.)
    CELERY_BROKER_TRANSPORT_OPTIONS: dict[str, object] = {"visibility_timeout": 660}
    # The cache holds only rate-limit counters, which let requests through when Redis is
    # down (collection/throttles.py); short timeouts keep an outage from stalling pages.
    CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.redis.RedisCache",
            "LOCATION": REDIS_URL,
            "OPTIONS": {"socket_connect_timeout": 0.5, "socket_timeout": 0.5},
        }
    }
else:
    # The embedded broker: kombu's filesystem transport, consumed by a real worker
    # process. There is no inline (eager) fallback.
    BROKER_DIR.mkdir(parents=True, exist_ok=True)
    CELERY_BROKER_URL = "filesystem://localhost//"
    CELERY_BROKER_TRANSPORT_OPTIONS = {
        "data_folder_in": str(BROKER_DIR),
        "data_folder_out": str(BROKER_DIR),
        "control_folder": str(BROKER_DIR / "control"),
    }
CELERY_TASK_DEFAULT_QUEUE = env.str("CELERY_QUEUE", default="counterpoint")
CELERY_TASK_IGNORE_RESULT = True
CELERY_TASK_ACKS_LATE = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
CELERY_BROKER_CONNECTION_RETRY_ON_STARTUP = True
# A label commit must never hang on a dead broker: fail fast, log, and let the sweep
# pick up the missed refresh.
CELERY_BROKER_CONNECTION_TIMEOUT = 2
CELERY_TASK_PUBLISH_RETRY_POLICY = {"max_retries": 2, "interval_start": 0.1, "interval_step": 0.2}
# Periodic tasks, run by `celery worker --beat` (the demo) or a separate `celery beat`.
# Each app adds its entries here: task name -> schedule in seconds.
CELERY_BEAT_SCHEDULE: dict[str, dict[str, object]] = {
    # Labels whose refresh was never enqueued (broker down at commit) are picked up here.
    "analysis-refresh-sweep": {
        "task": "analysis.refresh_sweep",
        "schedule": env.float("ANALYSIS_SWEEP_SECONDS", default=60.0),
    },
    # Rebuild every study's sums from its labels, log any drift and repair it.
    "analysis-rebuild-all": {
        "task": "analysis.rebuild_all",
        "schedule": env.float("ANALYSIS_REBUILD_SECONDS", default=3600.0),
    },
    # Return abandoned assignments to the pool (collection.tasks.assignments_expire).
    "collection-assignments-expire": {
        "task": "collection.assignments_expire",
        "schedule": env.float("ASSIGNMENT_EXPIRE_SECONDS", default=60.0),
    },
    # Webhook deliveries left idle (queued in a broker outage, or a retry lost with its
    # worker) are queued again (collection.tasks.webhooks_requeue).
    "collection-webhooks-requeue": {
        "task": "collection.webhooks_requeue",
        "schedule": env.float("WEBHOOK_SWEEP_SECONDS", default=300.0),
    },
}
# A pending delivery untouched this long is queued again (longer than its retries take).
WEBHOOK_IDLE_SECONDS = env.float("WEBHOOK_IDLE_SECONDS", default=900.0)
CELERY_BEAT_SCHEDULE_FILENAME = str(VAR_DIR / "celerybeat-schedule")
CELERY_TASK_TIME_LIMIT = 600
CELERY_TASK_SOFT_TIME_LIMIT = 540

# LLM rewrite backend (interventions.llm): any OpenAI-compatible chat-completions endpoint.
# Empty by default: no request leaves the machine unless a researcher configures one.
LLM_BASE_URL = env.str("LLM_BASE_URL", default="")
LLM_MODEL = env.str("LLM_MODEL", default="")
LLM_API_KEY = env.str("LLM_API_KEY", default="")
LLM_TIMEOUT = env.float("LLM_TIMEOUT", default=30.0)
LLM_MAX_RETRIES = env.int("LLM_MAX_RETRIES", default=3)
LLM_BACKOFF = env.float("LLM_BACKOFF", default=1.0)
LLM_REQUESTS_PER_SECOND = env.float("LLM_REQUESTS_PER_SECOND", default=2.0)

EMAIL_BACKEND = env.str("EMAIL_BACKEND", default="django.core.mail.backends.console.EmailBackend")
DEFAULT_FROM_EMAIL = env.str("DEFAULT_FROM_EMAIL", default="counterpoint@localhost")

REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": ["rest_framework.authentication.SessionAuthentication"],
    "DEFAULT_PERMISSION_CLASSES": ["rest_framework.permissions.IsAuthenticated"],
    "DEFAULT_SCHEMA_CLASS": "drf_spectacular.openapi.AutoSchema",
    "DEFAULT_RENDERER_CLASSES": ["rest_framework.renderers.JSONRenderer"],
    # The researcher API (/api/v1/), per account or token's user.
    "DEFAULT_THROTTLE_RATES": {"researcher_api": env.str("API_RATE", default="1200/min")},
}
SPECTACULAR_SETTINGS = {
    "POSTPROCESSING_HOOKS": [
        "drf_spectacular.hooks.postprocess_schema_enums",
        "collection.api_schema.closed_request_bodies",
        "collection.api_schema.researcher_api_errors",
    ],
    # Two models' choices share values or a field name: one name each in the schema.
    "ENUM_NAME_OVERRIDES": {
        "LabelOrAnnotatorEnum": "collection.models.Study.Estimand",
        "EstimateEstimandEnum": "analysis.models.Estimate.Estimand",
    },
    "TITLE": "Counterpoint API",
    "DESCRIPTION": "Researcher API (/api/v1/, a Bearer token made in the admin): studies, "
    "participants, labels, stimulus sets, results and exports. Annotator API (/api/studies/, "
    "the enrollment cookie): fetch the next pair, submit a label.",
    "VERSION": "1",
    # Swagger UI from the project's own static files (drf-spectacular-sidecar).
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
}

# /metrics (config/metrics.py): a bearer token, or these client addresses.
METRICS_TOKEN = env.str("METRICS_TOKEN", default="")
METRICS_ALLOWED_IPS = env.list("METRICS_ALLOWED_IPS", default=["127.0.0.1", "::1"])

# LOG_FORMAT=json writes one JSON object per line (python-json-logger); every line of a
# request, and of the tasks it sends, carries its request id (config/request_id.py).
LOG_FORMAT = env.str("LOG_FORMAT", default="plain")
LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "filters": {"request_id": {"()": "config.request_id.RequestIdFilter"}},
    "formatters": {
        "plain": {"format": "%(asctime)s %(levelname)s %(name)s [%(request_id)s]: %(message)s"},
        "json": {
            "()": "pythonjsonlogger.json.JsonFormatter",
            "fmt": ["asctime", "levelname", "name", "request_id", "message"],
        },
    },
    "handlers": {
        "console": {
            "class": "logging.StreamHandler",
            "formatter": "json" if LOG_FORMAT == "json" else "plain",
            "filters": ["request_id"],
        }
    },
    "root": {"handlers": ["console"], "level": env.str("LOG_LEVEL", default="INFO")},
    # django-axes logs every sign-in attempt at INFO; lockouts come at WARNING.
    "loggers": {"axes": {"level": "WARNING"}},
}
