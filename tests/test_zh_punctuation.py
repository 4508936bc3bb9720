"""Chinese text takes full-width punctuation: no ASCII `,:;()` between two Chinese characters in
any msgstr of the zh catalog (or in the JSON sources it is made from)."""

import json
import re
from pathlib import Path

from babel.messages.pofile import read_po

ROOT = Path(__file__).resolve().parent.parent
CJK = "\u3400-\u4dbf\u4e00-\u9fff"
ASCII_BETWEEN_CJK = re.compile(rf"[{CJK}][ \t]*[,:;()][ \t]*[{CJK}]")


def _zh_catalog():
    with (ROOT / "webapp/translations/zh_Hans_CN/LC_MESSAGES/messages.po").open("rb") as f:
        return read_po(f, locale="zh_Hans_CN")


def test_no_ascii_punctuation_between_chinese_characters_in_the_zh_catalog():
    bad = []
    for msg in _zh_catalog():
        strings = msg.string if isinstance(msg.string, tuple) else (msg.string,)
        bad += [(msg.id, s) for s in strings if s and ASCII_BETWEEN_CJK.search(s)]
    assert not bad, "\n".join(f"{i!r}: {s!r}" for i, s in bad)


def test_no_ascii_punctuation_between_chinese_characters_in_the_translation_sources():
    bad = []
    for path in sorted((ROOT / "tools/translations").glob("*.json")):
        for msgid, value in json.loads(path.read_text(encoding="utf-8")).items():
            for s in value if isinstance(value, list) else [value]:
                if ASCII_BETWEEN_CJK.search(s):
                    bad.append(f"{path.name}: {msgid!r}: {s!r}")
    assert not bad, "\n".join(bad)


def test_the_examples_of_the_issue_read_with_full_width_punctuation():
    strings = {m.id if isinstance(m.id, str) else m.id[0]: m.string for m in _zh_catalog()}
    assert strings["Supervision report: %(site)s, %(date)s"] == "督导报告：%(site)s，%(date)s"
    assert strings["Hello, %(name)s"] == "您好，%(name)s"


def test_the_check_catches_what_it_should():
    assert ASCII_BETWEEN_CJK.search("督导报告:徐汇门店")
    assert ASCII_BETWEEN_CJK.search("您好, 张伟")
    assert ASCII_BETWEEN_CJK.search("计划(季度)")
    assert not ASCII_BETWEEN_CJK.search("督导报告：徐汇门店，2026-12-03")
    assert not ASCII_BETWEEN_CJK.search("10:00–11:30 高峰")
