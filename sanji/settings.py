"""Django settings. Everything a deployment changes comes from the environment.

Embedded default (``make demo``): SQLite in WAL mode under ``SANJI_DATA_DIR`` (default ``./var``).
Production: ``DATABASE_URL`` (PostgreSQL), ``SANJI_SECRET_KEY``, ``SANJI_ALLOWED_HOSTS``,
``SANJI_SECURE_COOKIES=1`` behind TLS, and the key files under ``SANJI_KEY_DIR``.
"""

from __future__ import annotations

import os
import secrets
from pathlib import Path
from typing import Any

import dj_database_url
from csp.constants import NONE, SELF
from django.utils.translation import gettext_lazy as _

BASE_DIR = Path(__file__).resolve().parent


def _env_bool(name: str, default: bool = False) -> bool:
    raw = os.environ.get(name)
    if raw is None:
        return default
    return raw.strip().lower() in {"1", "true", "yes", "on"}


DATA_DIR = Path(os.environ.get("SANJI_DATA_DIR", "var")).resolve()
KEY_DIR = Path(os.environ.get("SANJI_KEY_DIR", str(DATA_DIR / "keys"))).resolve()
MEDIA_ROOT = Path(os.environ.get("SANJI_FILES_DIR", str(DATA_DIR / "files"))).resolve()
DEBUG = _env_bool("SANJI_DEBUG")


def _secret_key() -> str:
    """From the environment in production; the embedded set-up keeps a generated one on disk."""
    key = os.environ.get("SANJI_SECRET_KEY")
    if key:
        return key
    path = KEY_DIR / "secret_key"
    if path.exists():
        return path.read_text().strip()
    KEY_DIR.mkdir(parents=True, exist_ok=True, mode=0o700)
    key = secrets.token_urlsafe(50)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "w") as fh:
        fh.write(key)
    return key


SECRET_KEY = _secret_key()
ALLOWED_HOSTS = [
    h for h in os.environ.get("SANJI_ALLOWED_HOSTS", "127.0.0.1,localhost,testserver").split(",") if h
]

INSTALLED_APPS = [
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    # Django Ninja as an app: its API docs (/api/v1/docs) then load Swagger UI from our own static
    # files instead of a CDN (the network is isolated; nothing is loaded from the internet).
    "ninja",
    "template_partials",
    "sanji.core",
    "sanji.audit",
    "sanji.orgs",
    "sanji.accounts",
    "sanji.calendar",
    "sanji.catalog",
    "sanji.cases",
    "sanji.supervision",
    "sanji.evaluation",
    "sanji.population",
    "sanji.sharing",
    "sanji.ops",
    "sanji.web",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    # Sessions, CSRF, the signed-in user and messages are for pages: the API (/api/, bearer
    # tokens) skips them (sanji.core.middleware).
    "sanji.core.middleware.SessionMiddleware",
    "django.middleware.locale.LocaleMiddleware",
    "django.middleware.common.CommonMiddleware",
    "sanji.core.middleware.CsrfViewMiddleware",
    "sanji.core.middleware.AuthenticationMiddleware",
    "sanji.accounts.middleware.ActorMiddleware",
    "sanji.core.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "sanji.core.middleware.CSPMiddleware",
]

ROOT_URLCONF = "sanji.urls"
WSGI_APPLICATION = "sanji.wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.template.context_processors.i18n",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "sanji.accounts.context_processors.actor",
                "sanji.web.context_processors.language_next",
            ],
        },
    }
]


# Server-side binding: parameters travel apart from the SQL, so psycopg does not quote them into
# the text of every statement (measured: about a fifth less CPU per case transition). Prepared
# statements stay off for the connection (Django's default), so a query over a skewed range (a
# worklist) never runs on a generic plan; sanji.core.prepared turns them on for its own key
# look-ups only (the statements of a case transition), which skips the server's parse and plan.
# Those are planned generically from their first run: a custom plan made for the bound values
# (what PostgreSQL tries for a statement's first five runs) read the scoped case look-up through
# the region index on a database without statistics, filtering every case of the district for
# the id. Unprepared statements (everything else) are planned for their values as always.
_PG_OPTIONS: dict[str, Any] = {"server_side_binding": True}
_PG_SERVER_OPTIONS = "-c plan_cache_mode=force_generic_plan"


def _database() -> dict[str, Any]:
    url = os.environ.get("DATABASE_URL")
    if url:
        # No health check (a ``SELECT 1`` round trip at the start of every request): after a
        # database restart, the first query of each worker thread fails once and its connection
        # is replaced, which the clients' retry covers.
        db: dict[str, Any] = dict(dj_database_url.parse(url, conn_max_age=600, conn_health_checks=False))
        if db["ENGINE"] == "django.db.backends.sqlite3":
            db["ENGINE"] = _SQLITE_ENGINE
            db["OPTIONS"] = _SQLITE_OPTIONS
            db["TEST"] = {"NAME": str(DATA_DIR / f"test-{os.getpid()}.sqlite3")}
        else:
            # One test database per process, so concurrent suites on one server never collide.
            db["TEST"] = {"NAME": f"test_{db['NAME']}_{os.getpid()}"}
            options = db.setdefault("OPTIONS", {})
            options.update(_PG_OPTIONS)
            options["options"] = f"{options.get('options', '')} {_PG_SERVER_OPTIONS}".strip()
        return db
    DATA_DIR.mkdir(parents=True, exist_ok=True)
    return {
        "ENGINE": _SQLITE_ENGINE,
        "NAME": str(DATA_DIR / "sanji.sqlite3"),
        "CONN_MAX_AGE": 600,
        "OPTIONS": _SQLITE_OPTIONS,
        # Tests use a file in WAL mode like production (an in-memory database shares one cache
        # with table-level locks, which the live-server browser tests would trip over).
        "TEST": {"NAME": str(DATA_DIR / f"test-{os.getpid()}.sqlite3")},
    }


# Django's SQLite backend with writers queued (sanji/core/sqlite/base.py) instead of polling the lock.
_SQLITE_ENGINE = "sanji.core.sqlite"
# IMMEDIATE transactions: a writer takes the lock at BEGIN, so two writers queue instead of
# deadlocking on a read-then-write upgrade; WAL lets readers run beside the writer.
_SQLITE_OPTIONS = {
    "transaction_mode": "IMMEDIATE",
    "timeout": 30,
    "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL; PRAGMA foreign_keys=ON;",
}

DATABASES = {"default": _database()}
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

AUTH_USER_MODEL = "accounts.User"
LOGIN_URL = "accounts:login"
LOGIN_REDIRECT_URL = "web:home"

PASSWORD_HASHERS = [
    "django.contrib.auth.hashers.Argon2PasswordHasher",
]
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "sanji.accounts.passwords.LengthAndClassesValidator"},
    {"NAME": "sanji.accounts.passwords.NoUsernameValidator"},
    {"NAME": "sanji.accounts.passwords.NotRecentlyUsedValidator"},
]

# Idle sessions end after 30 minutes: the cookie's age is renewed on every request.
SESSION_COOKIE_AGE = 30 * 60
SESSION_SAVE_EVERY_REQUEST = True
SESSION_EXPIRE_AT_BROWSER_CLOSE = True
SESSION_COOKIE_HTTPONLY = True
SESSION_COOKIE_SAMESITE = "Lax"
SECURE_COOKIES = _env_bool("SANJI_SECURE_COOKIES")
SESSION_COOKIE_SECURE = SECURE_COOKIES
CSRF_COOKIE_SECURE = SECURE_COOKIES
CSRF_COOKIE_HTTPONLY = True
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
X_FRAME_OPTIONS = "DENY"
if SECURE_COOKIES:
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
    SECURE_HSTS_SECONDS = 31536000

CONTENT_SECURITY_POLICY = {
    "DIRECTIVES": {
        "default-src": [SELF],
        "script-src": [SELF],
        "style-src": [SELF],
        "img-src": [SELF, "data:"],
        "font-src": [SELF],
        "connect-src": [SELF],
        "object-src": [NONE],
        "base-uri": [SELF],
        "form-action": [SELF],
        "frame-ancestors": [NONE],
    }
}

LANGUAGE_CODE = "zh-hans"
LANGUAGES = [("zh-hans", _("简体中文")), ("en", _("English"))]
LOCALE_PATHS = [BASE_DIR / "locale"]
TIME_ZONE = "Asia/Shanghai"
USE_I18N = True
USE_TZ = True

STATIC_URL = "/static/"
STATIC_ROOT = DATA_DIR / "static"
STATIC_ROOT.mkdir(parents=True, exist_ok=True)  # WhiteNoise scans it at start-up
# Front-end packages from npm are copied into sanji/static/vendor at build time (make assets).
STATICFILES_DIRS = [BASE_DIR / "static"]
WHITENOISE_USE_FINDERS = True
MEDIA_URL = "/files/"  # never served directly: downloads go through views that check access

# Uploads larger than this are refused before they reach a view.
DATA_UPLOAD_MAX_MEMORY_SIZE = 25 * 1024 * 1024
FILE_UPLOAD_MAX_MEMORY_SIZE = 5 * 1024 * 1024

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "handlers": {"console": {"class": "logging.StreamHandler"}},
    "root": {"handlers": ["console"], "level": os.environ.get("SANJI_LOG_LEVEL", "WARNING")},
}

# --- Sanji's own settings -------------------------------------------------------------------
# Staff must work from a registered terminal (终端). Off only for throw-away local experiments.
SANJI_REQUIRE_TERMINAL = _env_bool("SANJI_REQUIRE_TERMINAL", True)
SANJI_LOCKOUT_FAILURES = 5
SANJI_LOCKOUT_MINUTES = 15
SANJI_IP_FAILURES = 20  # failed logins from one address within the lockout window
SANJI_PASSWORD_MAX_AGE_DAYS = 90
SANJI_PASSWORD_HISTORY = 5
SANJI_AUDIT_MIN_RETENTION_DAYS = 180
# Seconds a worker process trusts its copy of the calendar and the supervision rules before it
# checks them against the database again (sanji.core.configcache); 0: check on every use.
SANJI_CONFIG_RECHECK_SECONDS = float(os.environ.get("SANJI_CONFIG_RECHECK_SECONDS", "1"))
