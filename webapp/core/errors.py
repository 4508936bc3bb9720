"""The API's error body, in one shape for every /api/ answer."""

from flask import jsonify


def api_error(status: int, code: str, message: str, fields: dict | None = None):
    body = {"error": {"code": code, "message": message}}
    if fields:
        body["error"]["fields"] = fields
    resp = jsonify(body)
    resp.status_code = status
    return resp
