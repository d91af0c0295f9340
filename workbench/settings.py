"""Settings, read from the environment (and an optional `.env` file).

Two configurations share this file: the embedded default (DEBUG, SQLite, a Celery
broker on the local filesystem, no servers to install) and production (PostgreSQL,
Redis or RabbitMQ, any number of web and worker processes). `.env.example` documents
every variable.
"""

from __future__ import annotations

import os
from pathlib import Path

import django_stubs_ext
import environ
from django.core.exceptions import ImproperlyConfigured

# Lets generic Django classes be subscripted at run time, as the type stubs allow.
django_stubs_ext.monkeypatch()

BASE_DIR = Path(__file__).resolve().parent.parent
VAR_DIR = BASE_DIR / "var"

env = environ.Env()
environ.Env.read_env(BASE_DIR / ".env", overwrite=False)


def env_secret(name: str, *, debug_default: str | None, debug: bool) -> str:
    """A secret from NAME or from the file NAME_FILE names; no default outside DEBUG."""
    file_name = env.str(f"{name}_FILE", default="")
    if file_name:
        return Path(file_name).read_text().strip()
    value: str = env.str(name, default="")
    if value:
        return value
    if debug and debug_default is not None:
        return debug_default
    raise ImproperlyConfigured(
        f"Set {name} (or {name}_FILE): it has no default outside DEBUG."
    )


DEBUG = env.bool("DEBUG", default=False)
SECRET_KEY = env_secret(
    "SECRET_KEY", debug_default="insecure-debug-only-key-change-me", debug=DEBUG
)
ALLOWED_HOSTS = env.list(
    "ALLOWED_HOSTS",
    default=["localhost", "127.0.0.1", "[::1]", "testserver"] if DEBUG else [],
)
CSRF_TRUSTED_ORIGINS = env.list("CSRF_TRUSTED_ORIGINS", default=[])

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "django.contrib.humanize",
    "django_htmx",
    "template_partials",
    "workbench.core",
    "workbench.accounts",
    "workbench.deliberation",
    "workbench.analysis",
    "workbench.judging",
    "workbench.cards",
    "rest_framework",
    "drf_spectacular",
    "drf_spectacular_sidecar",
    "workbench.api",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.locale.LocaleMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "django_htmx.middleware.HtmxMiddleware",
    # Last, so its process_exception sees a view's error first: an unreachable
    # database or broker becomes a 503 with a retry message (core/middleware.py).
    "workbench.core.middleware.ServiceUnavailableMiddleware",
]

ROOT_URLCONF = "workbench.urls"
WSGI_APPLICATION = "workbench.wsgi.application"

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
                "django.template.context_processors.i18n",
                "workbench.deliberation.context_processors.live",
            ],
        },
    },
]

DATABASES = {
    "default": env.db(
        "DATABASE_URL", default=f"sqlite:///{VAR_DIR / 'workbench.sqlite3'}"
    )
}
DATABASES["default"].setdefault("CONN_MAX_AGE", env.int("CONN_MAX_AGE", default=60))
DATABASES["default"]["CONN_HEALTH_CHECKS"] = True
if DATABASES["default"]["ENGINE"] == "django.db.backends.postgresql":
    # Server-side binding plus a prepare threshold let psycopg prepare the statements
    # requests repeat (the vote path runs the same few statements hundreds of times a
    # second), so PostgreSQL parses and plans them once per connection. Behind
    # PgBouncer in transaction mode, set DATABASE_PREPARE_THRESHOLD= (empty) to disable.
    _threshold = env.str("DATABASE_PREPARE_THRESHOLD", default="5")
    DATABASES["default"].setdefault("OPTIONS", {}).update(
        {
            "server_side_binding": bool(_threshold),
            "prepare_threshold": int(_threshold) if _threshold else None,
        }
    )
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    # WAL and a busy timeout let the web server and the worker share the file.
    DATABASES["default"]["CONN_MAX_AGE"] = 0
    DATABASES["default"].setdefault("OPTIONS", {}).update(
        {"timeout": 20, "init_command": "PRAGMA journal_mode=WAL;"}
    )

DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"
AUTH_USER_MODEL = "accounts.User"
LOGIN_URL = "accounts:login"
LOGIN_REDIRECT_URL = "deliberation:workshop-list"
LOGOUT_REDIRECT_URL = "accounts:login"

_VALIDATORS = "django.contrib.auth.password_validation"
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": f"{_VALIDATORS}.UserAttributeSimilarityValidator"},
    {"NAME": f"{_VALIDATORS}.MinimumLengthValidator"},
    {"NAME": f"{_VALIDATORS}.CommonPasswordValidator"},
    {"NAME": f"{_VALIDATORS}.NumericPasswordValidator"},
]
PASSWORD_HASHERS = env.list(
    "PASSWORD_HASHERS",
    default=[
        "django.contrib.auth.hashers.PBKDF2PasswordHasher",
        "django.contrib.auth.hashers.PBKDF2SHA1PasswordHasher",
    ],
)

LANGUAGE_CODE = "en"
# The interface languages; the switcher names each in its own language.
LANGUAGES = [
    ("en", "English"),
    ("es", "Español"),
    ("de", "Deutsch"),
]
LOCALE_PATHS = [BASE_DIR / "locale"]
TIME_ZONE = env.str("TIME_ZONE", default="UTC")
USE_I18N = True
USE_TZ = True

STATIC_URL = "static/"
STATICFILES_DIRS = [BASE_DIR / "static"]
STATIC_ROOT = env.path("STATIC_ROOT", default=VAR_DIR / "staticfiles")
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {
        "BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"
        if DEBUG
        else "whitenoise.storage.CompressedManifestStaticFilesStorage"
    },
}
WHITENOISE_USE_FINDERS = DEBUG
MEDIA_ROOT = env.path("MEDIA_ROOT", default=VAR_DIR / "media")

CACHES = {"default": env.cache("CACHE_URL", default="locmemcache://")}

# Security: secure by default, relaxed only for local DEBUG use.
SECURE = env.bool("SECURE", default=not DEBUG)
SESSION_COOKIE_SECURE = SECURE
CSRF_COOKIE_SECURE = SECURE
SECURE_SSL_REDIRECT = env.bool("SECURE_SSL_REDIRECT", default=SECURE)
SECURE_HSTS_SECONDS = env.int("SECURE_HSTS_SECONDS", default=31536000 if SECURE else 0)
SECURE_HSTS_INCLUDE_SUBDOMAINS = SECURE
SECURE_HSTS_PRELOAD = SECURE
SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
SESSION_COOKIE_HTTPONLY = True
X_FRAME_OPTIONS = "DENY"

# Celery: the embedded default keeps the broker in files under var/, so a laptop
# needs no broker server; production points CELERY_BROKER_URL at Redis or RabbitMQ.
CELERY_BROKER_URL = env.str("CELERY_BROKER_URL", default="filesystem://")
CELERY_BROKER_TRANSPORT_OPTIONS = (
    {
        "data_folder_in": str(VAR_DIR / "broker"),
        "data_folder_out": str(VAR_DIR / "broker"),
        "processed_folder": str(VAR_DIR / "broker-processed"),
        "control_folder": str(VAR_DIR / "broker-control"),
        "store_processed": False,
    }
    if CELERY_BROKER_URL.startswith("filesystem")
    # Redis redelivers a task a dead worker never acknowledged after this many
    # seconds; it must stay above CELERY_TASK_TIME_LIMIT (a duplicate is harmless:
    # it finds the run locked and exits).
    else {"visibility_timeout": env.int("CELERY_VISIBILITY_TIMEOUT", default=3600)}
)
for _folder in CELERY_BROKER_TRANSPORT_OPTIONS.values():
    # The file-based broker (embedded default only) needs its folders before any
    # process enqueues: manage.py demo does, before the worker has started.
    if isinstance(_folder, str):
        Path(_folder).mkdir(parents=True, exist_ok=True)
CELERY_TASK_ALWAYS_EAGER = env.bool("CELERY_TASK_ALWAYS_EAGER", default=False)
CELERY_TASK_ACKS_LATE = True
CELERY_TASK_REJECT_ON_WORKER_LOST = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
CELERY_TASK_SOFT_TIME_LIMIT = env.int("CELERY_TASK_SOFT_TIME_LIMIT", default=300)
CELERY_TASK_TIME_LIMIT = env.int("CELERY_TASK_TIME_LIMIT", default=360)
CELERY_TASK_IGNORE_RESULT = True
CELERY_BROKER_CONNECTION_RETRY_ON_STARTUP = True

# Judges. Keys and base URLs are read from the environment by the adapter when a
# run starts (OPENAI_API_KEY, ANTHROPIC_API_KEY, OPENAI_BASE_URL), never stored; a
# provider is offered only when its key or base URL is set. Concurrency caps the
# calls in flight per run; requests per minute is a per-provider budget shared by
# every worker process through the cache (0: no limit).
_JUDGE_PROVIDERS = ("openai", "anthropic", "openai-compatible")
JUDGE_CONCURRENCY = {
    name: env.int(f"JUDGE_CONCURRENCY_{name.upper().replace('-', '_')}", default=16)
    for name in _JUDGE_PROVIDERS
}
JUDGE_REQUESTS_PER_MINUTE = {
    name: env.int(f"JUDGE_RPM_{name.upper().replace('-', '_')}", default=0)
    for name in _JUDGE_PROVIDERS
}
JUDGE_RETRY = {
    "max_attempts": env.int("JUDGE_RETRY_MAX_ATTEMPTS", default=5),
    "base_delay": env.float("JUDGE_RETRY_BASE_DELAY", default=1.0),
    "max_delay": env.float("JUDGE_RETRY_MAX_DELAY", default=30.0),
    "request_timeout": env.float("JUDGE_REQUEST_TIMEOUT", default=30.0),
    "deadline": env.float("JUDGE_RETRY_DEADLINE", default=120.0),
}

# Value-card PDFs of many cards are laid out in this many forked processes at
# once (1: always in the rendering process). Default: one per CPU.
CARDS_PDF_PROCESSES = env.int("CARDS_PDF_PROCESSES", default=os.cpu_count() or 1)

# Participation limits (per participant).
WORKBENCH = {
    "PRINCIPLE_MAX_LENGTH": env.int("PRINCIPLE_MAX_LENGTH", default=280),
    "PROPOSALS_PER_HOUR": env.int("PROPOSALS_PER_HOUR", default=10),
    # Votes and comparison answers one participant may send in a minute (sliding);
    # past it the answer is refused (429). 0 turns the limit off.
    "VOTES_PER_MINUTE": env.int("VOTES_PER_MINUTE", default=120),
    # Wrong invite tokens one client may try in an hour before every join from it
    # is refused (429) for the rest of the hour; 0 turns the limit off.
    "JOIN_FAILURES_PER_HOUR": env.int("JOIN_FAILURES_PER_HOUR", default=50),
    # Reverse proxies in front of gunicorn that append the client's address to
    # X-Forwarded-For (docs/deploy.md has one); the limit above counts per client.
    "TRUSTED_PROXY_HOPS": env.int("TRUSTED_PROXY_HOPS", default=1),
    "NEAR_DUPLICATE_SCORE": env.float("NEAR_DUPLICATE_SCORE", default=85.0),
    "PARTICIPANT_COOKIE_MAX_AGE": env.int(
        "PARTICIPANT_COOKIE_MAX_AGE", default=60 * 60 * 24 * 180
    ),
    # Import files past these sizes are refused before they are read.
    "POLIS_MAX_BYTES": env.int("POLIS_MAX_BYTES", default=50 * 1024 * 1024),
    "COMPARISON_MAX_BYTES": env.int("COMPARISON_MAX_BYTES", default=50 * 1024 * 1024),
    "POLIS_DATA_DIR": env.path(
        "POLIS_DATA_DIR", default=BASE_DIR.parent / "shared" / "data" / "polis"
    ),
    # How often the facilitator's live panel and the room's presentation poll, and
    # how often a participant's page checks whether its round opened or closed.
    "LIVE_POLL_SECONDS": env.int("LIVE_POLL_SECONDS", default=5),
    "ROUND_STATUS_POLL_SECONDS": env.int("ROUND_STATUS_POLL_SECONDS", default=10),
}

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "handlers": {"console": {"class": "logging.StreamHandler"}},
    "root": {"handlers": ["console"], "level": env.str("LOG_LEVEL", default="INFO")},
    # WeasyPrint logs every layout step of every PDF at INFO, pikepdf that its
    # logger is ready.
    "loggers": {
        "weasyprint.progress": {"level": "WARNING"},
        "pikepdf": {"level": "WARNING"},
    },
}

# The researcher API (/api/v1/): hashed personal tokens for scripts, the session for
# the browser (DRF enforces CSRF on unsafe methods), one error body for every error.
REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": [
        "workbench.api.authentication.ApiTokenAuthentication",
        "rest_framework.authentication.SessionAuthentication",
    ],
    "DEFAULT_PERMISSION_CLASSES": ["rest_framework.permissions.IsAuthenticated"],
    "DEFAULT_RENDERER_CLASSES": [
        "rest_framework.renderers.JSONRenderer",
        "rest_framework.renderers.BrowsableAPIRenderer",
    ],
    "DEFAULT_PAGINATION_CLASS": "workbench.api.pagination.PageNumberPagination",
    "PAGE_SIZE": 100,
    "DEFAULT_SCHEMA_CLASS": "workbench.api.schema.ApiSchema",
    "EXCEPTION_HANDLER": "workbench.api.exceptions.api_exception_handler",
    "DEFAULT_THROTTLE_CLASSES": ["workbench.api.throttling.TokenRateThrottle"],
    "DEFAULT_THROTTLE_RATES": {"token": env.str("API_TOKEN_RATE", default="5000/hour")},
}
SPECTACULAR_SETTINGS = {
    "TITLE": "Workbench API",
    "DESCRIPTION": "Read a workshop's complete record; create workshops, groups, "
    "rounds and seed principles; start judge runs; fetch value cards.",
    "VERSION": "1",
    "SERVE_INCLUDE_SCHEMA": False,
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
    "COMPONENT_SPLIT_REQUEST": True,
    "SCHEMA_PATH_PREFIX": "/api/v1",
    "ENUM_NAME_OVERRIDES": {
        "VoteChoiceEnum": "workbench.deliberation.models.VoteChoice",
        "LabelEnum": "workbench.judging.models.Label",
        "OrderEnum": "workbench.judging.models.Order",
    },
}
