"""HTML form input for marshmallow *Args schemas, and their error messages in the user's language.

Browsers send every field as a string, blanks included; a blank optional field means "not given".
marshmallow's own messages are English only, so they are mapped to catalog messages here.
"""

from flask import abort
from flask_babel import gettext as _

from webapp.extensions import db


def form_to_dict(form, lists=()) -> dict:
    """A MultiDict from a form → a plain dict: blanks dropped, `lists` fields as lists."""
    out = {}
    for key in form:
        if key == "csrf_token":
            continue
        if key in lists:
            out[key] = [v for v in form.getlist(key) if v.strip()]
        else:
            value = form.get(key, "").strip()
            if value != "":
                out[key] = value
    for key in lists:
        out.setdefault(key, [])
    return out


def filter_args(schema, multidict) -> dict:
    """A list's filters from a link (`schema` a marshmallow *Args): blanks are absent, and a filter
    that does not validate is dropped rather than failing the whole list (a hand-edited or stale link
    shows the list, never an error page)."""
    data = {k: v for k, v in multidict.items() if v != ""}
    for key in schema.validate(data):
        data.pop(key, None)
    return schema.load(data)


def _translate(message: str) -> str:
    known = {
        "Missing data for required field.": lambda: _("This field is required."),
        "Field may not be null.": lambda: _("This field is required."),
        "Not a valid date.": lambda: _("Enter a valid date (YYYY-MM-DD)."),
        "Not a valid integer.": lambda: _("Enter a whole number."),
        "Not a valid number.": lambda: _("Enter a number."),
        "Not a valid boolean.": lambda: _("Choose yes or no."),
        "Not a valid string.": lambda: _("Enter text."),
        "Not a valid list.": lambda: _("Choose from the list."),
        "Unknown field.": lambda: _("This field is not expected here."),
    }
    if message in known:
        return known[message]()
    if message.startswith("Special numeric values"):  # nan, inf
        return _("Enter a number.")
    if message.startswith("Must be one of"):
        return _("Choose one of the offered options.")
    if message.startswith(("Longer than maximum length", "Length must be")):
        return _("This text is too long.")
    if message.startswith("Shorter than minimum length"):
        return _("This field is required.")
    if message.startswith("Must be greater than") or message.startswith("Must be less than"):
        return _("This number is out of range.")
    return message  # our own messages are already translated


def translate_errors(messages):
    """marshmallow's error dict with every message in the user's language (nested lists/dicts kept)."""
    if isinstance(messages, dict):
        return {k: translate_errors(v) for k, v in messages.items()}
    if isinstance(messages, list):
        return [translate_errors(m) for m in messages]
    return _translate(str(messages))


def refusal_errors(e) -> dict:
    """An operation refused with `e` (a `message`, the `fields` to fix, an HTTP `status`): undo it;
    a refusal of permission is a 403, anything else goes back to the form with what the user typed
    and the reason next to its field."""
    db.session.rollback()
    if e.status == 403:
        abort(403)
    return e.fields or {"_schema": [e.message]}
