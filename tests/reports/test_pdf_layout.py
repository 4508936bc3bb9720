"""The report PDF lays its photos out in the flow: a portrait phone photo ends above the next
section's heading, in both languages. Checked on the rendered page: the photos' pixels (the test
picture is red and blue) against the heading's position from pdftotext -bbox."""

import os
import re
import shutil
import subprocess

import pytest
from PIL import Image

from tests.photos.images import jpeg, sha
from tests.photos.test_api import put, token_for
from webapp.extensions import db
from webapp.reports import operations as ops

DPI = 72  # one pixel per PDF point, so pdftotext's coordinates are pixels


@pytest.fixture(autouse=True)
def _poppler():
    if not shutil.which("pdftotext") or not shutil.which("pdftoppm"):
        if os.environ.get("CI") == "true":
            pytest.fail("poppler-utils is required under CI (tools/run_tests.sh installs it)")
        pytest.skip("poppler-utils is not installed")


def _photo_bottoms(png) -> int | None:
    """The lowest row holding the test picture's red or blue, or None when the page has none."""
    img = Image.open(png).convert("RGB")
    w, h = img.size
    px = img.load()
    for y in range(h - 1, -1, -1):
        for x in range(0, w, 2):
            r, g, b = px[x, y]
            if (r > 170 and g < 90 and b < 90) or (b > 170 and r < 90 and g < 90):
                return y
    return None


def _heading_position(pdf, word) -> tuple[int, float]:
    html = subprocess.run(["pdftotext", "-bbox", str(pdf), "-"], capture_output=True, text=True, check=True).stdout
    for page_no, page in enumerate(re.findall(r"<page .*?</page>", html, flags=re.S), 1):
        for y_min, text in re.findall(r'<word xMin="[\d.]+" yMin="([\d.]+)" xMax="[\d.]+" yMax="[\d.]+">([^<]*)</word>', page):
            if text == word:
                return page_no, float(y_min)
    raise AssertionError(f"{word!r} not found in the PDF")


@pytest.mark.parametrize(("lang", "heading"), [("zh-CN", "问题分析"), ("en", "Analysis")])
def test_portrait_photos_end_above_the_next_section(client, auth, world, app, tmp_path, lang, heading):
    photos = [jpeg((600, 800)), jpeg((610, 810)), jpeg((800, 600))]  # two portrait, one landscape
    headers = token_for(client, "sup1")
    for data in photos:
        assert put(client, headers, data).status_code == 201
    world["findings"][0].photos = [sha(p) for p in photos]
    db.session.commit()
    with app.test_request_context():
        report = ops.create_report(world["visits"][0], world["users"]["sup1"])
    db.session.commit()
    auth.login("sup1")
    r = client.get(f"/reports/{report.id}/report.pdf", headers={"Accept-Language": lang})
    assert r.status_code == 200 and r.mimetype == "application/pdf"
    pdf = tmp_path / "r.pdf"
    pdf.write_bytes(r.data)
    subprocess.run(["pdftoppm", "-r", str(DPI), "-png", str(pdf), str(tmp_path / "page")], check=True)
    pages = sorted(tmp_path.glob("page*.png"))
    bottoms = {n: b for n, png in enumerate(pages, 1) if (b := _photo_bottoms(png)) is not None}
    assert bottoms, "the photos are not in the PDF"
    heading_page, heading_top = _heading_position(pdf, heading)
    last_photo_page = max(bottoms)
    assert heading_page >= last_photo_page
    if heading_page == last_photo_page:
        assert heading_top > bottoms[last_photo_page] + 2, (heading_top, bottoms)


def test_a_photo_fits_its_box_whatever_its_orientation(app):
    from webapp.reports.pdf import PHOTO_BOX_MM, photo_size

    w, h = photo_size(jpeg((600, 800)))
    assert h == pytest.approx(PHOTO_BOX_MM) and w == pytest.approx(PHOTO_BOX_MM * 0.75)
    w, h = photo_size(jpeg((800, 600)))
    assert w == pytest.approx(PHOTO_BOX_MM) and h == pytest.approx(PHOTO_BOX_MM * 0.75)
