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


def test_generated_problem_text_takes_the_readers_punctuation(app, world, create_finding):
    """Issue #19 item 4: a report's prefilled problem list read "标题(严重):描述" in Chinese; the
    punctuation now comes from the catalog, full-width in zh-CN and ASCII in English."""
    from flask_babel import force_locale

    from webapp.reports.operations import prefill
    from webapp.results.warnings.operations import render_warning

    visit = world["visits"][0]
    create_finding(visit, "消防通道堆放货物", severity="high", description="安全出口被纸箱堵住")
    with app.test_request_context(), force_locale("zh_CN"):
        zh = prefill(visit)["problems"]
        warning = render_warning("high_severity_open", {"title": "消防通道堆放货物", "severity": "high", "days": 70,
                                                        "threshold": 60})
    with app.test_request_context(), force_locale("en"):
        en = prefill(visit)["problems"]
    assert "消防通道堆放货物（严重）：安全出口被纸箱堵住" in zh and not ASCII_BETWEEN_CJK.search(zh)
    assert not re.search(r"[(),:;]", zh.replace("1. ", "").replace("2. ", ""))
    assert "（严重）" in warning and not ASCII_BETWEEN_CJK.search(warning)
    assert "(High): 安全出口被纸箱堵住" in en
