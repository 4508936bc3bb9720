"""The project's own documentation: every relative link and image in README.md and docs/*.md
points at a file of the repository (and, with a #fragment, at a heading of that file), and no page
points outside the repository to the old shared notes."""

import re
import sys
import unicodedata
from pathlib import Path
from urllib.parse import unquote

import pytest

ROOT = Path(__file__).resolve().parent.parent
PAGES = [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md"))]
FORBIDDEN = ("../shared", "shared/docs", "shared/seed")

FENCE = re.compile(r"^\s*(```|~~~)")
CODE_SPAN = re.compile(r"(`+)(?:(?!\1).)+?\1")
# [text](target "title") and ![alt](target); text may hold one level of brackets.
INLINE = re.compile(r"(!?)\[(?:[^\[\]]|\[[^\[\]]*\])*\]\(\s*<?([^()\s>]+)>?(?:\s+\"[^\"]*\")?\s*\)")
REFERENCE = re.compile(r"^\s{0,3}\[[^\]]+\]:\s*<?(\S+?)>?(?:\s+\"[^\"]*\")?\s*$")
HEADING = re.compile(r"^\s{0,3}(#{1,6})\s+(.*?)\s*#*\s*$")


def prose_lines(text: str, *, blank_code: bool = True):
    """(line number, line) outside fenced code blocks, with inline code spans blanked."""
    fenced = False
    for number, line in enumerate(text.splitlines(), 1):
        if FENCE.match(line):
            fenced = not fenced
            continue
        if fenced or line.startswith("    "):
            continue
        yield number, CODE_SPAN.sub(lambda m: " " * len(m.group(0)), line) if blank_code else line


def slug(heading: str) -> str:
    """GitHub's anchor for a heading: the text without markup and punctuation, lower case, spaces
    to hyphens (letters of any script, digits, '-' and '_' are kept)."""
    text = re.sub(r"!?\[([^\]]*)\]\([^)]*\)", r"\1", heading)  # a link keeps its text
    text = text.replace("`", "").strip().lower()
    kept = "".join(c for c in text if c in " -_" or unicodedata.category(c)[0] in "LNM")
    return kept.replace(" ", "-")


def anchors(page: Path) -> set[str]:
    seen: dict[str, int] = {}
    out = set()
    for _number, line in prose_lines(page.read_text(encoding="utf-8"), blank_code=False):
        m = HEADING.match(line)
        if not m:
            continue
        base = slug(m.group(2))
        n = seen.get(base, 0)
        seen[base] = n + 1
        out.add(base if n == 0 else f"{base}-{n}")
    return out


def links(page: Path):
    """(line number, target, is_image) of every inline or reference link on a page."""
    for number, line in prose_lines(page.read_text(encoding="utf-8")):
        for m in INLINE.finditer(line):
            yield number, m.group(2), m.group(1) == "!"
        m = REFERENCE.match(line)
        if m:
            yield number, m.group(1), False


def broken_links(page: Path) -> list[str]:
    problems = []
    for number, target, is_image in links(page):
        if re.match(r"^[a-z][a-z0-9+.-]*:", target, re.I):  # http:, https:, mailto: …
            if is_image:
                problems.append(f"{page.name}:{number}: image from outside the repository: {target}")
            continue
        path_part, _, fragment = target.partition("#")
        resolved = (page.parent / unquote(path_part)).resolve() if path_part else page
        where = f"{page.name}:{number}: {target}"
        if ROOT not in resolved.parents and resolved != ROOT:
            problems.append(f"{where} leaves the repository")
        elif not resolved.exists():
            problems.append(f"{where} does not exist")
        elif is_image and not resolved.is_file():
            problems.append(f"{where} is not an image file")
        elif fragment and resolved.suffix == ".md" and unquote(fragment).lower() not in anchors(resolved):
            problems.append(f"{where}: no heading with this anchor in {resolved.name}")
    return problems


@pytest.mark.parametrize("page", PAGES, ids=lambda p: p.relative_to(ROOT).as_posix())
def test_relative_links_and_images_resolve(page):
    assert broken_links(page) == []


@pytest.mark.parametrize("page", PAGES, ids=lambda p: p.relative_to(ROOT).as_posix())
def test_no_reference_to_the_shared_notes_outside_the_repository(page):
    text = page.read_text(encoding="utf-8")
    hits = [f"{page.name}:{n}: {line.strip()}" for n, line in enumerate(text.splitlines(), 1)
            if any(word in line for word in FORBIDDEN)]
    assert hits == []


def test_every_docs_page_is_listed_in_the_readme():
    readme = ROOT / "README.md"
    listed = {(readme.parent / t.partition("#")[0]).resolve() for _n, t, _img in links(readme)}
    missing = [p.name for p in PAGES[1:] if p.resolve() not in listed]
    assert missing == []


def test_the_checker_finds_what_it_should(tmp_path, monkeypatch):
    """The parser itself: a broken link, a missing image, a bad anchor and a link out of the
    repository are reported; links inside code are not."""
    monkeypatch.setattr(sys.modules[__name__], "ROOT", tmp_path)
    (tmp_path / "docs").mkdir()
    (tmp_path / "docs" / "a.png").write_bytes(b"\x89PNG")
    page = tmp_path / "docs" / "page.md"
    page.write_text(
        "# Title (标题, `/x/`)\n"
        "[ok](page.md#title-标题-x) ![ok](a.png) [web](https://example.com)\n"
        "[gone](missing.md) ![gone](b.png) [anchor](page.md#nope) [out](../../etc/passwd)\n"
        "`[code](nothing.md)`\n"
        "```\n[fenced](nothing.md)\n```\n"
        "[ref]: also-missing.md\n",
        encoding="utf-8")
    problems = broken_links(page)
    assert [p.split(":")[2].strip().split()[0] for p in problems] == [
        "missing.md", "b.png", "page.md#nope", "../../etc/passwd", "also-missing.md"]
