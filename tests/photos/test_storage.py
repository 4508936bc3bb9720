import io

import pytest
from botocore.exceptions import ClientError

from tests.photos.images import jpeg, sha
from tests.photos.test_api import put, token_for
from webapp.photos.storage import LocalStore, S3Store, make_store


class FakeS3:
    """The four calls S3Store makes, with S3's answers (enough to test our side of it)."""

    def __init__(self):
        self.objects = {}

    def head_object(self, Bucket, Key):
        if (Bucket, Key) not in self.objects:
            raise ClientError({"Error": {"Code": "404", "Message": "Not Found"}}, "HeadObject")
        return {}

    def get_object(self, Bucket, Key):
        return {"Body": io.BytesIO(self.objects[(Bucket, Key)])}

    def put_object(self, Bucket, Key, Body):
        self.objects[(Bucket, Key)] = bytes(Body)

    def delete_object(self, Bucket, Key):
        self.objects.pop((Bucket, Key), None)


def test_local_store_shards_and_leaves_no_temp_files(tmp_path):
    store = LocalStore(str(tmp_path))
    store.put("abcdef", b"x")
    assert (tmp_path / "ab" / "cd" / "abcdef").read_bytes() == b"x"
    assert [p.name for p in tmp_path.rglob("*") if p.is_file()] == ["abcdef"]
    store.delete("abcdef")
    assert not store.exists("abcdef")


def test_s3_store_is_chosen_when_configured(monkeypatch):
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "test")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "test")
    monkeypatch.setenv("AWS_DEFAULT_REGION", "us-east-1")
    store = make_store({"S3_BUCKET": "evidence", "S3_ENDPOINT_URL": "http://127.0.0.1:9000", "MEDIA_ROOT": "/x"})
    assert isinstance(store, S3Store) and store.client.meta.endpoint_url == "http://127.0.0.1:9000"
    assert isinstance(make_store({"S3_BUCKET": None, "MEDIA_ROOT": "/x"}), LocalStore)


@pytest.fixture
def s3(app):
    fake = FakeS3()
    app.extensions["photo_store"] = S3Store("evidence", client=fake)
    return fake


def test_upload_and_download_through_s3(client, world, s3):
    data = jpeg()
    digest = sha(data)
    headers = token_for(client, "sup1")
    assert put(client, headers, data).status_code == 201
    assert set(s3.objects) == {("evidence", f"photos/{digest}"), ("evidence", f"photos/{digest}.display.jpg"),
                               ("evidence", f"photos/{digest}.thumb.jpg")}
    assert client.head(f"/api/v1/photos/{digest}", headers=headers).status_code == 200
    r = client.get(f"/api/v1/photos/{digest}?variant=thumb", headers=headers)
    assert r.status_code == 200 and r.data == s3.objects[("evidence", f"photos/{digest}.thumb.jpg")]
    r = client.get(f"/api/v1/photos/{digest}?variant=original", headers=token_for(client, "manager"))
    assert r.data == data
