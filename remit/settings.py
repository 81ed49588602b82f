"""Django settings for Remit.

Every deployment-specific value comes from an environment variable (documented in README.md).
The defaults run the embedded product: SQLite in ./var, the database task backend, console email.
"""

from __future__ import annotations

import ipaddress
import os
from pathlib import Path

import dj_database_url

from remit.core.config import (
    bank_details_from_env,
    env_bool,
    env_int,
    env_list,
    env_str,
    parse_currency_amounts,
)

BASE_DIR = Path(__file__).resolve().parent.parent
VAR_DIR = Path(env_str("REMIT_VAR_DIR", str(BASE_DIR / "var")))

DEBUG = env_bool("REMIT_DEBUG", default=False)
# Required whenever debug is off: the key itself, or a file holding it (created with a random key
# when missing; `make run` points at var/secret_key so the embedded product needs no set-up).
SECRET_KEY = env_str("REMIT_SECRET_KEY", "")
if not SECRET_KEY and env_str("REMIT_SECRET_KEY_FILE", ""):
    from remit.core.config import secret_key_from_file

    SECRET_KEY = secret_key_from_file(Path(env_str("REMIT_SECRET_KEY_FILE", "")))
if not SECRET_KEY:
    if not DEBUG:
        from django.core.exceptions import ImproperlyConfigured

        raise ImproperlyConfigured(
            "Set REMIT_SECRET_KEY (or REMIT_SECRET_KEY_FILE, a file holding the key) when "
            "REMIT_DEBUG is off; `make run` and `make test` use var/secret_key."
        )
    from remit.core.config import secret_key_from_file

    SECRET_KEY = secret_key_from_file(VAR_DIR / "secret_key")

ALLOWED_HOSTS = env_list("REMIT_ALLOWED_HOSTS", ["127.0.0.1", "localhost"])
CSRF_TRUSTED_ORIGINS = env_list("REMIT_CSRF_TRUSTED_ORIGINS", [])

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "django_tasks",
    "django_tasks_db",
    "remit.billing",
    "remit.documents",
    "remit.usercenter",
    "remit.integrations",
    "remit.operations",
    "remit.api",
    "ninja",
    # Last: its role groups are synced after every other app's permissions exist.
    "remit.backoffice",
]

MIDDLEWARE = [
    "remit.core.logging.request_context",
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.locale.LocaleMiddleware",
    "django.middleware.common.CommonMiddleware",
    "remit.api.middleware.ApiRequestMiddleware",
    "remit.core.middleware.refuse_nul",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "remit.core.middleware.security_headers",
]

ROOT_URLCONF = "remit.urls"
WSGI_APPLICATION = "remit.wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "remit" / "templates"],
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


def _database_config() -> dict:
    url = env_str("DATABASE_URL", f"sqlite:///{VAR_DIR / 'remit.sqlite3'}")
    # Persistent connections (a web or worker process reuses its connection for this many
    # seconds) with a health check before each request's first query, so a restarted database
    # costs one failed check, not a failed request.
    config: dict = dict(
        dj_database_url.parse(
            url, conn_max_age=env_int("REMIT_DB_CONN_MAX_AGE", 600), conn_health_checks=True
        )
    )
    if config["ENGINE"] == "django.db.backends.sqlite3":
        # WAL lets readers run beside the single writer; IMMEDIATE takes the write lock at
        # BEGIN so two transactions never both read and then fail to upgrade to a write
        # ("database is locked"). busy_timeout makes writers queue instead of failing.
        config["OPTIONS"] = {
            "transaction_mode": "IMMEDIATE",
            "timeout": 60,
            "init_command": (
                "PRAGMA journal_mode=WAL;PRAGMA synchronous=NORMAL;PRAGMA busy_timeout=60000"
            ),
        }
        # Tests use a real file (not shared-cache memory) so parallel connections behave as
        # they do in production.
        config["TEST"] = {
            "NAME": str(VAR_DIR / env_str("REMIT_TEST_DATABASE_NAME", "test-remit.sqlite3"))
        }
    elif config["ENGINE"] == "django.db.backends.postgresql":
        config.setdefault("OPTIONS", {})
        # Server-side binding with prepared statements: PostgreSQL plans each repeated statement
        # once per connection (about 40 % less server CPU per issued invoice, measured with
        # `bench/documents.py --queries`). Turn off behind PgBouncer in transaction pooling.
        if env_bool("REMIT_DB_PREPARED_STATEMENTS", default=True):
            config["OPTIONS"].update({"server_side_binding": True, "prepare_threshold": 5})
        config["TEST"] = {"NAME": env_str("REMIT_TEST_DATABASE_NAME", "test_remit")}
    return config


DATABASES = {"default": _database_config()}

# Shared by every web process (login throttling, and the API rate limit with Redis): the
# database by default, Redis with REMIT_CACHE_URL (e.g. redis://127.0.0.1:6379/1).
CACHES = {
    "default": (
        {"BACKEND": "django.core.cache.backends.redis.RedisCache", "LOCATION": _cache_url}
        if (_cache_url := env_str("REMIT_CACHE_URL", ""))
        else {"BACKEND": "django.core.cache.backends.db.DatabaseCache", "LOCATION": "remit_cache"}
    )
}
LOGIN_URL = "usercenter:login"
LOGIN_REDIRECT_URL = "usercenter:orders"
LOGOUT_REDIRECT_URL = "usercenter:login"
# UC1: failed sign-ins allowed per email and per address before a pause of this many seconds.
REMIT_LOGIN_ATTEMPTS = env_int("REMIT_LOGIN_ATTEMPTS", 5)
REMIT_LOGIN_LOCKOUT_SECONDS = env_int("REMIT_LOGIN_LOCKOUT_SECONDS", 900)
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]

LANGUAGE_CODE = "en"
LANGUAGES = [
    ("en", "English"),
    ("de", "Deutsch"),
    ("fr", "Français"),
    ("es", "Español"),
    ("ja", "日本語"),
    ("zh-hans", "简体中文"),
]
# User Center translations (remit/locale/<lang>/LC_MESSAGES/django.po; .mo built by make).
LOCALE_PATHS = [BASE_DIR / "remit" / "locale"]
TIME_ZONE = env_str("REMIT_TIME_ZONE", "UTC")
USE_I18N = True
USE_TZ = True

STATIC_URL = "static/"
STATIC_ROOT = VAR_DIR / "static"
MEDIA_ROOT = Path(env_str("REMIT_MEDIA_ROOT", str(VAR_DIR / "media")))
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "whitenoise.storage.CompressedStaticFilesStorage"},
}

# Background work has one queue per concern, in the order a worker serving several takes them:
# what the customer is waiting for (the stored PDF, then its email) before webhook traffic, so
# failing or slow receivers never delay an invoice email (README, "Workers and queues").
TASK_QUEUES = ["documents", "emails", "webhooks", "default"]
# "database" (embedded default, django-tasks-db) or "rq" (Redis + RQ for production); any other
# value is a backend class path.
TASK_BACKEND_ALIASES = {
    "database": "django_tasks_db.DatabaseBackend",
    "rq": "django_tasks_rq.RQBackend",
}
_task_backend = env_str("REMIT_TASK_BACKEND", "database")
TASKS = {
    "default": {
        "BACKEND": TASK_BACKEND_ALIASES.get(_task_backend, _task_backend),
        "QUEUES": TASK_QUEUES,
    }
}
# One RQ queue per pipeline queue, all on one Redis. Read even with the database backend, so a
# process can be pointed at RQ by a settings override (the tests do).
REDIS_URL = env_str("REMIT_REDIS_URL", "redis://127.0.0.1:6379/0")
RQ_QUEUES = {
    # A job that runs longer than DEFAULT_TIMEOUT seconds is stopped and fails (a batch of
    # documents takes seconds; a webhook attempt at most a few times SEND_TIMEOUT).
    name: {"URL": REDIS_URL, "DEFAULT_TIMEOUT": 300}
    for name in TASK_QUEUES
}
if TASKS["default"]["BACKEND"] == TASK_BACKEND_ALIASES["rq"]:
    INSTALLED_APPS += ["django_rq", "django_tasks_rq"]

# With REMIT_EMAIL_HOST set, mail goes out over SMTP; without it (the embedded default) each
# message is written as a file to var/emails so nothing is lost and it can be inspected.
EMAIL_BACKEND = env_str(
    "REMIT_EMAIL_BACKEND",
    "django.core.mail.backends.smtp.EmailBackend"
    if env_str("REMIT_EMAIL_HOST", "")
    else "django.core.mail.backends.filebased.EmailBackend",
)
EMAIL_FILE_PATH = str(VAR_DIR / "emails")
EMAIL_HOST = env_str("REMIT_EMAIL_HOST", "127.0.0.1")
EMAIL_PORT = env_int("REMIT_EMAIL_PORT", 1025)
EMAIL_HOST_USER = env_str("REMIT_EMAIL_USER", "")
EMAIL_HOST_PASSWORD = env_str("REMIT_EMAIL_PASSWORD", "")
EMAIL_USE_TLS = env_bool("REMIT_EMAIL_USE_TLS", default=False)
EMAIL_TIMEOUT = env_int("REMIT_EMAIL_TIMEOUT", 20)
DEFAULT_FROM_EMAIL = env_str("REMIT_FROM_EMAIL", "Remit Billing <billing@example.com>")

if not DEBUG and env_bool("REMIT_SECURE_COOKIES", default=False):
    SESSION_COOKIE_SECURE = True
    CSRF_COOKIE_SECURE = True
    SECURE_HSTS_SECONDS = 31536000
SESSION_COOKIE_HTTPONLY = True
SESSION_COOKIE_AGE = env_int("REMIT_SESSION_SECONDS", 8 * 3600)

# One JSON object per line (request id, account, actor: remit.core.logging), or "text" for
# plain lines on a terminal.
LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {
        "json": {"()": "remit.core.logging.JsonFormatter"},
        "text": {"format": "%(asctime)s %(levelname)s %(name)s %(message)s"},
    },
    "handlers": {
        "console": {
            "class": "logging.StreamHandler",
            "formatter": env_str("REMIT_LOG_FORMAT", "json"),
        }
    },
    "root": {"handlers": ["console"], "level": env_str("REMIT_LOG_LEVEL", "INFO")},
}
# /metrics answers only requests with "Authorization: Bearer <this token>"; unset, it is off (404).
REMIT_METRICS_TOKEN = env_str("REMIT_METRICS_TOKEN", "")
# How long finished work is kept before the worker's hourly prune removes it (README, Retention).
REMIT_RETENTION = {
    "task_days": env_int("REMIT_RETENTION_TASK_DAYS", 7),
    "idempotency_hours": max(24, env_int("REMIT_RETENTION_IDEMPOTENCY_HOURS", 48)),
    "webhook_days": env_int("REMIT_RETENTION_WEBHOOK_DAYS", 30),
    "stripe_days": env_int("REMIT_RETENTION_STRIPE_DAYS", 90),
}

# ---------------------------------------------------------------------------------------------
# Billing rules and the seller. Every value is read through remit.core.config.billing_settings().
# ---------------------------------------------------------------------------------------------
REMIT_DEFAULT_CURRENCY = env_str("REMIT_DEFAULT_CURRENCY", "USD")
# P2: the smallest credit purchase that may be paid by invoice, per currency, in major units.
REMIT_CREDIT_INVOICE_MINIMUMS = parse_currency_amounts(
    env_str("REMIT_CREDIT_INVOICE_MINIMUMS", "USD=100.00,EUR=100.00,GBP=100.00,JPY=15000")
)
# P4: how many unpaid invoices an account may have before it must pay one.
REMIT_UNPAID_INVOICE_LIMIT = env_int("REMIT_UNPAID_INVOICE_LIMIT", 3)
REMIT_PAYMENT_TERMS_DAYS = env_int("REMIT_PAYMENT_TERMS_DAYS", 30)
# D1: number formats. Fields: {year} and {number} (the gapless sequence within series + year).
REMIT_INVOICE_NUMBER_FORMAT = env_str("REMIT_INVOICE_NUMBER_FORMAT", "INV-{year}-{number:06d}")
REMIT_CREDIT_NOTE_NUMBER_FORMAT = env_str(
    "REMIT_CREDIT_NOTE_NUMBER_FORMAT", "CN-{year}-{number:06d}"
)
# D4: tax rate overrides, e.g. "DE=19,FR=20,US=0"; merged over the built-in EU table.
REMIT_TAX_RATES = env_str("REMIT_TAX_RATES", "")

REMIT_SELLER = {
    "legal_name": env_str("REMIT_SELLER_NAME", "Example SaaS Inc."),
    "address_line1": env_str("REMIT_SELLER_ADDRESS_LINE1", "1 Market Street"),
    "address_line2": env_str("REMIT_SELLER_ADDRESS_LINE2", ""),
    "city": env_str("REMIT_SELLER_CITY", "San Francisco"),
    "postal_code": env_str("REMIT_SELLER_POSTAL_CODE", "94105"),
    "region": env_str("REMIT_SELLER_REGION", "CA"),
    "country": env_str("REMIT_SELLER_COUNTRY", "US"),
    "tax_id": env_str("REMIT_SELLER_TAX_ID", ""),
    "email": env_str("REMIT_SELLER_EMAIL", "billing@example.com"),
    "phone": env_str("REMIT_SELLER_PHONE", ""),
    "website": env_str("REMIT_SELLER_WEBSITE", ""),
    # P7: without an IBAN or account number no document asks for a bank transfer.
    **bank_details_from_env(demo=env_bool("REMIT_DEMO_BANK_DETAILS", default=False)),
}
# P1/P7: online payments. With a Stripe secret key, "Pay" redirects to Stripe Checkout. Without
# one there are no card payments (invoices are paid by bank transfer), unless the test-mode
# payment page is switched on (no money moves: anyone signed in could "pay" with it), which the
# demo does; outside debug mode it must be acknowledged, so no production runs it by mistake.
REMIT_STRIPE_SECRET_KEY = env_str("REMIT_STRIPE_SECRET_KEY", "")
REMIT_PAYMENTS_TEST_MODE = env_bool("REMIT_PAYMENTS_TEST_MODE", default=False)
if (
    REMIT_PAYMENTS_TEST_MODE
    and not DEBUG
    and not env_bool("REMIT_PAYMENTS_TEST_MODE_ACKNOWLEDGED", default=False)
):
    from django.core.exceptions import ImproperlyConfigured

    raise ImproperlyConfigured(
        "REMIT_PAYMENTS_TEST_MODE lets every signed-in customer mark invoices paid without "
        "paying. Outside debug mode set REMIT_PAYMENTS_TEST_MODE_ACKNOWLEDGED=true as well (a "
        "demo or staging server), or switch it off and configure REMIT_STRIPE_SECRET_KEY."
    )
REMIT_STRIPE_API_BASE = env_str("REMIT_STRIPE_API_BASE", "https://api.stripe.com")
REMIT_STRIPE_TIMEOUT_SECONDS = env_int("REMIT_STRIPE_TIMEOUT_SECONDS", 15)
# I4: the signing secret of Stripe's webhook endpoint (whsec_…) and the accepted clock skew of its
# timestamps, in both directions.
REMIT_STRIPE_WEBHOOK_SECRET = env_str("REMIT_STRIPE_WEBHOOK_SECRET", "")
REMIT_STRIPE_WEBHOOK_TOLERANCE_SECONDS = env_int("REMIT_STRIPE_WEBHOOK_TOLERANCE_SECONDS", 300)
# Outgoing webhooks go to public internet addresses only; these networks (CIDR, comma-separated)
# are allowed anyway, e.g. "10.20.0.0/16" for a receiver on the operator's own network.
REMIT_WEBHOOK_ALLOWED_NETWORKS = env_list("REMIT_WEBHOOK_ALLOWED_NETWORKS", [])
for _network in REMIT_WEBHOOK_ALLOWED_NETWORKS:
    ipaddress.ip_network(_network, strict=False)  # a typo stops the start, with the value named
# The absolute address customers reach Remit at, for the platform's return URLs (e.g.
# https://billing.example.com); empty uses the address of the request.
REMIT_PUBLIC_URL = env_str("REMIT_PUBLIC_URL", "")
# I1: requests per minute per API key (then 429 with Retry-After), and the largest request body.
REMIT_API_REQUESTS_PER_MINUTE = env_int("REMIT_API_REQUESTS_PER_MINUTE", 600)
REMIT_API_MAX_BODY_BYTES = env_int("REMIT_API_MAX_BODY_BYTES", 65536)
# UC4: the seller's logo on documents (an SVG file; unset or empty: none, the seller's name is
# the brand; documents issued before template set v3 keep the Remit logo they had when unset),
# and the font folders Typst may use (Inter for Latin, DejaVu Sans for Arabic/Hebrew, WenQuanYi
# Micro Hei for CJK, Garuda for Thai); characters none of them has are printed as U+FFFD (the
# stored data keeps them).
REMIT_SELLER_LOGO: str | None = os.environ.get("REMIT_SELLER_LOGO")
REMIT_FONT_DIRS = env_list(
    "REMIT_FONT_DIRS",
    [
        "/usr/share/fonts/opentype/inter",
        "/usr/share/fonts/truetype/dejavu",
        "/usr/share/fonts/truetype/wqy",
        "/usr/share/fonts/truetype/tlwg",
    ],
)
# UC5: the domain of deterministic Message-IDs of document emails.
REMIT_MESSAGE_ID_DOMAIN = env_str("REMIT_MESSAGE_ID_DOMAIN", "remit.invalid")
# X5: where a blocked customer is sent.
REMIT_SUPPORT_EMAIL = env_str("REMIT_SUPPORT_EMAIL", "support@example.com")
REMIT_SUPPORT_PHONE = env_str("REMIT_SUPPORT_PHONE", "")
