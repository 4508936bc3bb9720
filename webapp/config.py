"""Configuration: defaults here, overrides from the environment. No secrets in code."""

import os


class Config:
    # SECRET_KEY comes from the environment; create_app() falls back to a per-instance random key
    # written to the instance folder so a fresh demo works without leaking a fixed secret.
    SECRET_KEY = os.environ.get("SECRET_KEY")
    SQLALCHEMY_DATABASE_URI = os.environ.get("DATABASE_URL")  # None → SQLite file in instance/
    SQLALCHEMY_ENGINE_OPTIONS: dict = {}
    MEDIA_ROOT = os.environ.get("MEDIA_ROOT")  # None → instance/media
    S3_BUCKET = os.environ.get("S3_BUCKET")
    S3_ENDPOINT_URL = os.environ.get("S3_ENDPOINT_URL")
    S3_PREFIX = os.environ.get("S3_PREFIX", "photos/")  # key prefix inside the bucket (docs/photos.md)
    MAX_PHOTO_BYTES = int(os.environ.get("MAX_PHOTO_BYTES", 20 * 1024 * 1024))
    MAX_PHOTO_PIXELS = int(os.environ.get("MAX_PHOTO_PIXELS", 120_000_000))  # declared size; bombs → 413
    MAX_CONTENT_LENGTH = int(os.environ.get("MAX_CONTENT_LENGTH", 64 * 1024 * 1024))

    BABEL_DEFAULT_LOCALE = "zh_CN"
    BABEL_DEFAULT_TIMEZONE = os.environ.get("TIMEZONE", "Asia/Shanghai")
    LANGUAGES = {"zh_CN": "简体中文", "en": "English"}

    SESSION_COOKIE_HTTPONLY = True
    SESSION_COOKIE_SAMESITE = "Lax"
    SESSION_COOKIE_SECURE = os.environ.get("SESSION_COOKIE_SECURE", "0") == "1"
    REMEMBER_COOKIE_HTTPONLY = True
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
    # The company's name on the shared report page and the PDF (the demo company by default).
    COMPANY_NAME = os.environ.get("COMPANY_NAME", "华瑞商业连锁")
    SHARE_LINK_DEFAULT_DAYS = int(os.environ.get("SHARE_LINK_DEFAULT_DAYS", 30))
    SHARE_LINK_MAX_DAYS = int(os.environ.get("SHARE_LINK_MAX_DAYS", 180))

    SMTP_HOST = os.environ.get("SMTP_HOST")
    SYNC_PULL_MAX_LIMIT = 500
