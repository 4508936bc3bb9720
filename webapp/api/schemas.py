from marshmallow import Schema, fields, validate


class TokenArgs(Schema):
    username = fields.String(required=True, validate=validate.Length(min=1, max=80))
    password = fields.String(required=True, validate=validate.Length(min=1, max=200))
    device_name = fields.String(load_default=None, allow_none=True,
                                validate=[validate.Length(max=120), validate.Regexp(r"^[^\x00]*$")])


class UserSchema(Schema):
    id = fields.String()
    username = fields.String()
    role = fields.String()
    display_name = fields.String()
    department_id = fields.String(allow_none=True)
