"""The one text rule (webapp/core/text.py) and the door that applies it to every form and query
string (webapp/core/formdata.py CleanRequest)."""

import pytest
from sqlalchemy import select

from tests.review_helpers import post
from webapp.core.text import clean_text, first_forbidden
from webapp.extensions import db
from webapp.findings.models import FindingComment


@pytest.mark.parametrize("char", ["\x00", "\x01", "\x0b", "\x0c", "\x1b", "\x1f", "\x7f", "\x85", "\x9f",
                                  "\ud800", "\udfff", "\ufffe", "\uffff"])
def test_refused_characters(char):
    assert first_forbidden(f"ab{char}c") == char


@pytest.mark.parametrize("text", ["", "第一行\n第二行\r\n\t缩进", "\u200f שלום \u202e", "emoji 🧯 ok", "x" * 10_000,
                                  "\u00a0\u2028\ufeff"])
def test_kept_text(text):
    assert first_forbidden(text) is None and clean_text(text) == text


def test_line_breaks_by_another_name_become_newlines_and_the_rest_is_dropped():
    assert clean_text("标题\x0b第二行\x0c\x85末\x00\x1b[0m\x7f\ud800") == "标题\n第二行\n\n末[0m"


def test_forms_are_cleaned_at_the_door(client, auth, world):
    """A comment pasted from Word (VT line breaks) with a stray NUL is saved clean, not a 500."""
    finding = world["findings"][0]
    auth.login("manager")
    r = post(client, f"/findings/{finding.id}/comments", {"body": "整改\x0b已完成\x00"})
    assert r.status_code == 303
    body = db.session.scalars(select(FindingComment.body).where(FindingComment.finding_id == finding.id)).one()
    assert body == "整改\n已完成"
