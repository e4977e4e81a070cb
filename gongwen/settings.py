"""Django settings for gongwen: one file, typed environment helpers (STYLE.md §1).

Every deployment-specific value comes from a ``GONGWEN_*`` environment variable with a
default that suits the embedded SQLite demo. ``*_FILE`` variants are read for secrets.
"""

from __future__ import annotations

import os
from pathlib import Path
from urllib.parse import unquote, urlparse

BASE_DIR = Path(__file__).resolve().parent.parent
VAR_DIR = Path(os.environ.get("GONGWEN_VAR_DIR", BASE_DIR / "var"))


def env_str(name: str, default: str = "") -> str:
    file_path = os.environ.get(f"{name}_FILE")
    if file_path:
        return Path(file_path).read_text(encoding="utf-8").strip()
    return os.environ.get(name, default)


def env_bool(name: str, default: bool = False) -> bool:
    value = os.environ.get(name)
    if value is None:
        return default
    return value.strip().lower() in {"1", "true", "yes", "on"}


def env_int(name: str, default: int, minimum: int | None = None) -> int:
    value = os.environ.get(name)
    if value in (None, ""):
        return default
    try:
        number = int(value)
    except ValueError:
        raise ValueError(f"{name} must be an integer, got {value!r}") from None
    if minimum is not None and number < minimum:
        raise ValueError(f"{name} must be at least {minimum}, got {number}")
    return number


def env_list(name: str, default: list[str]) -> list[str]:
    value = os.environ.get(name)
    if not value:
        return default
    return [item.strip() for item in value.split(",") if item.strip()]


def database_from_url(url: str) -> dict:
    """Turn ``sqlite:///path`` or ``postgres://user:pw@host:port/name`` into DATABASES['default']."""
    parsed = urlparse(url)
    if parsed.scheme == "sqlite":
        path = unquote(parsed.path) or str(VAR_DIR / "gongwen.sqlite3")
        if path.startswith("//"):  # sqlite:////abs/path
            path = path[1:]
        return {
            "ENGINE": "django.db.backends.sqlite3",
            "NAME": path,
            # Writers queue instead of failing with "database is locked" (PITFALLS.md).
            "OPTIONS": {"transaction_mode": "IMMEDIATE", "timeout": 30},
            "TEST": {"NAME": str(Path(path).with_name("test-" + Path(path).name))},
        }
    if parsed.scheme in {"postgres", "postgresql"}:
        return {
            "ENGINE": "django.db.backends.postgresql",
            "NAME": unquote(parsed.path.lstrip("/")) or "gongwen",
            "USER": unquote(parsed.username or "postgres"),
            "PASSWORD": unquote(parsed.password or ""),
            "HOST": parsed.hostname or "127.0.0.1",
            "PORT": str(parsed.port or 5432),
            "CONN_MAX_AGE": 60,
        }
    raise ValueError(f"unsupported GONGWEN_DATABASE_URL scheme: {parsed.scheme!r}")


SECRET_KEY = env_str("GONGWEN_SECRET_KEY", "dev-only-insecure-key-change-me-in-production")
DEBUG = env_bool("GONGWEN_DEBUG", False)
ALLOWED_HOSTS = env_list("GONGWEN_ALLOWED_HOSTS", ["127.0.0.1", "localhost", "[::1]", "testserver"])
CSRF_TRUSTED_ORIGINS = env_list("GONGWEN_CSRF_TRUSTED_ORIGINS", [])

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "whitenoise.runserver_nostatic",
    "django.contrib.staticfiles",
    "django_htmx",
    "django_tasks",
    "django_tasks_db",
    "ninja",
    "gongwen.units",
    "gongwen.accounts",
    "gongwen.audit",
    "gongwen.policy",
    "gongwen.authority",
    "gongwen.seals",
    "gongwen.documents",
    "gongwen.exchange",
    "gongwen.web",
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
    # Below the user and the messages: they render pages and read the login state.
    "gongwen.web.middleware.ExplainMethodNotAllowed",
    "gongwen.web.middleware.LoginRedirects",
    # Last: the error page it renders needs the user and the messages set up above.
    "gongwen.web.middleware.RefuseNulCharacters",
]

ROOT_URLCONF = "gongwen.urls"
WSGI_APPLICATION = "gongwen.wsgi.application"

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
                "gongwen.web.context.navigation",
            ],
        },
    },
]

DATABASES = {
    "default": database_from_url(
        env_str("GONGWEN_DATABASE_URL", f"sqlite:///{VAR_DIR / 'gongwen.sqlite3'}")
    )
}
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

AUTH_USER_MODEL = "accounts.User"
LOGIN_URL = "web:login"
LOGIN_REDIRECT_URL = "web:home"
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator",
     "OPTIONS": {"min_length": 8}},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
SESSION_COOKIE_AGE = env_int("GONGWEN_SESSION_SECONDS", 8 * 3600)
SESSION_COOKIE_HTTPONLY = True
CSRF_FAILURE_VIEW = "gongwen.web.views.common.csrf_failure"

LANGUAGE_CODE = "zh-hans"
LANGUAGES = [("zh-hans", "简体中文")]
TIME_ZONE = env_str("GONGWEN_TIME_ZONE", "Asia/Shanghai")
USE_I18N = True
USE_TZ = True

STATIC_URL = "/static/"
STATIC_ROOT = VAR_DIR / "static"
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
}
WHITENOISE_USE_FINDERS = True
WHITENOISE_AUTOREFRESH = DEBUG

TASKS = {
    "default": {
        "BACKEND": env_str("GONGWEN_TASKS_BACKEND", "django_tasks_db.DatabaseBackend"),
    }
}

EMAIL_BACKEND = env_str("GONGWEN_EMAIL_BACKEND", "django.core.mail.backends.console.EmailBackend")
EMAIL_HOST = env_str("GONGWEN_SMTP_HOST", "")
DEFAULT_FROM_EMAIL = env_str("GONGWEN_MAIL_FROM", "gongwen@localhost")

# --- gongwen's own settings -------------------------------------------------------------
GONGWEN = {
    # Algorithm suite of this deployment (R-PKI-1): "GM" (SM2/SM3/SM4) or "INTL".
    "SUITE": env_str("GONGWEN_SUITE", "GM"),
    # Login lockout: after this many consecutive failures the account is locked.
    "LOGIN_MAX_FAILURES": env_int("GONGWEN_LOGIN_MAX_FAILURES", 5),
    "LOGIN_LOCK_MINUTES": env_int("GONGWEN_LOGIN_LOCK_MINUTES", 15),
    # Public base URL, used in certificates (CRL distribution point) and printed QR codes.
    "PUBLIC_URL": env_str("GONGWEN_PUBLIC_URL", "http://127.0.0.1:8000"),
    "BLOB_DIR": str(Path(env_str("GONGWEN_BLOB_DIR", str(VAR_DIR / "blobs")))),
    # Passphrase that encrypts the CA private keys at rest (set it in production).
    "CA_PASSPHRASE": env_str("GONGWEN_CA_PASSPHRASE", "dev-only-ca-passphrase-change-me"),
    # Largest uploaded PDF/OFD body or attachment (R-DOC-4).
    "UPLOAD_MAX_BYTES": env_int("GONGWEN_UPLOAD_MAX_MB", 50) * 1024 * 1024,
    # CRL validity; `gongwen pki crl --if-due` (or the worker) renews CRLs before they lapse.
    "CRL_VALIDITY_DAYS": env_int("GONGWEN_CRL_VALIDITY_DAYS", 7),
    # Official fonts (R-DOC-2), role -> file path, e.g. GONGWEN_FONT_FANGSONG=/opt/fonts/fs_GB2312.ttf.
    # Unset roles use the open Debian substitutes (see docs/documents.md).
    "FONTS": {role: path for role, path in (
        ("仿宋", env_str("GONGWEN_FONT_FANGSONG")),
        ("小标宋", env_str("GONGWEN_FONT_XIAOBIAOSONG")),
        ("黑体", env_str("GONGWEN_FONT_HEITI")),
        ("楷体", env_str("GONGWEN_FONT_KAITI")),
        ("宋体", env_str("GONGWEN_FONT_SONGTI")),
    ) if path},
    # Hours after dispatch after which an unsigned recipient is overdue (notice §3(7)).
    "RECEIPT_HOURS": env_int("GONGWEN_RECEIPT_HOURS", 24),
    # Period of the worker's scheduler thread (overdue reminders, CRL renewal).
    "SCHEDULER_MINUTES": env_int("GONGWEN_SCHEDULER_MINUTES", 5),
    # A delivery verified less than this long ago is not verified again when opened, unless
    # a CRL was published since (docs/exchange.md, "Performance"); 0 verifies every time.
    "REVERIFY_AFTER_SECONDS": env_int("GONGWEN_REVERIFY_AFTER_SECONDS", 300, minimum=0),
    # The sweep re-queues exchange work older than this whose effect is missing.
    "SWEEP_MINUTES": env_int("GONGWEN_SWEEP_MINUTES", 10, minimum=1),
    # Signed checkpoints of the audit chain (R-AUDIT-1, README "Audit trail"): the HMAC key
    # (64 hex digits, made by `gongwen init`, never in the database; keep it where the
    # database's administrators cannot read it), the append-only file every checkpoint is
    # also written to (keep or publish a copy), and how many entries between checkpoints.
    "AUDIT_KEY_FILE": os.environ.get("GONGWEN_AUDIT_KEY_FILE",
                                     str(VAR_DIR / "audit-checkpoint.key")),
    "AUDIT_CHECKPOINT_FILE": os.environ.get("GONGWEN_AUDIT_CHECKPOINT_FILE",
                                            str(VAR_DIR / "audit-checkpoints.jsonl")),
    "AUDIT_CHECKPOINT_EVERY": env_int("GONGWEN_AUDIT_CHECKPOINT_EVERY", 1000, minimum=1),
}

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {"plain": {"format": "%(asctime)s %(levelname)s %(name)s: %(message)s"}},
    "handlers": {"console": {"class": "logging.StreamHandler", "formatter": "plain"}},
    "root": {"handlers": ["console"], "level": env_str("GONGWEN_LOG_LEVEL", "INFO")},
    "loggers": {"django.request": {"level": "ERROR"}},
}

if not DEBUG:
    SESSION_COOKIE_SECURE = env_bool("GONGWEN_HTTPS", False)
    CSRF_COOKIE_SECURE = env_bool("GONGWEN_HTTPS", False)
