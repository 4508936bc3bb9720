"""The job queue: huey, built from the app's configuration (docs/messages.md).

HUEY_URL unset → SqliteHuey in the instance folder (embedded, the default; under TESTING an
in-memory queue instead, so tests never touch the instance folder); `redis://…` → RedisHuey;
`sqlite:///path` → SqliteHuey at that path; `memory://` → in-memory. HUEY_NAME names the queue
(the Redis key prefix), so several deployments or test runs can share a Redis.

Each app builds its own Huey (`get_huey(app)`) and registers the tasks on it (webapp/jobs/tasks.py);
every task runs inside that app's context. A worker process creates the app once: `flask jobs
worker`, or `huey_consumer webapp.jobs.entry.huey`.
"""

import logging
from pathlib import Path

from huey import MemoryHuey, RedisHuey, SqliteHuey
from huey.api import Huey

log = logging.getLogger("webapp.jobs")


def build_huey(app) -> Huey:
    cfg = app.config
    url = cfg.get("HUEY_URL") or ""
    name = cfg.get("HUEY_NAME") or "supervision"
    common = {"results": False, "utc": True}
    if url.startswith(("redis://", "rediss://", "unix://")):
        huey = RedisHuey(name, url=url, **common)
    elif url.startswith("sqlite:///"):
        huey = SqliteHuey(name, filename=url[len("sqlite:///"):], **common)
    elif url == "memory://" or (not url and app.testing):
        huey = MemoryHuey(name, **common)
    elif not url:
        huey = SqliteHuey(name, filename=str(Path(app.instance_path) / "jobs.db"), **common)
    else:
        raise ValueError(f"HUEY_URL: unsupported {url.split(':', 1)[0]!r} (redis://, sqlite:/// or memory://)")
    if cfg.get("HUEY_IMMEDIATE"):
        huey.immediate = True  # tasks run in the caller (keeps the storage built above: no results kept)
    from webapp.jobs.tasks import register_tasks

    huey.supervision_tasks = register_tasks(huey, app)
    return huey


def get_huey(app) -> Huey:
    huey = app.extensions.get("huey")
    if huey is None:
        huey = app.extensions["huey"] = build_huey(app)
    return huey


def ask_queue(app, task: str, *args) -> bool:
    """Hand a task to the queue, after the caller committed what it needs. False (logged) if the queue
    cannot be reached: what asked is committed, and the caller says what happens then — the outbox's
    periodic run delivers anyway, a dashboard's next reader asks again, an export is marked failed."""
    try:
        get_huey(app).supervision_tasks[task](*args)
        return True
    except Exception:  # noqa: BLE001 — the queue unreachable: the caller's committed state decides
        log.warning("could not enqueue %s %s", task, " ".join(map(str, args)), exc_info=True)
        return False
