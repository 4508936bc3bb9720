"""Configuration: defaults here, overrides from the environment. No secrets in code."""

import os


class Config:
    # SECRET_KEY comes from the environment; create_app() falls back to a per-instance random key
    # written to the instance folder so a fresh demo works without leaking a fixed secret.
    SECRET_KEY = os.environ.get("SECRET_KEY")
    SQLALCHEMY_DATABASE_URI = os.environ.get("DATABASE_URL")  # None → SQLite file in instance/
    SQLALCHEMY_ENGINE_OPTIONS: dict = {}
    # PostgreSQL's parallel workers per query (max_parallel_workers_per_gather) on the app's connections.
    PG_PARALLEL_WORKERS = int(os.environ.get("PG_PARALLEL_WORKERS", "0"))
    MEDIA_ROOT = os.environ.get("MEDIA_ROOT")  # None → instance/media
    S3_BUCKET = os.environ.get("S3_BUCKET")
    S3_ENDPOINT_URL = os.environ.get("S3_ENDPOINT_URL")
    S3_PREFIX = os.environ.get("S3_PREFIX", "photos/")  # key prefix inside the bucket (docs/photos.md)
    MAX_PHOTO_BYTES = int(os.environ.get("MAX_PHOTO_BYTES", 20 * 1024 * 1024))
    MAX_PHOTO_PIXELS = int(os.environ.get("MAX_PHOTO_PIXELS", 120_000_000))  # declared size; bombs → 413
    # Who renders photos (docs/photos.md "Ingest backends"): auto = libvips for JPEGs when pyvips is
    # importable, else Pillow; "pillow" forces Pillow; "vips" refuses to start without libvips.
    PHOTO_BACKEND = os.environ.get("PHOTO_BACKEND", "auto")
    CLOCK_SKEW_FLAG_SECONDS = float(os.environ.get("CLOCK_SKEW_FLAG_SECONDS", 300))  # docs/photo-evidence.md
    VERIFY_LIMIT = os.environ.get("VERIFY_LIMIT", "20 per 15 minutes")  # the public /verify page, per address
    MAX_CONTENT_LENGTH = int(os.environ.get("MAX_CONTENT_LENGTH", 64 * 1024 * 1024))

    BABEL_DEFAULT_LOCALE = "zh_CN"
    BABEL_DEFAULT_TIMEZONE = os.environ.get("TIMEZONE", "Asia/Shanghai")
    LANGUAGES = {"zh_CN": "简体中文", "en": "English"}

    SESSION_COOKIE_HTTPONLY = True
    SESSION_COOKIE_SAMESITE = "Lax"
    SESSION_COOKIE_SECURE = os.environ.get("SESSION_COOKIE_SECURE", "0") == "1"
    REMEMBER_COOKIE_HTTPONLY = True
    # Browser sign-ins last SESSION_LIFETIME_DAYS (the cookie and its server-side record), renewed at
    # most once an hour while in use (docs/security.md "Sessions"); sensitive actions ask for the
    # password again when it was last entered more than REAUTH_AFTER_MINUTES ago.
    SESSION_LIFETIME_DAYS = int(os.environ.get("SESSION_LIFETIME_DAYS", 30))
    SESSION_RENEW_AFTER_MINUTES = int(os.environ.get("SESSION_RENEW_AFTER_MINUTES", 60))
    SESSION_REFRESH_EACH_REQUEST = False  # the cookie is sent again only when renewed (or changed)
    REAUTH_AFTER_MINUTES = int(os.environ.get("REAUTH_AFTER_MINUTES", 30))
    WTF_CSRF_TIME_LIMIT = None  # a supervisor's page may stay open all day on site

    # Sign-in throttling (docs/security.md). Failed sign-ins are limited per client address and per
    # address + username, so an attacker slows only themselves; a username that many failed for (from
    # anywhere) gets slower answers, never a lock-out. Limits are Flask-Limiter strings ("5 per 15 minutes").
    RATELIMIT_ENABLED = True
    RATELIMIT_STORAGE_URI = os.environ.get("RATELIMIT_STORAGE_URI", "memory://")  # redis://… with several workers
    RATELIMIT_STORAGE_OPTIONS = {"key_prefix": os.environ.get("RATELIMIT_KEY_PREFIX", "supervision")}
    RATELIMIT_STRATEGY = "moving-window"
    RATELIMIT_HEADERS_ENABLED = True
    LOGIN_LIMIT_PER_ADDRESS = os.environ.get("LOGIN_LIMIT_PER_ADDRESS", "30 per 15 minutes")
    LOGIN_LIMIT_PER_ADDRESS_AND_USERNAME = os.environ.get("LOGIN_LIMIT_PER_ADDRESS_AND_USERNAME", "5 per 15 minutes")
    LOGIN_WINDOW_SECONDS = int(os.environ.get("LOGIN_WINDOW_SECONDS", 15 * 60))
    LOGIN_SLOWDOWN_AFTER = int(os.environ.get("LOGIN_SLOWDOWN_AFTER", 5))  # failures for a username in the window
    LOGIN_SLOWDOWN_MAX_SECONDS = float(os.environ.get("LOGIN_SLOWDOWN_MAX_SECONDS", 2))
    LOGIN_ATTEMPTS_KEEP_DAYS = int(os.environ.get("LOGIN_ATTEMPTS_KEEP_DAYS", 30))

    API_TOKEN_LIFETIME_HOURS = int(os.environ.get("API_TOKEN_LIFETIME_HOURS", 14 * 24))
    # Password policy (docs/administration.md): length and a common-password list, no composition rules.
    PASSWORD_MIN_LENGTH = int(os.environ.get("PASSWORD_MIN_LENGTH", 10))
    # The company's name on the shared report page and the PDF (the demo company by default).
    COMPANY_NAME = os.environ.get("COMPANY_NAME", "华瑞商业连锁")
    SHARE_LINK_DEFAULT_DAYS = int(os.environ.get("SHARE_LINK_DEFAULT_DAYS", 30))
    SHARE_LINK_MAX_DAYS = int(os.environ.get("SHARE_LINK_MAX_DAYS", 180))

    # First run (webapp/setup): with no account yet, /setup creates the first administrator; with
    # SETUP_TOKEN set, only someone who knows it can.
    SETUP_TOKEN = os.environ.get("SETUP_TOKEN")

    SMTP_HOST = os.environ.get("SMTP_HOST")

    # Single sign-on (docs/sign-in.md): each provider is on when its id and secret are set.
    OIDC_ISSUER = os.environ.get("OIDC_ISSUER")
    OIDC_CLIENT_ID = os.environ.get("OIDC_CLIENT_ID")
    OIDC_CLIENT_SECRET = os.environ.get("OIDC_CLIENT_SECRET")
    OIDC_SCOPES = os.environ.get("OIDC_SCOPES", "openid profile email phone")
    OIDC_BUTTON_LABEL = os.environ.get("OIDC_BUTTON_LABEL")
    WECOM_CORP_ID = os.environ.get("WECOM_CORP_ID")
    WECOM_AGENT_ID = os.environ.get("WECOM_AGENT_ID")
    WECOM_SECRET = os.environ.get("WECOM_SECRET")
    WECOM_API_BASE = os.environ.get("WECOM_API_BASE", "https://qyapi.weixin.qq.com")
    WECOM_LOGIN_BASE = os.environ.get("WECOM_LOGIN_BASE", "https://login.work.weixin.qq.com")
    WECOM_OAUTH_BASE = os.environ.get("WECOM_OAUTH_BASE", "https://open.weixin.qq.com")
    DINGTALK_CLIENT_ID = os.environ.get("DINGTALK_CLIENT_ID")
    DINGTALK_CLIENT_SECRET = os.environ.get("DINGTALK_CLIENT_SECRET")
    DINGTALK_API_BASE = os.environ.get("DINGTALK_API_BASE", "https://api.dingtalk.com")
    DINGTALK_LOGIN_BASE = os.environ.get("DINGTALK_LOGIN_BASE", "https://login.dingtalk.com")
    DINGTALK_AGENT_ID = os.environ.get("DINGTALK_AGENT_ID")  # work notifications (docs/messages.md)
    DINGTALK_OAPI_BASE = os.environ.get("DINGTALK_OAPI_BASE", "https://oapi.dingtalk.com")
    WORKAPP_TIMEOUT = float(os.environ.get("WORKAPP_TIMEOUT", "10"))
    FEISHU_APP_ID = os.environ.get("FEISHU_APP_ID")
    FEISHU_APP_SECRET = os.environ.get("FEISHU_APP_SECRET")
    FEISHU_API_BASE = os.environ.get("FEISHU_API_BASE", "https://open.feishu.cn")
    FEISHU_LOGIN_BASE = os.environ.get("FEISHU_LOGIN_BASE", "https://accounts.feishu.cn")
    PUBLIC_URL = os.environ.get("PUBLIC_URL")  # https://… as browsers see it; for callback addresses
    SSO_HTTP_TIMEOUT = float(os.environ.get("SSO_HTTP_TIMEOUT", 10))  # seconds per call to a provider
    SSO_UNKNOWN_USERS = os.environ.get("SSO_UNKNOWN_USERS", "refuse")  # default until an admin sets it
    SMTP_PORT = int(os.environ.get("SMTP_PORT", 25))
    SMTP_STARTTLS = os.environ.get("SMTP_STARTTLS", "0") == "1"
    SMTP_USER = os.environ.get("SMTP_USER")
    SMTP_PASSWORD = os.environ.get("SMTP_PASSWORD")
    SMTP_TIMEOUT = float(os.environ.get("SMTP_TIMEOUT", 10))
    MAIL_FROM = os.environ.get("MAIL_FROM")
    # Messages (docs/messages.md): the outbox, the job queue and the channels.
    MAIL_CATCHER = os.environ.get("MAIL_CATCHER", "0") == "1"  # no SMTP: write emails to instance/mail/*.eml
    HUEY_URL = os.environ.get("HUEY_URL")  # None → SQLite file in instance/; redis://… for several hosts
    HUEY_NAME = os.environ.get("HUEY_NAME", "supervision")
    # Run queued tasks inside the caller (no worker): a single-process install, or tests (docs/exports.md).
    HUEY_IMMEDIATE = os.environ.get("HUEY_IMMEDIATE", "0") == "1"
    EXPORT_TTL_HOURS = int(os.environ.get("EXPORT_TTL_HOURS", 24))  # export files are removed after this
    OUTBOX_MAX_ATTEMPTS = int(os.environ.get("OUTBOX_MAX_ATTEMPTS", 8))
    OUTBOX_BACKOFF_SECONDS = float(os.environ.get("OUTBOX_BACKOFF_SECONDS", 30))
    OUTBOX_BACKOFF_MAX_SECONDS = float(os.environ.get("OUTBOX_BACKOFF_MAX_SECONDS", 3600))
    OUTBOX_LEASE_SECONDS = float(os.environ.get("OUTBOX_LEASE_SECONDS", 120))
    WEBHOOK_ALLOW_PRIVATE = os.environ.get("WEBHOOK_ALLOW_PRIVATE", "0") == "1"
    WEBHOOK_TIMEOUT = float(os.environ.get("WEBHOOK_TIMEOUT", 10))
    JOBS_DIGEST_AT = os.environ.get("JOBS_DIGEST_AT", "08:00")  # the daily email digest (docs/messages.md)
    JOBS_TIMEZONE = os.environ.get("JOBS_TIMEZONE", "Asia/Shanghai")
    JOBS_WARNINGS_AT = os.environ.get("JOBS_WARNINGS_AT", "07:30")
    JOBS_REMINDERS_AT = os.environ.get("JOBS_REMINDERS_AT", "07:40")
    JOBS_RENDITIONS_AT = os.environ.get("JOBS_RENDITIONS_AT", "03:00")
    JOBS_STATISTICS_AT = os.environ.get("JOBS_STATISTICS_AT", "03:30")  # SQLite's planner statistics
    JOBS_RECURRING_DAY = int(os.environ.get("JOBS_RECURRING_DAY", "25"))  # next month's recurring visits (docs/plans.md)
    JOBS_RECURRING_AT = os.environ.get("JOBS_RECURRING_AT", "06:00")
    # The dashboard's snapshots (docs/results.md): counted again every N minutes by the queue when the
    # data changed, and never served more than this many seconds old (the request counts it then).
    DASHBOARD_REFRESH_MINUTES = int(os.environ.get("DASHBOARD_REFRESH_MINUTES", "5"))
    DASHBOARD_MAX_STALE_SECONDS = int(os.environ.get("DASHBOARD_MAX_STALE_SECONDS", "600"))
    SYNC_PULL_MAX_LIMIT = 500
