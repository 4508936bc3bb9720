"""Input of the notification preferences page (/account/notifications)."""

from flask_babel import lazy_gettext as _l
from marshmallow import EXCLUDE, Schema, ValidationError, fields, validate, validates_schema

from webapp.notifications.operations import KINDS
from webapp.notifications.preferences import HHMM

_TIME = validate.Regexp(HHMM, error=_l("Enter a time as HH:MM, for example 22:00."))


class PreferencesArgs(Schema):
    """`email` / `workapp`: the kinds wanted by that channel (checked boxes); the rest are off."""

    class Meta:
        unknown = EXCLUDE

    email = fields.List(fields.String(validate=validate.OneOf(tuple(KINDS))), load_default=list,
                        validate=validate.Length(max=len(KINDS)))
    workapp = fields.List(fields.String(validate=validate.OneOf(tuple(KINDS))), load_default=list,
                          validate=validate.Length(max=len(KINDS)))
    quiet_start = fields.String(load_default=None, validate=_TIME)
    quiet_end = fields.String(load_default=None, validate=_TIME)
    email_digest = fields.Boolean(load_default=False)

    @validates_schema
    def _both_or_neither(self, data, **_kw):
        if bool(data.get("quiet_start")) != bool(data.get("quiet_end")):
            raise ValidationError(str(_l("Give both the start and the end of the quiet hours, or neither.")),
                                  "quiet_end")
