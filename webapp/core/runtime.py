"""The process a worker runs in (gunicorn.conf.py)."""

import gc


def settle_heap() -> None:
    """Once the app is loaded, move what is alive (the app, its URL rules, templates, translations,
    the database engine — hundreds of thousands of objects kept for the worker's whole life) into the
    collector's permanent generation (`gc.freeze`). Python's full collection otherwise walks all of
    them every few hundred requests: ≈ 170 ms of a single request's time, which made the slowest
    5 % of findings-list requests at 1M findings ≈ 200 ms instead of ≈ 25 ms (docs/benchmarks.md).
    Garbage made by requests is still collected as before."""
    gc.collect()
    gc.freeze()
