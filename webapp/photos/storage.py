"""Where photo bytes live: a small interface with a local-filesystem store (default) and an
S3-compatible one. Keys are content hashes, so a write is idempotent.

Both stores raise the same three errors, so the views answer the same way whatever the backend:
`ObjectMissing` (the bytes are not there: 404), `StorageFull` (no room: 507) and
`StorageUnavailable` (the store refused or could not be reached: 503).
"""

import errno
import os
import tempfile
from pathlib import Path

from flask import current_app


class StorageError(Exception):
    """The photo store could not do what was asked."""


class ObjectMissing(StorageError, KeyError):
    """No object under that key."""


class StorageFull(StorageError):
    """The disk or bucket quota is full; nothing was left half-written."""


class StorageUnavailable(StorageError):
    """The store refused the request (credentials, permissions) or could not be reached."""


class StorageNotConfigured(RuntimeError):
    """The configuration names a store this installation cannot use (raised at start-up)."""


FULL_ERRNOS = {errno.ENOSPC, errno.EDQUOT}


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
        try:
            return self._path(key).read_bytes()
        except FileNotFoundError:
            raise ObjectMissing(key) from None
        except OSError as e:
            raise StorageUnavailable(f"{key}: {e}") from e

    def put(self, key: str, data: bytes) -> None:
        final = self._path(key)
        tmp = None
        try:
            final.parent.mkdir(parents=True, exist_ok=True)
            fd, tmp = tempfile.mkstemp(dir=final.parent, prefix=".tmp-")
            self._write(fd, data)
            os.replace(tmp, final)
        except BaseException as e:
            if tmp is not None:
                Path(tmp).unlink(missing_ok=True)
            if isinstance(e, OSError):
                if e.errno in FULL_ERRNOS:
                    raise StorageFull(f"{key}: {e}") from e
                raise StorageUnavailable(f"{key}: {e}") from e
            raise

    @staticmethod
    def _write(fd: int, data: bytes) -> None:
        with os.fdopen(fd, "wb") as fh:
            fh.write(data)
            fh.flush()
            os.fsync(fh.fileno())

    def delete(self, key: str) -> None:
        self._path(key).unlink(missing_ok=True)

    def local_path(self, key: str) -> Path | None:
        """A file the web server may stream directly, or None for remote stores."""
        path = self._path(key)
        return path if path.is_file() else None


# S3 error codes: a missing object, and a full disk/quota (MinIO says XMinioStorageFull, Ceph
# QuotaExceeded, both with HTTP 507 or 403).
S3_MISSING = {"404", "NoSuchKey", "NotFound"}
S3_FULL = {"XMinioStorageFull", "QuotaExceeded", "InsufficientStorage", "507"}


class S3Store:
    """An S3-compatible bucket (AWS, MinIO, Ceph, OSS/COS gateways), so several app servers share
    the same photos. Credentials come from the usual boto3 sources (environment, instance role).
    A PUT of an object is atomic on S3: readers see the old object, or none, or the whole new one.
    Only s3:GetObject, s3:PutObject and s3:DeleteObject are used (never s3:ListBucket)."""

    def __init__(self, bucket: str, endpoint_url: str | None = None, prefix: str = "photos/"):
        import boto3
        from botocore.config import Config as BotoConfig

        # A session of its own: boto3's default session keeps the credentials it first resolved.
        self.client = boto3.session.Session().client(
            "s3", endpoint_url=endpoint_url or None, config=BotoConfig(retries={"max_attempts": 3, "mode": "standard"}))
        self.bucket = bucket
        self.prefix = prefix

    def _key(self, key: str) -> str:
        return f"{self.prefix}{key}"

    def _call(self, op: str, key: str, **kwargs):
        from botocore.exceptions import BotoCoreError, ClientError

        try:
            return getattr(self.client, op)(Bucket=self.bucket, Key=self._key(key), **kwargs)
        except ClientError as e:
            code = str(e.response.get("Error", {}).get("Code", ""))
            status = e.response.get("ResponseMetadata", {}).get("HTTPStatusCode")
            if code in S3_MISSING:
                raise ObjectMissing(key) from e
            if code in S3_FULL or status == 507:
                raise StorageFull(f"{key}: {code}") from e
            # AccessDenied, InvalidAccessKeyId, SignatureDoesNotMatch, NoSuchBucket, 5xx ...
            raise StorageUnavailable(f"{op} {self.bucket}/{self._key(key)}: {code or status}") from e
        except BotoCoreError as e:  # connection refused, timeouts, no credentials at all
            raise StorageUnavailable(f"{op} {self.bucket}/{self._key(key)}: {e}") from e

    def exists(self, key: str) -> bool:
        # XXX: without s3:ListBucket, S3 answers a HEAD of a missing key with 403, not 404, and a
        # HEAD response has no body to tell it from a real refusal. Both count as "not there": the
        # phone then uploads the photo, and a real refusal shows on that PUT (503).
        try:
            self._call("head_object", key)
        except ObjectMissing:
            return False
        except StorageUnavailable as e:
            if getattr(e.__cause__, "response", {}).get("ResponseMetadata", {}).get("HTTPStatusCode") == 403:
                return False
            raise
        return True

    def get(self, key: str) -> bytes:
        return self._call("get_object", key)["Body"].read()

    def put(self, key: str, data: bytes) -> None:
        self._call("put_object", key, Body=bytes(data))

    def delete(self, key: str) -> None:
        self._call("delete_object", key)

    def local_path(self, key: str) -> Path | None:
        return None


def check_store_config(config) -> None:
    """At start-up: S3 storage needs boto3, which is an optional extra (`pip install '.[s3]'`)."""
    if not config.get("S3_BUCKET"):
        return
    try:
        import boto3  # noqa: F401
    except ImportError:
        raise StorageNotConfigured(
            "S3_BUCKET is set, so photos are stored in S3, but boto3 is not installed. "
            "Install the S3 extra: pip install -e '.[s3]' (or unset S3_BUCKET to store photos under MEDIA_ROOT)."
        ) from None


def make_store(config) -> "LocalStore | S3Store":
    if config.get("S3_BUCKET"):
        check_store_config(config)
        return S3Store(config["S3_BUCKET"], config.get("S3_ENDPOINT_URL"), config.get("S3_PREFIX") or "photos/")
    return LocalStore(config["MEDIA_ROOT"])


def get_store():
    app = current_app
    store = app.extensions.get("photo_store")
    if store is None:
        store = make_store(app.config)
        app.extensions["photo_store"] = store
    return store
