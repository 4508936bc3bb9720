"""One rule for user text at every door: forms, query strings, the sync push and the phone import.

Kept: tab, line feed and carriage return (descriptions have lines), and every printable character of
any script, RTL marks and emoji included. Refused: the other C0 controls (NUL above all: PostgreSQL
text cannot hold it), DEL, the C1 controls, lone surrogates (not Unicode: no database can encode
them) and U+FFFE/U+FFFF; most of them cannot be written to an Excel file (XML 1.0) either.
"""

import re

FORBIDDEN = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f\ud800-\udfff\ufffe\uffff]")
# Line breaks by another name: Word's manual line break (VT), form feed, NEL.
LINE_BREAKS = re.compile("[\x0b\x0c\x85]")


def first_forbidden(value: str) -> str | None:
    """The first refused character of `value`, or None."""
    m = FORBIDDEN.search(value)
    return m.group() if m else None


def clean_text(value: str) -> str:
    """`value` with line breaks by another name made newlines and the other refused characters dropped."""
    if FORBIDDEN.search(value) is None:
        return value
    return FORBIDDEN.sub("", LINE_BREAKS.sub("\n", value))


def codepoint(char: str) -> str:
    return f"U+{ord(char):04X}"
