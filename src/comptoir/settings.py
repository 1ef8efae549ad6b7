"""Django settings for Comptoir; everything an operator changes comes from COMPTOIR_* variables."""

import os
from pathlib import Path

import dj_database_url

from comptoir.observability.cache_url import cache_from_url

BASE_DIR = Path(os.environ.get("COMPTOIR_HOME", Path.cwd())).resolve()
VAR_DIR = Path(os.environ.get("COMPTOIR_VAR_DIR", BASE_DIR / "var"))


def env_bool(name: str, default: bool = False) -> bool:
    value = os.environ.get(name)
    if value is None:
        return default
    return value.strip().lower() in {"1", "true", "yes", "on"}


def env_int(name: str, default: int) -> int:
    return int(os.environ.get(name, default))


SECRET_KEY = os.environ.get("COMPTOIR_SECRET_KEY", "insecure-dev-key-change-me-in-production-0123456789")
DEBUG = env_bool("COMPTOIR_DEBUG", False)
ALLOWED_HOSTS = [h for h in os.environ.get("COMPTOIR_ALLOWED_HOSTS", "127.0.0.1,localhost,testserver").split(",") if h]

INSTALLED_APPS = [
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "comptoir.shops",
    "comptoir.catalog",
    "comptoir.orders",
    "comptoir.payments",
    "comptoir.timers",
    "comptoir.notifications",
    "comptoir.ledger",
    "comptoir.shipping",
    "comptoir.refunds",
    "comptoir.relay",
    "comptoir.documents",
    "comptoir.messaging",
    "comptoir.incidents",
    "comptoir.webhooks",
    "comptoir.scorecards",
    "comptoir.api",
    "comptoir.ops",
    "comptoir.observability",
    "django_htmx",
    "comptoir.web",
    "comptoir.seller",
    "comptoir.operator",
    "comptoir.customer",
]

MIDDLEWARE = [
    # First: every request, the API's slim stack included, gets a request id and is counted (README « Exploitation »).
    "comptoir.observability.middleware.ObservabilityMiddleware",
    "django.middleware.security.SecurityMiddleware",
    "comptoir.api.middleware.ApiErrorBodyMiddleware",
    # Idempotency-Key on the API's writes: a retried request is answered from the first run (api/idempotency.py).
    "comptoir.api.idempotency.IdempotencyMiddleware",
    # Serves the back offices' CSS and JS from the apps' static folders under gunicorn (no CDN, no nginx).
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.locale.LocaleMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "django_htmx.middleware.HtmxMiddleware",
]
# What /api/ requests run after ApiErrorBodyMiddleware instead of the rest of MIDDLEWARE (api/middleware.py):
# the middleware that shows in an API response (language and Content-Language, Content-Length, X-Frame-Options).
API_MIDDLEWARE = [
    # Rate limits per key, before Idempotency-Key: a 429 is never kept as a key's answer (observability/ratelimit.py).
    "comptoir.observability.ratelimit.RateLimitMiddleware",
    # Then, as right after ApiErrorBodyMiddleware in MIDDLEWARE: the API's writes pass here (a request runs it once).
    "comptoir.api.idempotency.IdempotencyMiddleware",
    # Django's LocaleMiddleware, CommonMiddleware and XFrameOptionsMiddleware as they act on the API, in one step.
    "comptoir.api.middleware.ApiResponseMiddleware",
]

ROOT_URLCONF = "comptoir.urls"
WSGI_APPLICATION = "comptoir.wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        # An operator's own notification templates (same file names) take precedence over ours.
        "DIRS": [p for p in [os.environ.get("COMPTOIR_TEMPLATES_DIR")] if p],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "django.template.context_processors.i18n",
            ],
        },
    },
]


# Lets several test runs share one machine (each its own test database).
TEST_DB_SUFFIX = os.environ.get("COMPTOIR_TEST_DB_SUFFIX", "")


def database_from_url(url: str) -> dict:
    """One database setting for both engines; SQLite is tuned for concurrent writers (WAL, IMMEDIATE)."""
    config = dj_database_url.parse(url, conn_max_age=600, conn_health_checks=True)
    if config["ENGINE"] == "django.db.backends.sqlite3":
        name = str(config["NAME"])
        if name not in ("", ":memory:"):
            Path(name).parent.mkdir(parents=True, exist_ok=True)
        config["CONN_MAX_AGE"] = 600
        # Django's backend, converting each statement's placeholders once per text (db/sqlite3).
        config["ENGINE"] = "comptoir.db.sqlite3"
        # cache_size is per connection, and every server thread holds one: 8 MiB × 8 threads keeps a serve
        # process within 300 MB at 1,000,000 orders (64 MiB each peaked at 688 MB); reads go through mmap anyway
        # (bench/memory.py: make bench prints each process's peak).
        config["OPTIONS"] = {
            # Writers take the lock at BEGIN: two accepts of one order serialize instead of deadlocking.
            "transaction_mode": "IMMEDIATE",
            "timeout": 30,
            "init_command": (
                "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL; PRAGMA foreign_keys=ON; "
                "PRAGMA busy_timeout=30000; PRAGMA cache_size=-8192; PRAGMA temp_store=MEMORY; "
                "PRAGMA mmap_size=268435456;"
            ),
        }
        # Tests need a file (several threads and processes share it), not Django's in-memory default.
        config["TEST"] = {"NAME": str(VAR_DIR / f"test-comptoir{TEST_DB_SUFFIX}.sqlite3")}
    else:
        # Django's backend with a health check that reads the idle socket instead of sending SELECT 1 (db/postgresql).
        if config["ENGINE"] == "django.db.backends.postgresql":
            config["ENGINE"] = "comptoir.db.postgresql"
        # Server-side binding: the parameters travel apart from the SQL, so a statement's text is the same at every
        # call and psycopg prepares it after 5 runs on a connection (PostgreSQL then skips parsing and planning:
        # 0.6 ms of the database's CPU per OR21 accept, 15 %). Django's default merges the values into the SQL:
        # COMPTOIR_PG_PREPARED_STATEMENTS=false keeps it (a PgBouncer in transaction mode older than 1.21).
        if env_bool("COMPTOIR_PG_PREPARED_STATEMENTS", True):
            config["OPTIONS"] = {**config.get("OPTIONS", {}), "server_side_binding": True, "prepare_threshold": 5}
        config["TEST"] = {"NAME": f"test_comptoir{TEST_DB_SUFFIX}"}
    return config


DATABASE_URL = os.environ.get("COMPTOIR_DATABASE_URL", f"sqlite:///{VAR_DIR / 'comptoir.sqlite3'}")
DATABASES = {"default": database_from_url(DATABASE_URL)}
# A read replica of it for the listing pages (README « Topologie de production », comptoir/replica.py): the alias
# `replica` and its router only when set; tests mirror it on the test database.
REPLICA_DATABASE_URL = os.environ.get("COMPTOIR_REPLICA_DATABASE_URL", "")
if REPLICA_DATABASE_URL:
    DATABASES["replica"] = {**database_from_url(REPLICA_DATABASE_URL), "TEST": {"MIRROR": "default"}}
    DATABASE_ROUTERS = ["comptoir.replica.ReplicaRouter"]
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
]

LANGUAGE_CODE = "fr"
LANGUAGES = [("fr", "Français"), ("en", "English")]
TIME_ZONE = "Europe/Paris"
USE_I18N = True
USE_TZ = True

STATIC_URL = "/static/"
STATIC_ROOT = VAR_DIR / "static"
# No collectstatic step: whitenoise finds the files in the apps, as runserver would.
WHITENOISE_USE_FINDERS = True
STATIC_ROOT.mkdir(parents=True, exist_ok=True)  # whitenoise warns on every start without it
WHITENOISE_AUTOREFRESH = DEBUG

# Back offices: Django auth with the e-mail as username; each surface has its own login page.
LOGIN_URL = "/vendeur/connexion/"
LOGIN_REDIRECT_URL = "/vendeur/"
SESSION_COOKIE_HTTPONLY = True
SESSION_COOKIE_SAMESITE = "Lax"
CSRF_COOKIE_SAMESITE = "Lax"

# COMPTOIR_LOG_FORMAT=json: one JSON object per line (time, level, logger, message, request_id, extra fields);
# text (the default) for a terminal. COMPTOIR_LOG_REQUESTS=1 adds a line per HTTP request (logger comptoir.access).
LOG_FORMAT = os.environ.get("COMPTOIR_LOG_FORMAT", "text").strip().lower()
LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "filters": {"request_id": {"()": "comptoir.observability.logs.RequestIdFilter"}},
    "formatters": {"text": {"()": "comptoir.observability.logs.TextFormatter"},
                   "json": {"()": "comptoir.observability.logs.JsonFormatter"}},
    "handlers": {"console": {"class": "logging.StreamHandler", "filters": ["request_id"],
                             "formatter": "json" if LOG_FORMAT == "json" else "text"}},
    "root": {"handlers": ["console"], "level": os.environ.get("COMPTOIR_LOG_LEVEL", "WARNING")},
    "loggers": {"comptoir": {"level": os.environ.get("COMPTOIR_LOG_LEVEL", "INFO")},
                "comptoir.access": {"level": "INFO" if env_bool("COMPTOIR_LOG_REQUESTS") else "WARNING"}},
}

# The rate limits' counters (and any other cache use). locmem counts per process: several `comptoir serve`
# processes need a shared cache, db://comptoir_cache (after `comptoir createcachetable`) or redis://host:6379/0.
CACHES = {"default": cache_from_url(os.environ.get("COMPTOIR_CACHE_URL", "locmem://"))}

EMAIL_BACKEND = os.environ.get("COMPTOIR_EMAIL_BACKEND", "django.core.mail.backends.smtp.EmailBackend")
EMAIL_HOST = os.environ.get("COMPTOIR_SMTP_HOST", "127.0.0.1")
EMAIL_PORT = env_int("COMPTOIR_SMTP_PORT", 25)
EMAIL_FILE_PATH = str(VAR_DIR / "mail")
DEFAULT_FROM_EMAIL = os.environ.get("COMPTOIR_FROM_EMAIL", "Marché Démo <ne-pas-repondre@marche-demo.test>")

# --- Comptoir: every delay of the seller guide is a setting with the guide's value as default ---
COMPTOIR = {
    "OPERATOR_NAME": os.environ.get("COMPTOIR_OPERATOR_NAME", "Marché Démo"),
    "PUBLIC_URL": os.environ.get("COMPTOIR_PUBLIC_URL", "http://127.0.0.1:8000"),
    "RELAY_DOMAIN": os.environ.get("COMPTOIR_RELAY_DOMAIN", "relais.marche-demo.test"),
    "SANDBOX": env_bool("COMPTOIR_SANDBOX", False),
    "CALENDAR_COUNTRY": os.environ.get("COMPTOIR_CALENDAR_COUNTRY", "FR"),
    "CALENDAR_SUBDIVISION": os.environ.get("COMPTOIR_CALENDAR_SUBDIVISION") or None,
    "ACCEPTANCE_BUSINESS_DAYS": env_int("COMPTOIR_ACCEPTANCE_BUSINESS_DAYS", 5),
    "ACCEPTANCE_WARNING_BUSINESS_DAYS": env_int("COMPTOIR_ACCEPTANCE_WARNING_BUSINESS_DAYS", 1),
    # The embedded payment provider captures this many seconds after acceptance.
    "DEBIT_DELAY_SECONDS": env_int("COMPTOIR_DEBIT_DELAY_SECONDS", 5),
    "DEBIT_GIVE_UP_SECONDS": env_int("COMPTOIR_DEBIT_GIVE_UP_SECONDS", 86400),
    "DEBIT_RETRY_SECONDS": env_int("COMPTOIR_DEBIT_RETRY_SECONDS", 60),
    "AUTHORIZATION_VALIDITY_DAYS": env_int("COMPTOIR_AUTHORIZATION_VALIDITY_DAYS", 7),
    # Renew an authorization this long before it expires.
    "AUTHORIZATION_RENEW_MARGIN_HOURS": env_int("COMPTOIR_AUTHORIZATION_RENEW_MARGIN_HOURS", 24),
    "RECEPTION_DAYS": env_int("COMPTOIR_RECEPTION_DAYS", 15),
    "CLOSING_DAYS": env_int("COMPTOIR_CLOSING_DAYS", 14),
    # Fraud gate: orders at or under this total (cents) skip STAGING; 0 disables the rule.
    "AUTO_APPROVE_MAX_CENTS": env_int("COMPTOIR_AUTO_APPROVE_MAX_CENTS", 0),
    "PAYMENT_ADAPTER": os.environ.get("COMPTOIR_PAYMENT_ADAPTER", "comptoir.payments.simulated.SimulatedProvider"),
    "WORKER_BATCH_SIZE": env_int("COMPTOIR_WORKER_BATCH_SIZE", 200),
    "WORKER_IDLE_SECONDS": float(os.environ.get("COMPTOIR_WORKER_IDLE_SECONDS", "1.0")),
    "WORKER_LEASE_SECONDS": env_int("COMPTOIR_WORKER_LEASE_SECONDS", 120),
    "API_MAX_PAGE_SIZE": 100,
    "OPERATOR_EMAIL": os.environ.get("COMPTOIR_OPERATOR_EMAIL", "operations@marche-demo.test"),
    "OUTBOX_MAX_ATTEMPTS": env_int("COMPTOIR_OUTBOX_MAX_ATTEMPTS", 8),
    # Operations (README « Exploitation »): seller API rate limits per key, "OR11=120/60,default=3000/60,A01=off"
    # over the defaults of observability/ratelimit.py; the cache alias holding the counters; /metrics's token.
    "RATE_LIMITS_ENABLED": env_bool("COMPTOIR_RATE_LIMITS_ENABLED", True),
    "RATE_LIMITS": os.environ.get("COMPTOIR_RATE_LIMITS", ""),
    "RATE_LIMIT_CACHE": os.environ.get("COMPTOIR_RATE_LIMIT_CACHE", "default"),
    "METRICS_TOKEN": os.environ.get("COMPTOIR_METRICS_TOKEN", ""),
    # The relay address (`comptoir relay`, README « Relais e-mail »): inbound SMTP for RELAY_DOMAIN.
    "RELAY_HOST": os.environ.get("COMPTOIR_RELAY_HOST", "127.0.0.1"),
    "RELAY_PORT": env_int("COMPTOIR_RELAY_PORT", 2525),
    # An order's address bounces this many days after the order ended (closed, refused or canceled).
    "RELAY_EXPIRY_DAYS": env_int("COMPTOIR_RELAY_EXPIRY_DAYS", 90),
    "RELAY_MAX_MESSAGE_BYTES": env_int("COMPTOIR_RELAY_MAX_MESSAGE_BYTES", 20 * 1024 * 1024),
    # Attachments forwarded, in total; beyond, they are left out and the recipient is told so.
    "RELAY_MAX_ATTACHMENT_BYTES": env_int("COMPTOIR_RELAY_MAX_ATTACHMENT_BYTES", 10 * 1024 * 1024),
    # How much of each message the operator's log keeps.
    "RELAY_RAW_MAX_BYTES": env_int("COMPTOIR_RELAY_RAW_MAX_BYTES", 512 * 1024),
    # Order documents (issue 8): upload size limit, and business days after shipment before a missing invoice
    # is flagged. Files go to STORAGES["documents"] when set (S3: README « Documents »), else var/documents.
    "DOCUMENT_MAX_BYTES": env_int("COMPTOIR_DOCUMENT_MAX_BYTES", 10 * 1024 * 1024),
    "INVOICE_MISSING_BUSINESS_DAYS": env_int("COMPTOIR_INVOICE_MISSING_BUSINESS_DAYS", 2),
    # Orphan files of that storage (a row never committed or deleted: documents/orphans.py): the worker removes
    # those older than ORPHAN_GRACE_HOURS (an upload in flight is younger) once per ORPHAN_SWEEP_HOURS (0: never;
    # `comptoir orphans` lists or removes them by hand).
    "ORPHAN_GRACE_HOURS": env_int("COMPTOIR_ORPHAN_GRACE_HOURS", 24),
    "ORPHAN_SWEEP_HOURS": env_int("COMPTOIR_ORPHAN_SWEEP_HOURS", 24),
    # The guide's customer-service clock (incidents): an unanswered customer message → reminder, then incident and
    # mediation; a formal notice gives this many business hours before the operator's solution is imposed.
    "REPLY_REMINDER_BUSINESS_HOURS": env_int("COMPTOIR_REPLY_REMINDER_BUSINESS_HOURS", 48),
    "REPLY_ESCALATION_BUSINESS_HOURS": env_int("COMPTOIR_REPLY_ESCALATION_BUSINESS_HOURS", 72),
    "FORMAL_NOTICE_BUSINESS_HOURS": env_int("COMPTOIR_FORMAL_NOTICE_BUSINESS_HOURS", 24),
    # Message attachments (PDF, JPEG, PNG checked by content): the size limit of each file.
    "MESSAGE_ATTACHMENT_MAX_BYTES": env_int("COMPTOIR_MESSAGE_ATTACHMENT_MAX_BYTES", 5 * 1024 * 1024),
    # Webhooks (README « Webhooks »): POST timeout, attempts before a delivery is DEAD, deliveries per sweep,
    # endpoints per shop; how long a process trusts its map of subscribed shops (another process's change of an
    # endpoint is seen within it); http:// and loopback endpoints (development and tests only; default: DEBUG).
    "WEBHOOK_TIMEOUT_SECONDS": float(os.environ.get("COMPTOIR_WEBHOOK_TIMEOUT_SECONDS", "5")),
    "WEBHOOK_MAX_ATTEMPTS": env_int("COMPTOIR_WEBHOOK_MAX_ATTEMPTS", 10),
    "WEBHOOK_BATCH_SIZE": env_int("COMPTOIR_WEBHOOK_BATCH_SIZE", 20),
    "WEBHOOK_MAX_ENDPOINTS": env_int("COMPTOIR_WEBHOOK_MAX_ENDPOINTS", 10),
    "WEBHOOK_SUBSCRIPTIONS_CACHE_SECONDS": float(os.environ.get("COMPTOIR_WEBHOOK_SUBSCRIPTIONS_CACHE_SECONDS", "5")),
    "WEBHOOK_ALLOW_LOCAL_HTTP": env_bool("COMPTOIR_WEBHOOK_ALLOW_LOCAL_HTTP", DEBUG),
    # Seller scorecards (README « Indicateurs vendeurs »): each open shop is checked against the operator's
    # thresholds once per SCORECARD_CHECK_HOURS, SCORECARD_BATCH_SIZE shops per worker round.
    "SCORECARD_CHECK_HOURS": env_int("COMPTOIR_SCORECARD_CHECK_HOURS", 24),
    "SCORECARD_BATCH_SIZE": env_int("COMPTOIR_SCORECARD_BATCH_SIZE", 20),
    # Personal data (GDPR): customers' names, addresses, phones and e-mail are redacted this many days after the
    # order ended (closed, refused or canceled); 0 turns redaction off. The ledger and invoices are kept.
    "REDACT_AFTER_DAYS": env_int("COMPTOIR_REDACT_AFTER_DAYS", 365),
    "REDACT_BATCH_SIZE": env_int("COMPTOIR_REDACT_BATCH_SIZE", 200),
    # The operator's own legal identity: the seller on the commission invoices it issues to shops at each payout.
    "OPERATOR_LEGAL": {
        "NAME": os.environ.get("COMPTOIR_OPERATOR_LEGAL_NAME", "Marché Démo SAS"),
        "STREET": os.environ.get("COMPTOIR_OPERATOR_LEGAL_STREET", "10 rue de la République"),
        "ZIP_CODE": os.environ.get("COMPTOIR_OPERATOR_LEGAL_ZIP_CODE", "75011"),
        "CITY": os.environ.get("COMPTOIR_OPERATOR_LEGAL_CITY", "Paris"),
        "COUNTRY_ISO_CODE": os.environ.get("COMPTOIR_OPERATOR_LEGAL_COUNTRY_ISO_CODE", "FRA"),
        "SIREN": os.environ.get("COMPTOIR_OPERATOR_LEGAL_SIREN", "900000001"),
        "RCS": os.environ.get("COMPTOIR_OPERATOR_LEGAL_RCS", "Paris B 900 000 001"),
        "LEGAL_FORM": os.environ.get("COMPTOIR_OPERATOR_LEGAL_FORM", "SAS"),
        "SHARE_CAPITAL": os.environ.get("COMPTOIR_OPERATOR_LEGAL_SHARE_CAPITAL", "50 000 €"),
        "VAT_NUMBER": os.environ.get("COMPTOIR_OPERATOR_LEGAL_VAT_NUMBER", "FR68900000001"),
        "EMAIL": os.environ.get("COMPTOIR_OPERATOR_LEGAL_EMAIL", "facturation@marche-demo.test"),
    },
}
