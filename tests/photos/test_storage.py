"""The photo stores: the local one, and S3 tested over HTTP against a real S3-compatible server
(moto's standalone server on 127.0.0.1, authentication and policies enforced; tests/photos/s3server.py)."""

import errno
import io
import json
import os
import sys

import pytest

from tests.photos.images import jpeg, sha
from tests.photos.s3server import S3Server
from tests.photos.test_api import put, token_for
from webapp import create_app
from webapp.extensions import db
from webapp.photos.models import Photo
from webapp.photos.storage import LocalStore, S3Store, StorageNotConfigured, make_store


def test_local_store_shards_and_leaves_no_temp_files(tmp_path):
    store = LocalStore(str(tmp_path))
    store.put("abcdef", b"x")
    assert (tmp_path / "ab" / "cd" / "abcdef").read_bytes() == b"x"
    assert [p.name for p in tmp_path.rglob("*") if p.is_file()] == ["abcdef"]
    store.delete("abcdef")
    assert not store.exists("abcdef")


# ---- a full disk ------------------------------------------------------------------------------

@pytest.fixture
def full_disk(app, monkeypatch):
    """The media disk fills up after `room` more objects: the next write stops half-way with ENOSPC,
    as the kernel answers when the disk is full."""
    state = {"room": 0}
    real_write = LocalStore._write

    def write(fd, data):
        if state["room"] <= 0:
            os.write(fd, data[:len(data) // 2])
            os.close(fd)
            raise OSError(errno.ENOSPC, "No space left on device")
        state["room"] -= 1
        real_write(fd, data)

    monkeypatch.setattr(LocalStore, "_write", staticmethod(write))
    return state


def _files(app):
    from pathlib import Path

    root = Path(app.config["MEDIA_ROOT"])
    return sorted(p.name for p in root.rglob("*") if p.is_file()) if root.exists() else []


@pytest.mark.parametrize("room", [0, 2])  # full from the first byte; full at the original (renditions written)
def test_a_full_disk_answers_507_in_the_users_language_and_leaves_nothing(app, client, world, full_disk, room):
    full_disk["room"] = room
    data = jpeg()
    r = put(client, {**token_for(client, "sup1"), "Accept-Language": "zh-CN"}, data)
    assert r.status_code == 507, r.get_data(as_text=True)
    error = r.get_json()["error"]
    assert error["code"] == "storage_full" and "存储" in error["message"]
    assert _files(app) == []  # no rendition, no temp file
    assert db.session.get(Photo, sha(data)) is None


def test_a_full_disk_on_the_desk_form_shows_the_message(app, client, auth, world, full_disk):
    from datetime import date, timedelta

    from tests.conftest import csrf_from
    from webapp.rectification.operations import submit_plan

    finding = world["findings"][0]
    submit_plan(finding, world["users"]["head1"], "fix", "Li", date.today() + timedelta(days=5))
    fid = finding.id
    db.session.commit()
    auth.login("head1")
    token = csrf_from(client.get("/").get_data(as_text=True))
    r = client.post(f"/rectification/{fid}/progress", data={
        "csrf_token": token, "progress": "30", "photos": (io.BytesIO(jpeg()), "p.jpg")},
        content_type="multipart/form-data", headers={"Accept-Language": "en"})
    assert r.status_code == 507 and "The photo storage is full" in r.get_data(as_text=True)
    assert _files(app) == []


# ---- S3, over HTTP, against a real S3-compatible server ---------------------------------------------

@pytest.fixture(scope="module")
def s3_server(tmp_path_factory):
    server = S3Server(tmp_path_factory.mktemp("moto") / "moto.log").start()
    yield server
    server.stop()


def _use_s3(app, monkeypatch, server, bucket, keys):
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", keys.access_key)
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", keys.secret_key)
    monkeypatch.setenv("AWS_DEFAULT_REGION", "us-east-1")
    app.config.update(S3_BUCKET=bucket, S3_ENDPOINT_URL=server.endpoint)
    app.extensions.pop("photo_store", None)  # built from the configuration on first use, as in production
    return bucket


DENY_LIST = {"Effect": "Deny", "Principal": "*", "Action": "s3:ListBucket", "Resource": "arn:aws:s3:::{bucket}"}


@pytest.fixture
def bucket(app, monkeypatch, s3_server):
    """A bucket whose policy denies ListBucket to everyone, used with the application's own keys."""
    name = s3_server.new_bucket()
    s3_server.client().put_bucket_policy(Bucket=name, Policy=json.dumps(
        {"Version": "2012-10-17", "Statement": [{**DENY_LIST, "Resource": f"arn:aws:s3:::{name}"}]}))
    return _use_s3(app, monkeypatch, s3_server, name, s3_server.app)


def _keys(server, bucket):
    return sorted(o["Key"] for o in server.client().list_objects_v2(Bucket=bucket).get("Contents", []))


def test_s3_store_is_chosen_when_configured(monkeypatch, s3_server):
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "x")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "x")
    monkeypatch.setenv("AWS_DEFAULT_REGION", "us-east-1")
    store = make_store({"S3_BUCKET": "evidence", "S3_ENDPOINT_URL": s3_server.endpoint, "MEDIA_ROOT": "/x"})
    assert isinstance(store, S3Store) and store.client.meta.endpoint_url == s3_server.endpoint
    assert isinstance(make_store({"S3_BUCKET": None, "MEDIA_ROOT": "/x"}), LocalStore)


def test_upload_and_download_through_s3_without_list_permission(client, world, s3_server, bucket):
    data = jpeg()
    digest = sha(data)
    headers = token_for(client, "sup1")
    assert client.head(f"/api/v1/photos/{digest}", headers=headers).status_code == 404
    assert put(client, headers, data).status_code == 201
    assert _keys(s3_server, bucket) == [f"photos/{digest}", f"photos/{digest}.display.jpg",
                                        f"photos/{digest}.thumb.jpg"]
    assert client.head(f"/api/v1/photos/{digest}", headers=headers).status_code == 200
    assert put(client, headers, data).status_code == 200  # already there
    r = client.get(f"/api/v1/photos/{digest}?variant=thumb", headers=headers)
    stored = s3_server.client().get_object(Bucket=bucket, Key=f"photos/{digest}.thumb.jpg")["Body"].read()
    assert r.status_code == 200 and r.data == stored
    r = client.get(f"/api/v1/photos/{digest}?variant=original", headers=token_for(client, "manager"))
    assert r.status_code == 200 and r.data == data


def test_a_missing_object_is_a_404_not_a_500(client, world, s3_server, bucket):
    data = jpeg()
    digest = sha(data)
    headers = token_for(client, "sup1")
    assert put(client, headers, data).status_code == 201
    world["findings"][0].photos = [digest]
    db.session.commit()
    s3_server.client().delete_object(Bucket=bucket, Key=f"photos/{digest}.thumb.jpg")
    r = client.get(f"/api/v1/photos/{digest}?variant=thumb", headers=headers)
    assert r.status_code == 404 and r.get_json()["error"]["code"] == "not_found"
    s3_server.client().delete_object(Bucket=bucket, Key=f"photos/{digest}")
    assert client.head(f"/api/v1/photos/{digest}", headers=headers).status_code == 404
    r = client.get(f"/api/v1/photos/{digest}?variant=original", headers=token_for(client, "manager"))
    assert r.status_code == 404 and r.get_json()["error"]["code"] == "not_found"


def test_a_wrong_key_answers_503_json_and_stores_nothing(app, client, world, monkeypatch, s3_server):
    from tests.photos.s3server import Keys

    name = s3_server.new_bucket()
    _use_s3(app, monkeypatch, s3_server, name, Keys(s3_server.app.access_key, "not-the-secret"))
    data = jpeg()
    headers = {**token_for(client, "sup1"), "Accept-Language": "en"}
    # A HEAD refused with 403 is what S3 answers for a missing key without ListBucket: "not there".
    assert client.head(f"/api/v1/photos/{sha(data)}", headers=headers).status_code == 404
    r = put(client, headers, data)
    assert r.status_code == 503
    assert r.get_json()["error"] == {"code": "storage_unavailable", "message": (
        "The photo storage cannot be reached right now, so nothing was saved. Please try again later.")}
    assert _keys(s3_server, name) == [] and db.session.get(Photo, sha(data)) is None


def test_a_read_the_bucket_policy_refuses_answers_503_json(app, client, world, monkeypatch, s3_server):
    name = s3_server.new_bucket()
    _use_s3(app, monkeypatch, s3_server, name, s3_server.app)
    data = jpeg()
    digest = sha(data)
    headers = token_for(client, "sup1")
    assert put(client, headers, data).status_code == 201
    s3_server.client().put_bucket_policy(Bucket=name, Policy=json.dumps({
        "Version": "2012-10-17", "Statement": [{"Effect": "Deny", "Principal": "*", "Action": "s3:GetObject",
                                               "Resource": f"arn:aws:s3:::{name}/photos/*"}]}))
    r = client.get(f"/api/v1/photos/{digest}?variant=display", headers=headers)
    assert r.status_code == 503 and r.get_json()["error"]["code"] == "storage_unavailable"


def test_s3_without_boto3_refuses_to_start_saying_what_to_install(monkeypatch, tmp_path):
    monkeypatch.setitem(sys.modules, "boto3", None)  # `import boto3` raises ImportError
    with pytest.raises(StorageNotConfigured, match=r"pip install -e '\.\[s3\]'"):
        create_app({"SQLALCHEMY_DATABASE_URI": f"sqlite:///{tmp_path / 'x.db'}", "S3_BUCKET": "evidence",
                    "MEDIA_ROOT": str(tmp_path / "m")})
