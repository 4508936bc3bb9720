"""Input of the decision dashboard. The period code is checked here (its shape); whether the
department or site exists is checked by the view, which has the database."""

from flask_babel import lazy_gettext as _l
from marshmallow import EXCLUDE, Schema, ValidationError, fields, validate, validates

from webapp.results.periods import parse_period


class DashboardArgs(Schema):
    class Meta:
        unknown = EXCLUDE

    period = fields.String(load_default=None, validate=validate.Length(max=10))
    department_id = fields.String(load_default=None, validate=validate.Length(max=36))
    site_id = fields.String(load_default=None, validate=validate.Length(max=36))

    @validates("period")
    def _period(self, value, **_kw):
        if value is None:
            return
        try:
            parse_period(value)
        except ValueError:
            raise ValidationError(str(_l("Choose a period such as 2026-Q4, 2026-11 or 2026."))) from None
