"""Keep the zh_CN and en catalogs complete.

    python tools/i18n.py update [translations.json]
        extract messages from webapp/ and templates/, update both catalogs; the en catalog takes
        msgstr = msgid; Simplified Chinese (zh_Hans_CN, the app's zh_CN) takes translations from the JSON file ({msgid: msgstr}) where given.
    python tools/i18n.py check
        exit 1 listing any message that is missing, untranslated or fuzzy in either catalog.
"""

import json
import sys
from io import BytesIO
from pathlib import Path

from babel.messages.catalog import Catalog
from babel.messages.extract import extract_from_dir
from babel.messages.pofile import read_po, write_po

ROOT = Path(__file__).resolve().parent.parent
TRANSLATIONS = ROOT / "webapp" / "translations"
# Babel parses zh_CN as zh_Hans_CN and gettext looks for that directory (or "zh").
LOCALES = ("zh_Hans_CN", "en")
KEYWORDS = {"_": None, "gettext": None, "ngettext": (1, 2), "_l": None, "lazy_gettext": None}
METHODS = [("webapp/**.py", "python"), ("templates/**.html", "jinja2")]


def extract() -> Catalog:
    template = Catalog(project="supervision", charset="utf-8")
    for path_glob, method in METHODS:
        for filename, lineno, message, comments, context in extract_from_dir(
            ROOT, method_map=[(path_glob, method)], keywords=KEYWORDS,
        ):
            template.add(message, None, [(filename, lineno)], auto_comments=comments, context=context)
    return template


def po_path(locale: str) -> Path:
    return TRANSLATIONS / locale / "LC_MESSAGES" / "messages.po"


def load(locale: str) -> Catalog:
    path = po_path(locale)
    if not path.exists():
        return Catalog(locale=locale, project="supervision", charset="utf-8")
    with path.open("rb") as fh:
        return read_po(fh, locale=locale)


def save(catalog: Catalog, locale: str) -> None:
    path = po_path(locale)
    path.parent.mkdir(parents=True, exist_ok=True)
    catalog.fuzzy = False
    buf = BytesIO()
    write_po(buf, catalog, width=0, no_location=True, sort_output=True, ignore_obsolete=True)
    path.write_bytes(buf.getvalue())


def update(extra: dict) -> None:
    template = extract()
    for locale in LOCALES:
        catalog = load(locale)
        catalog.update(template, no_fuzzy_matching=True)
        for msg in catalog:
            if not msg.id:
                continue
            msg.flags.discard("fuzzy")
            key = msg.id if isinstance(msg.id, str) else msg.id[0]
            if locale == "en":
                msg.string = msg.id if isinstance(msg.id, str) else tuple(msg.id)
            elif key in extra:
                msg.string = extra[key]
        save(catalog, locale)


def problems() -> list[str]:
    template = extract()
    wanted = {m.id if isinstance(m.id, str) else m.id[0] for m in template if m.id}
    out = []
    for locale in LOCALES:
        catalog = load(locale)
        have = {}
        for m in catalog:
            if m.id:
                have[m.id if isinstance(m.id, str) else m.id[0]] = m
        for key in sorted(wanted):
            m = have.get(key)
            if m is None:
                out.append(f"{locale}: missing {key!r}")
            elif not m.string or (isinstance(m.string, tuple) and not all(m.string)):
                out.append(f"{locale}: untranslated {key!r}")
            elif "fuzzy" in m.flags:
                out.append(f"{locale}: fuzzy {key!r}")
    return out


if __name__ == "__main__":
    cmd = sys.argv[1] if len(sys.argv) > 1 else "check"
    if cmd == "update":
        extra = json.loads(Path(sys.argv[2]).read_text()) if len(sys.argv) > 2 else {}
        update(extra)
    found = problems()
    for line in found:
        print(line)
    sys.exit(1 if found and cmd == "check" else 0)
