import gzip

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


GZIP_MIN_BYTES = 1024  # below this, compression saves less than its headers cost
GZIP_LEVEL = 5  # a pull page of 500 records compresses ~10x at level 5; higher levels gain little more


def compressed(response):
    """The response gzip-compressed when the client accepts it (the sync pull's pages are large
    and repetitive; behind a proxy that compresses, the Content-Encoding tells it not to again)."""
    if response.direct_passthrough or "Content-Encoding" in response.headers \
            or "gzip" not in request.accept_encodings:
        return response
    response.vary.add("Accept-Encoding")
    data = response.get_data()
    if len(data) < GZIP_MIN_BYTES:
        return response
    response.set_data(gzip.compress(data, compresslevel=GZIP_LEVEL, mtime=0))
    response.headers["Content-Encoding"] = "gzip"
    return response
