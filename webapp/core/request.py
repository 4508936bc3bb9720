"""What comes in, before any view sees it: parameters under the one text rule, JSON of a sane depth."""

from flask import Request
from flask.json.provider import DefaultJSONProvider
from werkzeug.datastructures import ImmutableMultiDict, MultiDict

from webapp.core.text import clean_text

# Deeper than any document of the protocol by far; past Python's recursion limit the parser (or the
# schemas after it) would fail with a RecursionError, a 500.
MAX_JSON_DEPTH = 64


class CleanParams(ImmutableMultiDict):
    """Query-string and form parameters with the text rule of webapp/core/text.py applied: a title
    pasted from Word keeps its line breaks, a NUL or a stray control character is dropped before
    any view, search or database sees it (uploaded files pass as they are)."""

    def __init__(self, mapping=None):
        pairs = list(MultiDict(mapping).items(multi=True)) if mapping is not None else []
        super().__init__([(clean_text(k), clean_text(v) if isinstance(v, str) else v) for k, v in pairs])
        # The fields that lost a character (not a line break by another name): a form that would
        # rather refuse such a value than save what is left can ask (webapp/org/views.py does).
        self.dropped = frozenset(clean_text(k) for k, v in pairs
                                 if isinstance(v, str) and len(clean_text(v)) != len(v))


class CleanRequest(Request):
    parameter_storage_class = CleanParams


def _too_deep(value) -> bool:
    stack = [(value, 1)]
    while stack:
        value, depth = stack.pop()
        children = value.values() if isinstance(value, dict) else value if isinstance(value, list) else ()
        for child in children:
            if isinstance(child, dict | list):
                if depth + 1 > MAX_JSON_DEPTH:
                    return True
                stack.append((child, depth + 1))
    return False


class DepthLimitedJSON(DefaultJSONProvider):
    """A body nested too deeply is not valid JSON to us: a ValueError, which request.get_json turns
    into a 400 (or None when silent, which the API answers with its bad_json error)."""

    def loads(self, s, **kwargs):
        try:
            value = super().loads(s, **kwargs)
        except RecursionError:
            raise ValueError("JSON nested too deeply") from None
        if _too_deep(value):
            raise ValueError("JSON nested too deeply")
        return value
