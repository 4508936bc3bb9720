from flask import request
from flask_babel import gettext as _
from marshmallow import ValidationError

from webapp.core.errors import api_error


class BadPayload(Exception):
    def __init__(self, response):
        self.response = response


def load_json(schema):
    """Parse the JSON body with a marshmallow schema; a bad body becomes a 400 with field messages."""
    payload = request.get_json(silent=True)
    if not isinstance(payload, dict):
        raise BadPayload(api_error(400, "bad_json", _("The body must be a JSON object.")))
    try:
        return schema.load(payload)
    except ValidationError as e:
        raise BadPayload(api_error(400, "invalid", _("Some fields are not valid."), e.messages)) from None
