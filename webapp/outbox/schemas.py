"""Input of the channels page (/admin/channels)."""

from flask_babel import lazy_gettext as _l
from marshmallow import EXCLUDE, Schema, ValidationError, fields, validate, validates, validates_schema

from webapp.outbox.models import STATUSES
from webapp.outbox.webhooks import EVENTS, UnsafeTarget, check_url


class _Args(Schema):
    class Meta:
        unknown = EXCLUDE


class MessageFilterArgs(_Args):
    status = fields.String(load_default=None, validate=validate.OneOf(STATUSES))
    channel = fields.String(load_default=None, validate=validate.Length(max=20))
    event = fields.String(load_default=None, validate=validate.Length(max=60))
    endpoint = fields.String(load_default=None, validate=validate.Length(max=36))
    page = fields.Integer(load_default=1, validate=validate.Range(min=1, max=10000))


class EndpointArgs(_Args):
    name = fields.String(required=True, validate=validate.Length(min=1, max=100))
    url = fields.String(required=True, validate=validate.Length(min=1, max=500))
    events = fields.List(fields.String(validate=validate.OneOf(EVENTS)), required=True,
                         validate=validate.Length(min=1, max=len(EVENTS), error=_l("Choose at least one event.")))
    active = fields.Boolean(load_default=False)

    @validates("name")
    def _name(self, value, **_kw):
        if value[:1] in ("=", "+", "-", "@") or any(c in value for c in "\r\n\t"):
            raise ValidationError(str(_l("A name cannot start with =, +, - or @, nor hold line breaks.")))

    @validates("url")
    def _url(self, value, **_kw):
        if any(c.isspace() for c in value):
            raise ValidationError(str(_l("A URL has no spaces or line breaks.")))
        try:
            check_url(value)
        except UnsafeTarget as e:
            raise ValidationError(str(_l("Enter an http:// or https:// URL with a host name, without a user "
                                         "name or password."))) from e


class RobotArgs(_Args):
    """A work-app group robot: its kind must match the work app's webhook address."""

    kind = fields.String(required=True, validate=validate.OneOf(("wecom", "dingtalk", "feishu")))
    name = fields.String(required=True, validate=validate.Length(min=1, max=100))
    url = fields.String(required=True, validate=validate.Length(min=1, max=500))
    secret = fields.String(load_default="", validate=validate.Length(max=200))
    events = fields.List(fields.String(validate=validate.OneOf(EVENTS)), required=True,
                         validate=validate.Length(min=1, max=len(EVENTS), error=_l("Choose at least one event.")))

    _url = EndpointArgs._url

    @validates("name")
    def _robot_name(self, value, **_kw):
        if value[:1] in ("=", "+", "-", "@") or any(not c.isprintable() for c in value):
            raise ValidationError(str(_l("A name cannot start with =, +, - or @, nor hold control characters.")))

    @validates("secret")
    def _secret(self, value, **_kw):
        if any(not (c.isascii() and c.isprintable()) or c.isspace() for c in value):
            raise ValidationError(str(_l("A signing secret is printable characters without spaces.")))

    @validates_schema
    def _kind_matches(self, data, **_kw):
        from webapp.outbox.workapps import url_matches_kind

        if "kind" in data and "url" in data and not url_matches_kind(data["kind"], data["url"]):
            raise ValidationError(str(_l("This is not the webhook address of that kind of robot.")), "url")
