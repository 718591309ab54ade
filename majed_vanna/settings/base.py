"""Settings shared by every profile. Every value comes from the environment with an embedded default.

Contract §8 lists the variables. Only this package reads ``os.environ``.
"""

import os
import secrets
from pathlib import Path

import dj_database_url

BASE_DIR = Path(__file__).resolve().parent.parent.parent


def env(name: str, default: str | None = None) -> str | None:
    value = os.environ.get(name)
    return default if value in (None, "") else value


def env_bool(name: str, default: bool) -> bool:
    value = env(name)
    return default if value is None else value.strip().lower() in {"1", "true", "yes", "on"}


def env_int(name: str, default: int) -> int:
    value = env(name)
    return default if value is None else int(value)


def env_list(name: str, default: str = "") -> list[str]:
    return [item.strip() for item in (env(name, default) or "").split(",") if item.strip()]


DJANGO_ENV = (env("DJANGO_ENV", "development") or "development").lower()
VERSION = "0.1.0"

# Embedded data: SQLite file, generated secret key, backups.
DATA_DIR = Path(env("MV_DATA_DIR", str(BASE_DIR / "data"))).resolve()


def _generated_secret_key() -> str:
    """Read the secret key kept in the data dir, creating it (mode 600) on first run."""
    DATA_DIR.mkdir(parents=True, exist_ok=True)
    key_file = DATA_DIR / "secret_key"
    if not key_file.exists():
        fd = os.open(key_file, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "w") as handle:
            handle.write(secrets.token_urlsafe(64))
    return key_file.read_text().strip()


SECRET_KEY = env("SECRET_KEY") or env("DJANGO_SECRET_KEY")
DEBUG = env_bool("DJANGO_DEBUG", False)
ALLOWED_HOSTS = env_list("ALLOWED_HOSTS", "localhost,127.0.0.1,[::1]")
CSRF_TRUSTED_ORIGINS = env_list("CSRF_TRUSTED_ORIGINS")
CORS_ALLOWED_ORIGINS = env_list("CORS_ALLOWED_ORIGINS")
TRUSTED_PROXY_COUNT = env_int("TRUSTED_PROXY_COUNT", 0)
PORT = env_int("PORT", 7777)

INSTALLED_APPS = [
    "daphne",
    "majed_vanna.admin_site.MajedVannaAdminConfig",  # django.contrib.admin with the password-change gate
    # Before django.contrib.auth: its createsuperuser (password policy on every path, audited) replaces Django's.
    "accounts",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "whitenoise.runserver_nostatic",
    "django.contrib.staticfiles",
    "rest_framework",
    "rest_framework_simplejwt.token_blacklist",
    "django_filters",
    "drf_spectacular",
    "drf_spectacular_sidecar",  # Swagger UI and ReDoc served from our static files (no CDN)
    "corsheaders",
    "channels",
    "majed_vanna",
    "integrations",
    "config_api",
    "agent",
    "health",
]

MIDDLEWARE = [
    "majed_vanna.middleware.RequestContextMiddleware",
    # Before the body limit: its 413 (and every other early answer) must carry CORS headers, or a browser
    # reports a CORS error instead of the 413.
    "corsheaders.middleware.CorsMiddleware",
    "majed_vanna.middleware.BodySizeLimitMiddleware",
    "django.middleware.security.SecurityMiddleware",
    "majed_vanna.middleware.StaticFilesMiddleware",  # WhiteNoise, async-capable
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
]

ROOT_URLCONF = "majed_vanna.urls"
APPEND_SLASH = False  # contract paths have no trailing slash; routes accept both
WSGI_APPLICATION = "majed_vanna.wsgi.application"
ASGI_APPLICATION = "majed_vanna.asgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [],
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

# --- Database: SQLite in the data dir unless DATABASE_URL says otherwise.
DATABASE_URL = env("DATABASE_URL") or f"sqlite:///{DATA_DIR / 'db.sqlite3'}"
# conn_max_age=0: under ASGI (daphne) each request's sync work runs in its own thread, so persistent
# connections would pile up, one per thread; Django's docs say to disable them with ASGI servers (and its
# connection pool requires 0). CONN_HEALTH_CHECKS: the pool checks a connection before handing it out.
DATABASES = {"default": dj_database_url.parse(DATABASE_URL, conn_max_age=0, conn_health_checks=True)}
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    DATA_DIR.mkdir(parents=True, exist_ok=True)
    # Several threads (the async views' pool, Celery eager tasks) share the file: wait for locks.
    DATABASES["default"]["OPTIONS"] = {"timeout": 20, "transaction_mode": "IMMEDIATE"}
    DATABASES["default"]["CONN_MAX_AGE"] = 0
else:
    DATABASES["default"].setdefault("OPTIONS", {}).setdefault("connect_timeout", 5)
if DATABASES["default"]["ENGINE"] == "django.db.backends.postgresql" and env_bool("DB_POOL", True):
    # Django's psycopg pool (README "Production"): a request borrows an open connection instead of opening
    # one (~2.6 ms). Per process: DB_POOL_MAX_SIZE x server and worker processes must stay below
    # PostgreSQL's max_connections. A request that finds the pool empty waits DB_POOL_TIMEOUT seconds.
    DATABASES["default"]["OPTIONS"]["pool"] = {
        "min_size": env_int("DB_POOL_MIN_SIZE", 2),
        "max_size": env_int("DB_POOL_MAX_SIZE", 20),
        "timeout": env_int("DB_POOL_TIMEOUT", 5),
    }
# Leave ATOMIC_REQUESTS off: Django refuses it on async views and it would roll back audit rows of
# failed requests. Services use transaction.atomic.
ATOMIC_REQUESTS = False
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

# --- Cache, channel layer, Celery broker: Redis when REDIS_URL is set, in-process otherwise.
REDIS_URL = env("REDIS_URL")
CACHE_KEY_PREFIX = env("CACHE_KEY_PREFIX", "mv")
# Seconds to connect to Redis and to wait for one answer; after a failure, this process fails every cache call
# at once for CACHE_BREAKER_SECONDS, then tries again with one call (majed_vanna.cache_client).
CACHE_CONNECT_TIMEOUT_SECONDS = float(env("CACHE_CONNECT_TIMEOUT_SECONDS", "0.5"))
CACHE_SOCKET_TIMEOUT_SECONDS = float(env("CACHE_SOCKET_TIMEOUT_SECONDS", "1"))
CACHE_BREAKER_SECONDS = float(env("CACHE_BREAKER_SECONDS", "3"))
if REDIS_URL:
    CACHES = {
        "default": {
            "BACKEND": "django_redis.cache.RedisCache",
            "LOCATION": REDIS_URL,
            "KEY_PREFIX": CACHE_KEY_PREFIX,
            "OPTIONS": {
                "CLIENT_CLASS": "django_redis.client.DefaultClient",
                # Short, so that a hung Redis costs little (health answers within its own timeouts), and a
                # per-process breaker fails fast after a failure (majed_vanna.cache_client, README "Production").
                "SOCKET_CONNECT_TIMEOUT": CACHE_CONNECT_TIMEOUT_SECONDS,
                "SOCKET_TIMEOUT": CACHE_SOCKET_TIMEOUT_SECONDS,
                "CONNECTION_POOL_CLASS": "majed_vanna.cache_client.BreakerConnectionPool",
            },
        }
    }
    CHANNEL_LAYERS = {
        "default": {
            "BACKEND": "channels_redis.core.RedisChannelLayer",
            "CONFIG": {"hosts": [REDIS_URL], "prefix": f"{CACHE_KEY_PREFIX}:asgi"},
        }
    }
    CELERY_BROKER_URL = REDIS_URL
    CELERY_RESULT_BACKEND = REDIS_URL
    CELERY_TASK_ALWAYS_EAGER = False
else:
    CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache", "KEY_PREFIX": CACHE_KEY_PREFIX}}
    CHANNEL_LAYERS = {"default": {"BACKEND": "channels.layers.InMemoryChannelLayer"}}
    # No broker: tasks run in-process, at once, in the caller's thread (documented in the README).
    CELERY_BROKER_URL = "memory://"
    CELERY_RESULT_BACKEND = "cache+memory://"
    CELERY_TASK_ALWAYS_EAGER = True
CELERY_TASK_EAGER_PROPAGATES = False
# Worker faults (README "Running the worker"). Tasks are acknowledged after they ran (a task whose worker died
# is handed out again; each one checks its job's state first, so a redelivery never runs a job twice or revives
# a failed one); the scheduled backup opts out (tasks.py). A job whose process was killed (OOM) is not re-run:
# the stale-job sweeper fails it. A broker outage never stops the worker: it reconnects for as long as it takes,
# the running job goes on (its result is in the database, not the broker). Redis hands an unacknowledged message
# to another worker only after the visibility timeout, which must exceed the longest job (the hard time limit).
CELERY_TASK_ACKS_LATE = True
CELERY_TASK_REJECT_ON_WORKER_LOST = False
CELERY_TASK_TIME_LIMIT = 60 * 60
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
CELERY_WORKER_CANCEL_LONG_RUNNING_TASKS_ON_CONNECTION_LOSS = False
CELERY_WORKER_CONSUMER = "majed_vanna.celery:Consumer"
CELERY_BROKER_CONNECTION_RETRY = True
CELERY_BROKER_CONNECTION_MAX_RETRIES = None
CELERY_BROKER_TRANSPORT_OPTIONS = {"visibility_timeout": CELERY_TASK_TIME_LIMIT + 15 * 60}
CELERY_TIMEZONE = "UTC"
CELERY_BROKER_CONNECTION_RETRY_ON_STARTUP = True

# --- Passwords: Argon2, Django's validators plus a 12-character minimum. At most PASSWORD_HASH_CONCURRENCY
# hashes run at once per process (each holds ~100 MB): accounts/hashers.py.
PASSWORD_HASH_CONCURRENCY = env_int("PASSWORD_HASH_CONCURRENCY", 2)
PASSWORD_HASHERS = [
    "accounts.hashers.BoundedArgon2PasswordHasher",
    "django.contrib.auth.hashers.PBKDF2PasswordHasher",
]
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator", "OPTIONS": {"min_length": 12}},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
AUTH_USER_MODEL = "accounts.User"

LANGUAGE_CODE = "en-us"
TIME_ZONE = "UTC"
USE_I18N = True
USE_TZ = True

STATIC_URL = "static/"
STATIC_ROOT = Path(env("STATIC_ROOT", str(DATA_DIR / "static")))  # the Docker image collects into the image
STATIC_ROOT.mkdir(parents=True, exist_ok=True)
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "whitenoise.storage.CompressedStaticFilesStorage"},
}

# --- Request limits (contract §1): 10 MB bodies, larger ones answer 413.
MAX_REQUEST_BODY_BYTES = env_int("MAX_REQUEST_BODY_BYTES", 10 * 1024 * 1024)
# Path prefixes allowed a larger body (e.g. backup upload); apps add theirs here.
REQUEST_BODY_LIMIT_OVERRIDES: dict[str, int] = {}
DATA_UPLOAD_MAX_MEMORY_SIZE = MAX_REQUEST_BODY_BYTES
# Read deadlines of daphne's HTTP connections (majed_vanna.daphne_hardening): a request's line and headers must
# arrive within the first, its body within the second, else 408 and the connection is closed.
HTTP_HEADER_TIMEOUT_SECONDS = env_int("HTTP_HEADER_TIMEOUT_SECONDS", 10)
HTTP_BODY_TIMEOUT_SECONDS = env_int("HTTP_BODY_TIMEOUT_SECONDS", 60)
# JSON nested deeper than this is refused (400) before it is decoded (majed_vanna.api.parsers).
MAX_JSON_DEPTH = env_int("MAX_JSON_DEPTH", 64)

# --- REST framework.
REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": [
        "accounts.authentication.JWTAuthentication",
        "integrations.authentication.APIKeyAuthentication",
        "integrations.authentication.HMACSignatureAuthentication",
    ],
    "DEFAULT_PERMISSION_CLASSES": ["rest_framework.permissions.IsAuthenticated"],
    "DEFAULT_RENDERER_CLASSES": ["majed_vanna.api.renderers.EnvelopeJSONRenderer"],
    "DEFAULT_PARSER_CLASSES": [
        "majed_vanna.api.parsers.JSONParser",  # refuses absurd nesting before decoding (400)
        "rest_framework.parsers.FormParser",
        "rest_framework.parsers.MultiPartParser",
    ],
    "DEFAULT_THROTTLE_CLASSES": [],  # the request policy throttles by named scope (majed_vanna.api.scopes)
    "DEFAULT_PAGINATION_CLASS": "majed_vanna.api.pagination.EnvelopePagination",
    # Lists filter in their selector through a FilterSet (majed_vanna.api.filtering): 422 for a bad value.
    "DEFAULT_FILTER_BACKENDS": [],
    "DEFAULT_SCHEMA_CLASS": "drf_spectacular.openapi.AutoSchema",
    "EXCEPTION_HANDLER": "majed_vanna.api.exception_handler.api_exception_handler",
    "UNAUTHENTICATED_USER": "django.contrib.auth.models.AnonymousUser",
    # No ?format= override: it answered 404 on every endpoint for any value.
    "URL_FORMAT_OVERRIDE": None,
}
# Rate applied to endpoints that declare none; config_api replaces it at run time (contract §3, §6).
DEFAULT_THROTTLE_RATE = env("DEFAULT_THROTTLE_RATE", "1000/hour")
IDEMPOTENCY_TTL_SECONDS = 24 * 60 * 60

SPECTACULAR_SETTINGS = {
    "TITLE": "Majed Vanna API",
    "DESCRIPTION": (
        "Ask questions of your SQL database in plain language. Every JSON response is wrapped in the "
        "envelope `{success, data, message, timestamp, request_id}` (errors: `{success: false, error: "
        "{code, message, details}, timestamp, request_id}`); the schemas below show the `data` part."
    ),
    "VERSION": VERSION,
    "SERVE_INCLUDE_SCHEMA": False,
    "SCHEMA_PATH_PREFIX": r"/api/v1",
    "COMPONENT_SPLIT_REQUEST": True,
    # The docs pages load Swagger UI and ReDoc from our own static files (drf-spectacular-sidecar, pinned in
    # requirements.txt), so they work offline; Swagger UI does not send the schema to an online validator.
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
    "SWAGGER_UI_SETTINGS": {"deepLinking": True, "validatorUrl": None},
    # Several resources have a "status" enum; name each so the schema is stable.
    "ENUM_NAME_OVERRIDES": {
        "IntegrationClientStatusEnum": "integrations.models.ClientStatus",
        "HealthStatusEnum": "health.serializers.STATUS_CHOICES",
        "HealthCheckStatusEnum": "health.serializers.CHECK_STATUS_CHOICES",
        "MessageRoleEnum": "agent.models.conversations.MessageRole",
        "EvalRunStatusEnum": "agent.models.evals.EvalRunStatus",
        "RoleEnum": "majed_vanna.roles.Role",  # the user roles (another "role" enum exists: messages)
        "RolesEnum": "agent.models.sources.SOURCE_ROLES",  # a data source's roles, a semantic table's visible_to
        "SemanticStateEnum": "agent.models.semantic.DriftState",
        "MemoryKindEnum": "agent.models.knowledge.MemoryKind",  # other "kind" enums exist (semantic search)
        "MemoryStatusEnum": "agent.models.knowledge.MemoryStatus",  # another "state" enum exists: circuit breakers
    },
    # Contract paths have no trailing slash (routes accept both forms).
    "PREPROCESSING_HOOKS": ["majed_vanna.api.schema.contract_paths"],
    "POSTPROCESSING_HOOKS": [
        "drf_spectacular.hooks.postprocess_schema_enums",
        "majed_vanna.api.schema.wrap_in_envelope",
        "majed_vanna.api.schema.page_bounds",  # every page/per_page with the bounds the API enforces
        "majed_vanna.api.schema.add_links",  # create -> read/update/delete links for stateful clients
    ],
}

# --- Logging: every record carries the request id.
LOG_LEVEL = env("LOG_LEVEL", "INFO")
LOG_JSON = env_bool("LOG_JSON", False)
LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "filters": {"request_id": {"()": "majed_vanna.logging.RequestIdFilter"}},
    "formatters": {
        "plain": {"format": "%(asctime)s %(levelname)s %(name)s [%(request_id)s] %(message)s"},
        "json": {
            "()": "pythonjsonlogger.json.JsonFormatter",
            "fmt": "%(asctime)s %(levelname)s %(name)s %(request_id)s %(message)s",
            "rename_fields": {"asctime": "timestamp", "levelname": "level", "name": "logger"},
        },
    },
    "handlers": {
        "console": {
            "class": "logging.StreamHandler",
            "filters": ["request_id"],
            "formatter": "json" if LOG_JSON else "plain",
        }
    },
    "root": {"handlers": ["console"], "level": LOG_LEVEL},
    "loggers": {
        "django.server": {"level": "WARNING"},
        "django.request": {"level": "ERROR"},
        # One INFO line per outgoing HTTP request (two per chat with an LLM): noise at the access log's cost.
        "httpx": {"level": "WARNING"},
        "httpx2": {"level": "WARNING"},
    },
}

# --- JWT (contract §5 "Authentication"): HS256 pinned, iss/aud set and verified, signing key derived
# from SECRET_KEY unless JWT_SIGNING_KEY is given.
from datetime import timedelta  # noqa: E402

SIMPLE_JWT = {
    "ACCESS_TOKEN_LIFETIME": timedelta(minutes=env_int("JWT_ACCESS_MINUTES", 30)),
    "REFRESH_TOKEN_LIFETIME": timedelta(days=1),
    "ROTATE_REFRESH_TOKENS": True,
    "BLACKLIST_AFTER_ROTATION": True,
    "UPDATE_LAST_LOGIN": False,
    "ALGORITHM": "HS256",
    "SIGNING_KEY": None,  # filled in by each profile once SECRET_KEY is known
    "ISSUER": env("JWT_ISSUER", "majed-vanna"),
    "AUDIENCE": env("JWT_AUDIENCE", "majed-vanna-api"),
    "AUTH_HEADER_TYPES": ("Bearer",),
    "USER_ID_FIELD": "id",
    "USER_ID_CLAIM": "user_id",
    "TOKEN_TYPE_CLAIM": "token_type",
    "JTI_CLAIM": "jti",
    "LEEWAY": 0,
}
JWT_SIGNING_KEY = env("JWT_SIGNING_KEY")
JWT_REMEMBER_ME_REFRESH_LIFETIME = timedelta(days=30)


def derived_key(secret: str, purpose: str) -> str:
    """A key for one purpose (JWT signing, secret encryption) derived from SECRET_KEY."""
    import hashlib
    import hmac

    return hmac.new(secret.encode(), f"majed-vanna:{purpose}".encode(), hashlib.sha256).hexdigest()


# --- Accounts (contract §3, §5, §8): login protection and the demo admin's password.
LOGIN_RATE = env("LOGIN_RATE", "5/minute")  # per client IP and per attempted username
LOGIN_FAILURE_LIMIT = env_int("LOGIN_FAILURE_LIMIT", 5)  # consecutive failures before the lockout
LOGIN_LOCKOUT_SECONDS = env_int("LOGIN_LOCKOUT_SECONDS", 15 * 60)
MV_ADMIN_PASSWORD = env("MV_ADMIN_PASSWORD")  # seed_demo's password for admin@example.com; generated if unset
# The Django admin login shares the API's lockout (and is audited).
AUTHENTICATION_BACKENDS = ["accounts.backends.LockoutModelBackend"]

# --- Foundation: health checks and request metrics (README "Health and metrics").
# How often each serving process publishes its request metrics to the shared cache (0: never).
METRICS_PUBLISH_SECONDS = env_int("METRICS_PUBLISH_SECONDS", 5)
# Seconds one health check may take before it counts as failed; the endpoint never waits longer.
HEALTH_CHECK_TIMEOUT_SECONDS = float(env("HEALTH_CHECK_TIMEOUT_SECONDS", "3"))
# Seconds the check results are kept in the shared cache: calls within that window do not run them again.
HEALTH_CACHE_SECONDS = float(env("HEALTH_CACHE_SECONDS", "2"))

# --- Async views under ASGI (majed_vanna.asgi_handler): the sync steps of async views (request policy, ORM, the
# request signals) run on this many threads per server process, shared by every request, instead of one thread
# per request for its whole life (a thousand waiting chats held a thousand threads). Keep it below
# DB_POOL_MAX_SIZE: each of these threads holds a database connection only while a call runs. The health
# views have ASYNC_HEALTH_THREADS of their own, so that /health answers while chats queue.
ASYNC_VIEW_THREADS = env_int("ASYNC_VIEW_THREADS", 8)
ASYNC_HEALTH_THREADS = env_int("ASYNC_HEALTH_THREADS", 2)

# --- Agent SQL runners (README "Read-only data sources"): how agent queries reach a data source.
# PostgreSQL: connections per data source and server process, seconds a query waits for one, seconds to connect.
SQL_POOL_MAX_SIZE = env_int("SQL_POOL_MAX_SIZE", 4)
SQL_POOL_TIMEOUT_SECONDS = float(env("SQL_POOL_TIMEOUT_SECONDS", "5"))
SQL_CONNECT_TIMEOUT_SECONDS = env_int("SQL_CONNECT_TIMEOUT_SECONDS", 5)
# PostgreSQL cost guard: a statement whose EXPLAIN total cost is above this is refused before it runs (0: off).
SQL_MAX_PLAN_COST = float(env("SQL_MAX_PLAN_COST", "0"))
# Rows fetched per round trip (both engines); SQLite queries run on a pool of this many threads per process.
SQL_FETCH_BATCH_ROWS = env_int("SQL_FETCH_BATCH_ROWS", 500)
SQL_SQLITE_MAX_WORKERS = env_int("SQL_SQLITE_MAX_WORKERS", 4)

# --- The agent's LLM calls (agent/llm). One pooled client per provider + base URL + key per process, of
# LLM_MAX_CONNECTIONS connections; a call times out after LLM_TIMEOUT_SECONDS (between two streamed events) and
# is retried up to LLM_MAX_RETRIES times on 408/409/429/5xx and connection errors, waiting Retry-After or
# LLM_RETRY_BASE_DELAY * 2**attempt, at most LLM_RETRY_MAX_DELAY seconds each time.
LLM_MAX_CONNECTIONS = env_int("LLM_MAX_CONNECTIONS", 1000)  # the concurrency goal: 1,000 chats per process
LLM_TIMEOUT_SECONDS = float(env("LLM_TIMEOUT_SECONDS", "60"))
LLM_CONNECT_TIMEOUT_SECONDS = float(env("LLM_CONNECT_TIMEOUT_SECONDS", "5"))
LLM_MAX_RETRIES = env_int("LLM_MAX_RETRIES", 2)
LLM_RETRY_BASE_DELAY = float(env("LLM_RETRY_BASE_DELAY", "0.5"))
LLM_RETRY_MAX_DELAY = float(env("LLM_RETRY_MAX_DELAY", "8"))
# A chat stream (agent/chat_sse) sends a `: keep-alive` comment after this many seconds without an event, so
# that proxies and clients with an idle timeout keep the connection while the model thinks.
AGENT_SSE_HEARTBEAT_SECONDS = float(env("AGENT_SSE_HEARTBEAT_SECONDS", "15"))

# --- Integration clients (contract §5, README "Integration clients"). Keys that encrypt the clients' signing
# secrets at rest, newest first: passphrases of >= 32 chars, or "secret_key" for keys derived from SECRET_KEY
# (and SECRET_KEY_FALLBACKS). Signed requests are accepted within ±300 s; nonces are kept twice as long.
INTEGRATIONS_ENCRYPTION_KEYS = env_list("INTEGRATIONS_ENCRYPTION_KEYS", "secret_key")
INTEGRATIONS_SIGNATURE_MAX_AGE_SECONDS = 300
INTEGRATIONS_NONCE_TTL_SECONDS = 2 * INTEGRATIONS_SIGNATURE_MAX_AGE_SECONDS

# --- Runtime configuration and backups (config_api). Each value here is the default the runtime
# configuration starts from; admins change them through PUT /api/v1/config (README "Configuration").
LLM_PROVIDER = (env("LLM_PROVIDER", "none") or "none").lower()  # none|openai|anthropic
LLM_MODEL = env("LLM_MODEL", "")
LLM_BASE_URL = env("LLM_BASE_URL", "")
LLM_API_KEY = env("LLM_API_KEY", "")
# Retrieval of saved questions: bm25 (built in) or embeddings (the extra in requirements-embeddings.txt).
MV_RETRIEVAL_BACKEND = (env("MV_RETRIEVAL_BACKEND", "bm25") or "bm25").strip().lower()
# The agent's data source (the database people ask questions of), not Django's own database.
MV_DATA_SOURCE_URL = env("MV_DATA_SOURCE_URL", f"sqlite:///{DATA_DIR / 'demo.sqlite3'}")
MV_BACKUP_DIR = env("MV_BACKUP_DIR", str(DATA_DIR / "backups"))
MV_LOG_DIR = env("MV_LOG_DIR", str(DATA_DIR / "logs"))
MV_BACKUP_RETENTION_DAYS = env_int("MV_BACKUP_RETENTION_DAYS", 30)
# backup_path and log_path must resolve inside one of these roots.
MV_ALLOWED_PATH_ROOTS = [str(DATA_DIR), *env_list("MV_ALLOWED_PATH_ROOTS")]
MV_BACKUP_UPLOAD_MAX_BYTES = env_int("MV_BACKUP_UPLOAD_MAX_BYTES", 1024 * 1024 * 1024)
# A running backup or restore writes a heartbeat every BACKUP_HEARTBEAT_SECONDS; the sweeper (Celery beat every
# minute, and each worker start) fails a job whose heartbeat is older than BACKUP_STALE_SECONDS (its worker died).
BACKUP_HEARTBEAT_SECONDS = float(env("BACKUP_HEARTBEAT_SECONDS", "5"))
BACKUP_STALE_SECONDS = env_int("BACKUP_STALE_SECONDS", 300)
REQUEST_BODY_LIMIT_OVERRIDES["/api/v1/backups/upload"] = MV_BACKUP_UPLOAD_MAX_BYTES

from celery.schedules import crontab  # noqa: E402

CELERY_BEAT_SCHEDULE = {
    "daily-backup": {"task": "config_api.tasks.backup_scheduled_task", "schedule": crontab(hour=3, minute=0)},
    "daily-backup-retention": {"task": "config_api.tasks.backup_prune_task", "schedule": crontab(hour=3, minute=30)},
    "backup-stale-sweep": {"task": "config_api.tasks.backup_sweep_task", "schedule": 60.0},
}
