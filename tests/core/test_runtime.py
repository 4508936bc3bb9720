"""gunicorn.conf.py settles each worker's heap once the app is loaded (webapp/core/runtime.py)."""

import gc
import runpy
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def test_a_worker_moves_the_loaded_app_out_of_the_collectors_full_passes(app):
    conf = runpy.run_path(str(ROOT / "gunicorn.conf.py"))
    assert gc.get_freeze_count() == 0
    try:
        conf["post_worker_init"](None)
        frozen = gc.get_freeze_count()
        # the app's objects (and everything else alive) are in the permanent generation now
        assert frozen > 10_000
        assert all(gc.get_count()[g] < 1000 for g in range(3))
        # garbage made afterwards is still collected
        class Node:
            pass
        a, b = Node(), Node()
        a.other, b.other = b, a
        del a, b
        assert gc.collect() >= 2
    finally:
        gc.unfreeze()
