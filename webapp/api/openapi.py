"""The OpenAPI 3 document of /api/v1, built with apispec and its marshmallow plugin from the same
schemas the endpoints load and dump with."""

from apispec import APISpec
from apispec.ext.marshmallow import MarshmallowPlugin
from flask import jsonify
from marshmallow import Schema, fields

from webapp.api import bp
from webapp.api.schemas import TokenArgs, UserSchema
from webapp.mobile.schemas import ImportArgs
from webapp.rectification.schemas import FeedResponse as RectificationFeed
from webapp.sync_store.schemas import (
    DATA_SCHEMAS,
    FETCHED_ENTITIES,
    ConflictListResponse,
    ConflictResponse,
    MutationDoc,
    OlderResponse,
    PullResponse,
    PushDoc,
    PushResponse,
    RecordResponse,
    ResolveArgs,
)

PROTOCOL_VERSION = "1.1.0"


class ImportResponse(Schema):
    photos = fields.Dict(keys=fields.String(), values=fields.String(), required=True,
                         metadata={"description": "sha256 → stored | present | bad_hash | bad_base64 | hash_mismatch | "
                                                  "a photo rejection code"})
    results = fields.List(fields.Dict(), required=True, metadata={"description": "as in a push response"})


class ErrorBody(Schema):
    code = fields.String(required=True)
    message = fields.String(required=True)
    fields_ = fields.Dict(data_key="fields")


class ErrorResponse(Schema):
    error = fields.Nested(ErrorBody, required=True)


class HealthResponse(Schema):
    status = fields.String(required=True)


class TokenUser(Schema):
    id = fields.String(required=True)
    username = fields.String(required=True)
    role = fields.String(required=True)


class TokenResponse(Schema):
    token = fields.String(required=True)
    expires_at = fields.DateTime(required=True, metadata={
        "description": "when the token stops working (API_TOKEN_LIFETIME_HOURS after it was issued); "
                       "refresh it before then"})
    user = fields.Nested(TokenUser, required=True)


class MeResponse(Schema):
    user = fields.Nested(UserSchema, required=True)


def _json(schema):
    return {"content": {"application/json": {"schema": schema}}}


def _errors(*codes):
    return {str(c): {"$ref": "#/components/responses/Error"} for c in codes}


def _linked(response: dict, **links) -> dict:
    """A response with OpenAPI links: {name: (operation, {parameter: runtime expression})}, so a
    client (or schemathesis' stateful run) can follow one call with the next."""
    return {**response, "links": {name: {"operationRef": "#/paths/" + path.replace("/", "~1") + "/" + method,
                                         "parameters": params}
                                  for name, ((path, method), params) in links.items()}}


ME, PULL, PUSH = ("/me", "get"), ("/sync/pull", "get"), ("/sync/push", "post")
CONFLICTS, RESOLVE = ("/conflicts", "get"), ("/conflicts/{conflict_id}/resolve", "post")


def _query(name, schema, description=""):
    return {"in": "query", "name": name, "required": False, "schema": schema, "description": description}


PATHS = {
    "/health": {"get": {
        "summary": "Whether the app can serve", "security": [],
        "responses": {"200": _json("HealthResponse")}}},
    "/auth/token": {"post": {
        "summary": "Exchange a username and password for a bearer token", "security": [],
        "description": "Failed sign-ins are limited per client address and per address + username "
                       "(429 `throttled`, with Retry-After); a username with many recent failures "
                       "answers more slowly.",
        "requestBody": {"required": True, **_json("TokenArgs")},
        "responses": {"201": _linked(_json("TokenResponse"), Me=(ME, {})), **_errors(400, 401, 429)}},
        "delete": {"summary": "Revoke the bearer token sent in the Authorization header",
                   "responses": {"204": {"description": "revoked"}, **_errors(400, 401)}}},
    "/auth/token/refresh": {"post": {
        "summary": "Swap the bearer token for a new one with a new lifetime (the old one is revoked)",
        "description": "Call it before `expires_at`. An expired token gets 401 `token_expired`: sign in "
                       "again with POST /auth/token. A revoked or unknown one gets 401 `invalid_token`.",
        "responses": {"200": _json("TokenResponse"), **_errors(400, 401)}}},
    "/me": {"get": {"summary": "The signed-in user",
                    # a signed-in device's first steps: pull what it may see, push its outbox
                    "responses": {"200": _linked(_json("MeResponse"), Pull=(PULL, {}), Push=(PUSH, {})),
                                  **_errors(401)}}},
    "/sync/pull": {"get": {
        "summary": "Changes in the caller's scope after `cursor`, oldest first (omit it for a snapshot)",
        "parameters": [_query("cursor", {"type": "integer", "minimum": 0, "maximum": 2**63 - 1}),
                       _query("limit", {"type": "integer", "minimum": 1, "maximum": 100000},
                              "capped by the server (500; 5,000 with encoding=columns)"),
                       _query("encoding", {"type": "string", "enum": ["json", "columns"]},
                              "columns: per entity the field names once and a row per record"),
                       _query("scope", {"type": "string", "enum": ["all", "phone"]},
                              "phone: a fresh phone's window (reference data, open work, the recent period)"),
                       _query("horizon", {"type": "integer", "minimum": 0, "maximum": 2**63 - 1},
                              "scope=phone: the horizon the first page returned")],
        "responses": {"200": _linked(_json("PullResponse"), NextPage=(PULL, {"cursor": "$response.body#/cursor"})),
                      **_errors(400, 401)}}},
    "/sync/records": {"get": {
        "summary": "One record on demand (an older one a phone left out), in the caller's scope",
        "parameters": [{**_query("entity", {"type": "string", "enum": list(FETCHED_ENTITIES)}), "required": True},
                       {**_query("id", {"type": "string", "format": "uuid"}), "required": True}],
        "responses": {"200": _json("RecordResponse"), **_errors(400, 401, 404)}}},
    "/sync/older": {"get": {
        "summary": "Older visits on demand, newest first, with the records inside them the caller may see",
        "parameters": [_query("site_id", {"type": "string", "format": "uuid"}),
                       _query("before", {"type": "string", "format": "date"}, "visits scheduled before this day"),
                       _query("before_id", {"type": "string", "format": "uuid"}, "and, on that day, before this id"),
                       _query("limit", {"type": "integer", "minimum": 1, "maximum": 50})],
        "responses": {"200": _json("OlderResponse"), **_errors(400, 401)}}},
    "/sync/push": {"post": {
        "summary": "Apply a device's mutations in order; each gets its own status (batched, savepoint fallback)",
        "requestBody": {"required": True, **_json("PushDoc")},
        "responses": {"200": _linked(_json("PushResponse"), PullAfter=(PULL, {}), ConflictsOfRecord=(
            CONFLICTS, {"record_id": "$response.body#/results/0/id"})), **_errors(400, 401, 413)}}},
    "/sync/import": {"post": {
        "summary": "Import a phone's 'export unsynced data' file: its photos, then its mutations as a push",
        "requestBody": {"required": True, **_json("ImportArgs")},
        "responses": {"200": _json("ImportResponse"), **_errors(400, 401, 403, 413)}}},
    "/rectifications": {"get": {
        "summary": "The open rectifications the caller may see (rectifying or awaiting acceptance), soonest "
                   "deadline first: the phone's read-only side feed for department heads",
        "responses": {"200": _json("RectificationFeed"), **_errors(401)}}},
    "/conflicts": {"get": {
        "summary": "Conflicts in the caller's scope, newest first",
        "parameters": [_query("status", {"type": "string", "enum": ["open", "resolved", "all"]}),
                       _query("entity", {"type": "string", "enum": sorted(DATA_SCHEMAS)}),
                       _query("record_id", {"type": "string", "format": "uuid"}),
                       _query("limit", {"type": "integer", "minimum": 1, "maximum": 500})],
        "responses": {"200": _linked(_json("ConflictListResponse"), Resolve=(
            RESOLVE, {"conflict_id": "$response.body#/conflicts/0/id"})), **_errors(400, 401)}}},
    "/conflicts/{conflict_id}/resolve": {"post": {
        "summary": "Settle a conflict: keep the server's value, take the device's, or give a new one",
        "parameters": [{"in": "path", "name": "conflict_id", "required": True, "schema": {"type": "integer"}}],
        "requestBody": {"required": True, **_json("ResolveArgs")},
        "responses": {"200": _linked(_json("ConflictResponse"), ConflictsOfRecord=(
            CONFLICTS, {"record_id": "$response.body#/conflict/record_id"})), **_errors(400, 401, 403, 404, 409)}}},
}


def build_spec() -> dict:
    spec = APISpec(title="运营督导系统 API", version=PROTOCOL_VERSION, openapi_version="3.0.3",
                   plugins=[MarshmallowPlugin()], servers=[{"url": "/api/v1"}],
                   info={"description": "Sync protocol v1: see docs/sync-protocol.md in the repository."})
    for name, schema in (("ErrorResponse", ErrorResponse), ("HealthResponse", HealthResponse),
                         ("TokenArgs", TokenArgs), ("TokenResponse", TokenResponse), ("MeResponse", MeResponse),
                         ("PullResponse", PullResponse), ("Mutation", MutationDoc), ("PushDoc", PushDoc), ("PushResponse", PushResponse),
                         ("ConflictListResponse", ConflictListResponse), ("ConflictResponse", ConflictResponse),
                         ("ResolveArgs", ResolveArgs), ("ImportArgs", ImportArgs), ("ImportResponse", ImportResponse),
                         ("RectificationFeed", RectificationFeed), ("RecordResponse", RecordResponse),
                         ("OlderResponse", OlderResponse)):
        spec.components.schema(name, schema=schema)
    spec.components.response("Error", {"description": "An error, as JSON", **_json("ErrorResponse")})
    spec.components.security_scheme("bearer", {
        "type": "http", "scheme": "bearer",
        "description": "A token from POST /auth/token. It expires (see `expires_at`): refresh it with "
                       "POST /auth/token/refresh before then. 401 error codes: `token_expired` (sign in "
                       "again), `invalid_token` (revoked, e.g. after sign-out everywhere or a password "
                       "change), `unauthorized` (no credentials). A request with a bearer header is "
                       "authenticated by the token alone, never by a session cookie."})
    for path, operations in PATHS.items():
        spec.path(path=path, operations=operations)
    doc = spec.to_dict()
    doc["security"] = [{"bearer": []}]
    return doc


@bp.get("/openapi.json")
def openapi():
    return jsonify(build_spec())
