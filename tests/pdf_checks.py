"""Looking at a rendered PDF the way a reader does (poppler-utils): the pages as PNG (pdftoppm), where
each embedded picture lies on them (pdftohtml -xml), and what is drawn there. Used by the tests that
prove the report's PDF shows the watermark band, the markup and the signatures (tests/evidence,
e2e/test_markup.py). Without poppler-utils such a test fails under CI=true and skips otherwise."""

import os
import re
import shutil
import subprocess
from dataclasses import dataclass
from pathlib import Path

import pytest
from PIL import Image

TOOLS = ("pdftoppm", "pdftotext", "pdftohtml")


def require_poppler() -> None:
    missing = [t for t in TOOLS if not shutil.which(t)]
    if missing:
        if os.environ.get("CI") == "true":
            pytest.fail(f"poppler-utils is required under CI ({', '.join(missing)} missing; tools/run_tests.sh "
                        "installs it)")
        pytest.skip(f"poppler-utils is not installed ({', '.join(missing)} missing)")


def pdf_text(pdf: Path) -> str:
    return subprocess.run(["pdftotext", str(pdf), "-"], capture_output=True, text=True, check=True).stdout


def render(pdf: Path, dpi: int = 100) -> list[Image.Image]:
    """Every page as an RGB image at `dpi`."""
    out = pdf.parent / f"{pdf.stem}-page"
    subprocess.run(["pdftoppm", "-r", str(dpi), "-png", str(pdf), str(out)], check=True)
    pages = []
    for png in sorted(pdf.parent.glob(f"{out.name}*.png"), key=lambda p: int(re.findall(r"(\d+)\.png$", p.name)[0])):
        with Image.open(png) as im:
            pages.append(im.convert("RGB"))
    return pages


@dataclass
class Placed:
    page: int  # 1-based
    left: float  # points (1/72 inch) from the page's top-left corner
    top: float
    width: float
    height: float

    def crop(self, page_img: Image.Image, dpi: int) -> Image.Image:
        k = dpi / 72
        return page_img.crop((round(self.left * k), round(self.top * k), round((self.left + self.width) * k),
                              round((self.top + self.height) * k)))


def pictures(pdf: Path) -> list[Placed]:
    """Where each embedded picture is drawn, in page order (pdftohtml -xml at zoom 1: points)."""
    work = pdf.parent / f"{pdf.stem}-html"
    work.mkdir(exist_ok=True)
    subprocess.run(["pdftohtml", "-xml", "-zoom", "1", "-q", str(pdf), str(work / "out")], check=True,
                   capture_output=True)
    xml = (work / "out.xml").read_text(errors="replace")
    placed = []
    for number, body in re.findall(r'<page number="(\d+)".*?>(.*?)</page>', xml, flags=re.S):
        for attrs in re.findall(r"<image ([^>]*)>", body):
            a = dict(re.findall(r'(\w+)="([^"]*)"', attrs))
            placed.append(Placed(int(number), float(a["left"]), float(a["top"]), float(a["width"]),
                                 float(a["height"])))
    return placed


def luminance(px) -> float:
    r, g, b = px[:3]
    return 0.299 * r + 0.587 * g + 0.114 * b


def band_at_bottom(img: Image.Image) -> bool:
    """The watermark band as drawn on the page: the picture's bottom strip is much darker than its
    upper part, and holds light text (the band's site, time, supervisor and hash)."""
    w, h = img.size
    if w < 20 or h < 20:
        return False
    px = img.load()

    def rows(y0, y1):
        return [px[x, y] for y in range(y0, y1) for x in range(w)]

    strip = rows(round(h * 0.90), h - 1)
    upper = rows(round(h * 0.05), round(h * 0.45))
    mean_strip = sum(map(luminance, strip)) / len(strip)
    mean_upper = sum(map(luminance, upper)) / len(upper)
    # the band's lines, antialiased at a reader's resolution: lighter than the darkened strip around them
    light = sum(1 for p in rows(round(h * 0.80), h - 1) if luminance(p) > max(140, mean_strip + 60))
    return mean_strip < 0.7 * mean_upper and light >= 3


def dark_strokes(img: Image.Image) -> int:
    """Dark pixels (a signature's strokes drawn dark on white)."""
    return sum(1 for p in img.get_flattened_data() if luminance(p) < 110)
