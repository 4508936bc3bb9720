"""Card links (/go/<kind>/<id>) open the phone app's page on a phone, the desk page elsewhere,
and only for someone who may see the object (issue #17)."""

import pytest

from webapp.outbox.golinks import card_link

IPHONE_WECOM = ("Mozilla/5.0 (iPhone; CPU iPhone OS 17_0 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) "
                "Mobile/15E148 wxwork/4.1.0 MicroMessenger/7.0.1 Language/zh")
ANDROID_DINGTALK = "Mozilla/5.0 (Linux; Android 13; Pixel 7) AppleWebKit/537.36 Chrome/120 Mobile Safari/537.36 DingTalk/7.5"
DESKTOP_WECOM = "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 Chrome/120 Safari/537.36 wxwork/4.1 WindowsWechat"


@pytest.mark.parametrize("ua,kind,expected", [
    (IPHONE_WECOM, "visit", "/m/visit/{visit}"),
    (ANDROID_DINGTALK, "finding", "/m/finding/{finding}"),
    (ANDROID_DINGTALK, "rectification", "/m/finding/{finding}"),
    (DESKTOP_WECOM, "visit", "/visits/{visit}"),
    (DESKTOP_WECOM, "finding", "/findings/{finding}"),
    (DESKTOP_WECOM, "rectification", "/rectification/{finding}"),
])
def test_phone_or_desk(client, auth, world, ua, kind, expected):
    ids = {"visit": world["visits"][0].id, "finding": world["findings"][0].id}
    obj = ids["visit"] if kind == "visit" else ids["finding"]
    auth.login("sup1")
    r = client.get(f"/go/{kind}/{obj}", headers={"User-Agent": ua})
    assert r.status_code == 303 and r.headers["Location"] == expected.format(**ids)


def test_staff_on_a_phone_go_to_the_desk_page(client, auth, world):
    auth.login("staff1")
    f = world["findings"][0]
    r = client.get(f"/go/finding/{f.id}", headers={"User-Agent": IPHONE_WECOM})
    assert r.status_code in (303, 404)
    if r.status_code == 303:
        assert r.headers["Location"] == f"/findings/{f.id}"


@pytest.mark.parametrize("path", ["/go/finding/{other}", "/go/visit/{other_visit}", "/go/nothing/{other}",
                                  "/go/finding/x", "/go/finding/" + "x" * 10_000])
def test_out_of_scope_or_bad_is_404(client, auth, world, path):
    auth.login("sup1")
    url = path.format(other=world["findings"][1].id, other_visit=world["visits"][1].id)
    assert client.get(url, headers={"User-Agent": IPHONE_WECOM}).status_code == 404


def test_signed_out_goes_to_sign_in(client, world):
    r = client.get(f"/go/finding/{world['findings'][0].id}")
    assert r.status_code in (302, 401)


def test_card_links_point_at_go():
    fid = "0" * 8 + "-0000-0000-0000-" + "0" * 12
    assert card_link(f"/findings/{fid}") == f"/go/finding/{fid}"
    assert card_link(f"/reports/{fid}") == f"/go/report/{fid}"
    assert card_link("/results/warnings/") == "/results/warnings/"
    assert card_link(None) is None
