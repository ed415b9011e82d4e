"""Settings. Everything that differs between a laptop and production comes from the environment.

Defaults are the embedded setup `make run` uses: SQLite and a server-less Celery broker (kombu's
filesystem transport), both under ``var/``.
"""

import os
from datetime import timedelta
from pathlib import Path

import dj_database_url

BASE_DIR = Path(__file__).resolve().parent.parent
VAR_DIR = Path(os.environ.get("VAR_DIR", BASE_DIR / "var"))
VAR_DIR.mkdir(parents=True, exist_ok=True)


def _secret(name: str) -> str:
    """A secret from the environment, or one generated once and kept under var/ for dev."""
    if os.environ.get(name):
        return os.environ[name]
    path = VAR_DIR / f".{name.lower()}"
    if not path.exists():
        from cryptography.fernet import Fernet

        path.write_text(Fernet.generate_key().decode())
        path.chmod(0o600)
    return path.read_text().strip()


SECRET_KEY = _secret("SECRET_KEY")
FIELD_ENCRYPTION_KEY = _secret("FIELD_ENCRYPTION_KEY")
DEBUG = os.environ.get("DEBUG", "0") == "1"
ALLOWED_HOSTS = os.environ.get("ALLOWED_HOSTS", "127.0.0.1,localhost").split(",")
CSRF_TRUSTED_ORIGINS = [o for o in os.environ.get("CSRF_TRUSTED_ORIGINS", "").split(",") if o]

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "axes",  # failed logins: too many from one address for one name lock it for a while
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "rest_framework",
    "knox",  # API tokens: stored as a digest, shown once (manage.py api_token)
    "drf_spectacular",
    "drf_spectacular_sidecar",
    "django_htmx",
    "django_celery_beat",
    "sync_engine",
    "integration_admin",
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
    "integration_admin.middleware.ContentSecurityPolicyMiddleware",
    "axes.middleware.AxesMiddleware",
]

# Password guessing (the dashboard's and the Django admin's login): ten failures for one
# username from one address lock that pair out for 15 minutes; a success resets the count.
AUTHENTICATION_BACKENDS = [
    "axes.backends.AxesStandaloneBackend",
    "django.contrib.auth.backends.ModelBackend",
]
AXES_FAILURE_LIMIT = 10
AXES_COOLOFF_TIME = timedelta(minutes=15)
AXES_LOCKOUT_PARAMETERS = [["username", "ip_address"]]
AXES_RESET_ON_SUCCESS = True
AXES_LOCKOUT_TEMPLATE = "registration/locked_out.html"

ROOT_URLCONF = "integration_admin.urls"
WSGI_APPLICATION = "integration_admin.wsgi.application"

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
                "integration_admin.context_processors.integration_header",
            ],
        },
    },
]

DATABASES = {
    "default": dj_database_url.parse(
        os.environ.get("DATABASE_URL", f"sqlite:///{VAR_DIR / 'db.sqlite3'}"),
        conn_max_age=int(os.environ.get("DB_CONN_MAX_AGE", "0")),
    )
}
if DATABASES["default"]["ENGINE"].endswith("sqlite3"):
    # Several processes (web, worker, beat) share the file in the embedded setup: WAL lets
    # readers go on while one writes, NORMAL syncs at checkpoints rather than every commit
    # (still safe against corruption in WAL mode), and IMMEDIATE transactions take the write
    # lock up front instead of failing to upgrade a read lock under contention.
    DATABASES["default"].setdefault("OPTIONS", {}).update(
        timeout=30,
        init_command="PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;",
        transaction_mode="IMMEDIATE",
    )
# Live reads of Salesforce and HubSpot are kept a few minutes here (sync_engine.selectors.
# cached_remote_read), so reloading a page doesn't spend the API allocation. In memory by
# default (each process its own); CACHE_URL=redis://host:6379/2 shares them, and what a change
# forgets, between several web processes (gunicorn --workers). Give it a Redis database of its
# own, not the broker's: clearing the cache empties the whole database.
CACHES = {
    "default": {
        "BACKEND": "django.core.cache.backends.locmem.LocMemCache",
        "LOCATION": "integration-admin",
    }
}
if os.environ.get("CACHE_URL", "").startswith(("redis://", "rediss://", "unix://")):
    CACHES["default"] = {
        "BACKEND": "django.core.cache.backends.redis.RedisCache",
        "LOCATION": os.environ["CACHE_URL"],
        "KEY_PREFIX": "integration-admin",
    }
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
]
LOGIN_URL = "login"
LOGIN_REDIRECT_URL = "/"
LOGOUT_REDIRECT_URL = "login"

# The UI speaks English and Dutch (the product was specified from a Dutch article); the browser's
# Accept-Language picks one, and the switcher in the footer (Django's set_language) overrides it.
LANGUAGE_CODE = "en"
LANGUAGES = [("en", "English"), ("nl", "Nederlands")]
LOCALE_PATHS = [BASE_DIR / "locale"]
TIME_ZONE = "UTC"
USE_I18N = True
USE_TZ = True

STATIC_URL = "static/"
STATICFILES_DIRS = [BASE_DIR / "static"]
STATIC_ROOT = VAR_DIR / "staticfiles"
STATIC_ROOT.mkdir(parents=True, exist_ok=True)
# Serve static/ straight from the source tree too, so the embedded setup needs no collectstatic.
WHITENOISE_USE_FINDERS = True


def _env_bool(name: str, default: bool = False) -> bool:
    return os.environ.get(name, "1" if default else "0").strip().lower() in ("1", "true", "yes")


# Security headers. `make run` serves plain http on 127.0.0.1, so nothing forces HTTPS unless the
# environment says so; behind TLS set SECURE_SSL_REDIRECT=1, SECURE_HSTS_SECONDS=31536000 and
# SECURE_COOKIES=1 (and SECURE_PROXY_SSL_HEADER=1 behind a proxy that sets X-Forwarded-Proto).
SESSION_COOKIE_HTTPONLY = True
CSRF_COOKIE_HTTPONLY = False  # htmx reads the token from the page, not the cookie
SESSION_COOKIE_SAMESITE = "Lax"
CSRF_COOKIE_SAMESITE = "Lax"
SESSION_COOKIE_SECURE = CSRF_COOKIE_SECURE = _env_bool("SECURE_COOKIES")
SECURE_SSL_REDIRECT = _env_bool("SECURE_SSL_REDIRECT")
SECURE_HSTS_SECONDS = int(os.environ.get("SECURE_HSTS_SECONDS", "0"))
SECURE_HSTS_INCLUDE_SUBDOMAINS = _env_bool("SECURE_HSTS_INCLUDE_SUBDOMAINS")
if _env_bool("SECURE_PROXY_SSL_HEADER"):
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
SECURE_CROSS_ORIGIN_OPENER_POLICY = "same-origin"
X_FRAME_OPTIONS = "DENY"
# Sent by integration_admin.middleware on every response; the pages load no third-party code.
CONTENT_SECURITY_POLICY = os.environ.get(
    "CONTENT_SECURITY_POLICY",
    "default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; "
    "img-src 'self' data:; font-src 'self' data:; connect-src 'self'; object-src 'none'; "
    "base-uri 'self'; frame-ancestors 'none'",
)

# Salesforce OAuth 2.0 (web-server flow) for Connect / Reconnect on the Connection tab. Create a
# Connected App in Salesforce with the callback URL below and give its key and secret here.
# The default client id works with the bundled Salesforce emulator, which approves any client.
SALESFORCE_OAUTH_CLIENT_ID = os.environ.get("SALESFORCE_OAUTH_CLIENT_ID", "hubspot-salesforce-sync")
SALESFORCE_OAUTH_CLIENT_SECRET = os.environ.get("SALESFORCE_OAUTH_CLIENT_SECRET", "")
# Empty: built from the request (https://<this host>/connection/salesforce/callback/).
SALESFORCE_OAUTH_REDIRECT_URI = os.environ.get("SALESFORCE_OAUTH_REDIRECT_URI", "")
# Where the browser logs in: https://login.salesforce.com (https://test.salesforce.com for a
# sandbox, or a My Domain). Empty: the connected instance (Reconnect), else login.salesforce.com.
SALESFORCE_LOGIN_URL = os.environ.get("SALESFORCE_LOGIN_URL", "")
# Where sandbox users log in (a first connect to a sandbox, Connect to a new sandbox); a
# sign-in there marks the org a sandbox.
SALESFORCE_SANDBOX_LOGIN_URL = os.environ.get(
    "SALESFORCE_SANDBOX_LOGIN_URL", "https://test.salesforce.com"
)
# PEM file to trust for the login host (self-signed or private CAs, such as the emulator's).
SALESFORCE_CA_FILE = os.environ.get("SALESFORCE_CA_FILE", "")
# The HubSpot side of a first connect from the browser (Reconnect keeps the stored connection).
HUBSPOT_API_URL = os.environ.get("HUBSPOT_API_URL", "https://api.hubapi.com")
# HubSpot admits 5 search requests per second per account; searches are paced to it.
HUBSPOT_SEARCHES_PER_SECOND = int(os.environ.get("HUBSPOT_SEARCHES_PER_SECOND", "5"))

# The dashboard's address as people reach it, for links in emails (a worker has no request).
SITE_URL = os.environ.get("SITE_URL", f"http://127.0.0.1:{os.environ.get('WEB_PORT', '8000')}")
# Email (the suspension email admins ask for on the Connection page). With EMAIL_HOST set it
# goes out by SMTP; without, each email is written as a file under var/mail, so `make run`
# sends nothing anywhere.
EMAIL_HOST = os.environ.get("EMAIL_HOST", "")
EMAIL_BACKEND = os.environ.get(
    "EMAIL_BACKEND",
    "django.core.mail.backends.smtp.EmailBackend"
    if EMAIL_HOST
    else "django.core.mail.backends.filebased.EmailBackend",
)
EMAIL_FILE_PATH = VAR_DIR / "mail"
EMAIL_PORT = int(os.environ.get("EMAIL_PORT", "587" if _env_bool("EMAIL_USE_TLS") else "25"))
EMAIL_HOST_USER = os.environ.get("EMAIL_HOST_USER", "")
EMAIL_HOST_PASSWORD = os.environ.get("EMAIL_HOST_PASSWORD", "")
EMAIL_USE_TLS = _env_bool("EMAIL_USE_TLS")
EMAIL_USE_SSL = _env_bool("EMAIL_USE_SSL")
# A mail server that doesn't answer holds the worker that sends for at most this long.
EMAIL_TIMEOUT = 10
DEFAULT_FROM_EMAIL = os.environ.get("DEFAULT_FROM_EMAIL", "hubspot-salesforce-sync@localhost")

REST_FRAMEWORK = {
    # Token first, so an unauthenticated call gets 401 with "WWW-Authenticate: Token".
    "DEFAULT_AUTHENTICATION_CLASSES": [
        "knox.auth.TokenAuthentication",
        "rest_framework.authentication.SessionAuthentication",
    ],
    # Everyone logged in reads; only integration admins change (integration_admin.roles).
    "DEFAULT_PERMISSION_CLASSES": ["integration_admin.api.permissions.IsAdminOrReadOnly"],
    # JSON bodies only: a form's missing checkbox would read as false and switch things off.
    "DEFAULT_PARSER_CLASSES": ["rest_framework.parsers.JSONParser"],
    "DEFAULT_SCHEMA_CLASS": "integration_admin.api.schema.ApiAutoSchema",
    "DEFAULT_PAGINATION_CLASS": "rest_framework.pagination.PageNumberPagination",
    "PAGE_SIZE": 50,
    # A runaway script gets 429s, not the server (or, through live reads, the API budget).
    "DEFAULT_THROTTLE_CLASSES": ["rest_framework.throttling.UserRateThrottle"],
    "DEFAULT_THROTTLE_RATES": {"user": "600/minute"},
}
# `Authorization: Token <key>` as before; tokens never expire unless `api_token --expires-days`.
REST_KNOX = {"AUTH_HEADER_PREFIX": "Token", "TOKEN_TTL": None}
SPECTACULAR_SETTINGS = {
    "TITLE": "HubSpot ⇄ Salesforce integration API",
    "DESCRIPTION": "The integration's state, connections and Salesforce API use, and its "
    "allocation; the whole sync's on/off switch, *Sync now* and disconnecting; each object "
    "pair's settings and on/off switch; field mappings and refreshing the fields they are "
    "picked from; sync errors (list, summary, resync, *Create view*, CSV export); a record's "
    "*Resync*, *Sync a contact* and *Sync a company*; imports from Salesforce (start, "
    "progress, cancel, resume); sync runs; and the audit log.\n\n"
    "Not here (use the dashboard, or `manage.py`): connecting (Salesforce's sign-in is in the "
    "browser), and the Tickets and Custom objects wizards.\n\n"
    "Authenticate with a session or `Authorization: Token <key>` (`manage.py api_token USER`). "
    "Viewers read; integration admins change. Bodies are JSON; a field an endpoint doesn't "
    "take is refused (400), never ignored.",
    "VERSION": "1",
    "SERVE_PERMISSIONS": ["rest_framework.permissions.IsAuthenticated"],
    "SWAGGER_UI_DIST": "SIDECAR",  # served from our own static files, no CDN
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "COMPONENT_SPLIT_REQUEST": True,
    # PATCH bodies are checked as declared (not as partial updates): keep their required fields.
    "COMPONENT_SPLIT_PATCH": False,
    # The choices' values are their labels: listing them again in each description is noise.
    "ENUM_GENERATE_CHOICE_DESCRIPTION": False,
    # Choice sets several settings share (sync_engine/object_settings.py): one name each.
    "ENUM_NAME_OVERRIDES": {
        "CreateOrUpdateEnum": ["create_or_update", "nothing"],
        "DeleteOrNothingEnum": ["delete", "nothing"],
    },
}

# Celery: the filesystem transport needs no server; production sets CELERY_BROKER_URL=redis://…
CELERY_BROKER_URL = os.environ.get("CELERY_BROKER_URL", "filesystem://")
CELERY_RESULT_BACKEND = os.environ.get("CELERY_RESULT_BACKEND") or None
if CELERY_BROKER_URL.startswith("filesystem://"):
    _queue = VAR_DIR / "celery" / "queue"
    _processed = VAR_DIR / "celery" / "processed"
    _control = VAR_DIR / "celery" / "control"  # broadcast (inspect/ping) exchange files
    _queue.mkdir(parents=True, exist_ok=True)
    _processed.mkdir(parents=True, exist_ok=True)
    _control.mkdir(parents=True, exist_ok=True)
    CELERY_BROKER_TRANSPORT_OPTIONS = {
        "data_folder_in": str(_queue),
        "data_folder_out": str(_queue),
        "processed_folder": str(_processed),
        "control_folder": str(_control),
        "store_processed": False,
        "polling_interval": 0.2,
    }
CELERY_TASK_ALWAYS_EAGER = os.environ.get("CELERY_TASK_ALWAYS_EAGER", "0") == "1"
CELERY_TASK_ACKS_LATE = True
CELERY_TASK_REJECT_ON_WORKER_LOST = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
CELERY_BEAT_SCHEDULER = "django_celery_beat.schedulers:DatabaseScheduler"
CELERY_TIMEZONE = "UTC"

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "handlers": {"console": {"class": "logging.StreamHandler"}},
    "root": {"handlers": ["console"], "level": os.environ.get("LOG_LEVEL", "INFO")},
    # django-axes says "deleted 0 failed login attempts" at every login: lock-outs only.
    "loggers": {"axes": {"level": "WARNING"}},
}

# All periodic jobs are declared in sync_engine/schedules.py.
from sync_engine.schedules import BEAT_SCHEDULE  # noqa: E402

CELERY_BEAT_SCHEDULE = BEAT_SCHEDULE
