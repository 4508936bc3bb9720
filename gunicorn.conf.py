"""gunicorn's settings, read from the directory it is started in (the repository's root; docs/operating.md).
Options on the command line (`-w`, `-b`) still apply."""

from webapp.core.runtime import settle_heap


def post_worker_init(worker):
    # The app is loaded: keep its long-lived objects out of the garbage collector's full passes.
    settle_heap()
