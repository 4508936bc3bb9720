from marshmallow import Schema, fields, validate

from webapp.sso.operations import UNKNOWN_USER_POLICIES


class SignInSettingsArgs(Schema):
    """The administrator's sign-in settings form: what happens to a person nobody here knows."""

    unknown_users = fields.String(required=True, validate=validate.OneOf(UNKNOWN_USER_POLICIES))
