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

    def local_path(self, key: str) -> Path | None:
        """A file the web server may stream directly, or None for remote stores."""
        path = self._path(key)
        return path if path.is_file() else None


class S3Store:
    """An S3-compatible bucket (AWS, MinIO, Ceph, OSS/COS gateways), so several app servers share
    the same photos. Credentials come from the usual boto3 sources (environment, instance role).
    A PUT of an object is atomic on S3: readers see the old object, or none, or the whole new one."""

    def __init__(self, bucket: str, endpoint_url: str | None = None, prefix: str = "photos/", client=None):
        if client is None:
            import boto3

            client = boto3.client("s3", endpoint_url=endpoint_url or None)
        self.client = client
        self.bucket = bucket
        self.prefix = prefix

    def _key(self, key: str) -> str:
        return f"{self.prefix}{key}"

    def exists(self, key: str) -> bool:
        from botocore.exceptions import ClientError

        try:
            self.client.head_object(Bucket=self.bucket, Key=self._key(key))
        except ClientError as e:
            if e.response.get("Error", {}).get("Code") in ("404", "NoSuchKey", "NotFound"):
                return False
            raise
        return True

    def get(self, key: str) -> bytes:
        return self.client.get_object(Bucket=self.bucket, Key=self._key(key))["Body"].read()

    def put(self, key: str, data: bytes) -> None:
        self.client.put_object(Bucket=self.bucket, Key=self._key(key), Body=bytes(data))

    def delete(self, key: str) -> None:
        self.client.delete_object(Bucket=self.bucket, Key=self._key(key))

    def local_path(self, key: str) -> Path | None:
        return None


def make_store(config) -> "LocalStore | S3Store":
    if config.get("S3_BUCKET"):
        return S3Store(config["S3_BUCKET"], config.get("S3_ENDPOINT_URL"))
    return LocalStore(config["MEDIA_ROOT"])


def get_store():
    app = current_app
    store = app.extensions.get("photo_store")
    if store is None:
        store = make_store(app.config)
        app.extensions["photo_store"] = store
    return store
