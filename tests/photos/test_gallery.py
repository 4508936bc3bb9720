import re

import pytest

from tests.photos.images import jpeg, sha
from tests.photos.test_api import put, token_for
from webapp.extensions import db


@pytest.fixture
def finding_with_photos(client, world):
    shas = []
    for size, gps in (((800, 600), (31.2304, 121.4737)), ((600, 800), None)):
        data = jpeg(size, gps=gps)
        assert put(client, token_for(client, "sup1"), data).status_code == 201
        shas.append(sha(data))
    finding = world["findings"][0]
    finding.photos = shas
    db.session.commit()
    return finding, shas


@pytest.mark.parametrize(("username", "original_link"), [("sup1", False), ("manager", True)])
def test_finding_detail_shows_gallery(client, auth, finding_with_photos, username, original_link):
    finding, shas = finding_with_photos
    auth.login(username)
    page = client.get(f"/findings/{finding.id}", headers={"Accept-Language": "en"}).get_data(as_text=True)
    assert "Photo evidence (2)" in page
    imgs = re.findall(r"<img [^>]*>", page.replace("\n", " "))
    thumbs = [i for i in imgs if "variant=thumb" in i]
    assert len(thumbs) == 2
    assert all('loading="lazy"' in i and "alt=" in i for i in thumbs)
    assert re.search(r'width="320"\s+height="240"', thumbs[0]) and re.search(r'width="240"\s+height="320"', thumbs[1])
    assert f'/api/v1/photos/{shas[0]}?variant=display' in page
    assert "31.23040, 121.47370" in page
    assert ("variant=original" in page) is original_link
    # and the thumbnails the page points at load for this user
    r = client.get(f"/api/v1/photos/{shas[0]}?variant=thumb")
    assert r.status_code == 200


def test_finding_without_photos(client, auth, world):
    auth.login("manager")
    page = client.get(f"/findings/{world['findings'][1].id}", headers={"Accept-Language": "zh-CN"}).get_data(as_text=True)
    assert "没有照片" in page
