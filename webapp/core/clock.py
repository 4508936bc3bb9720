"""The company's clock: its time zone (`TIMEZONE`, default Asia/Shanghai) and the day it is there.

Deadlines, overdue flags, plan windows and periods are the company's calendar days. The server's
own day (`date.today()`, usually UTC) is a day behind in Shanghai from midnight to 08:00: a
rectification due yesterday would not yet show as overdue, a deadline of yesterday would still be
accepted. Every "today" of the application asks here.
"""

from datetime import UTC, date, datetime
from zoneinfo import ZoneInfo

from flask import current_app, has_app_context

DEFAULT_TZ = "Asia/Shanghai"


def company_tz_name() -> str:
    return current_app.config.get("BABEL_DEFAULT_TIMEZONE", DEFAULT_TZ) if has_app_context() else DEFAULT_TZ


def company_zone() -> ZoneInfo:
    return ZoneInfo(company_tz_name())


def company_today() -> date:
    """Today's date in the company's time zone."""
    return datetime.now(UTC).astimezone(company_zone()).date()
