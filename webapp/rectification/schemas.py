import json

from flask_babel import lazy_gettext as _l
from marshmallow import EXCLUDE, Schema, ValidationError, fields, post_load, validate

from webapp.core.formdata import filter_args
from webapp.core.models import utcnow
from webapp.evidence.markup import MarkupInvalid, validate_signature


class _Args(Schema):
    class Meta:
        unknown = EXCLUDE


class PlanArgs(_Args):
    measures = fields.String(required=True, validate=validate.Length(min=1, max=4000))
    owner = fields.String(required=True, validate=validate.Length(min=1, max=80))
    deadline = fields.Date(required=True)


class ProgressArgs(_Args):
    note = fields.String(load_default=None, validate=validate.Length(max=4000))
    progress = fields.Integer(required=True, validate=validate.Range(min=0, max=100))


class DecisionArgs(_Args):
    result = fields.String(required=True, validate=validate.OneOf(("pass", "fail")))
    reason = fields.String(load_default=None, validate=validate.Length(max=4000))
    new_deadline = fields.Date(load_default=None)
    # The site's person signs the acceptance (optional): name + strokes from the signature pad
    # (static/js/acceptance-signature.js), checked by webapp/evidence/markup.py.
    signer = fields.String(load_default=None, validate=validate.Length(max=80))
    signature = fields.String(load_default=None, validate=validate.Length(max=200_000))

    @post_load
    def _signature(self, data, **kwargs):
        strokes, signer = data.pop("signature", None), data.pop("signer", None)
        if not strokes:
            if (signer or "").strip():
                raise ValidationError(str(_l("Sign in the box first.")), "signature")
            return data
        try:
            parsed = json.loads(strokes)
        except ValueError:
            raise ValidationError(str(_l("The signature could not be read. Clear it and sign again.")), "signature") from None
        try:
            data["signature"] = validate_signature({"signer": signer or "", "signed_at": utcnow().isoformat(),
                                                    "strokes": parsed})
        except MarkupInvalid as e:
            raise ValidationError(str(e.message), "signature") from None
        return data


class CoordinationArgs(_Args):
    note = fields.String(required=True, validate=validate.Length(min=1, max=4000))
    department_id = fields.String(load_default=None)


class IndexArgs(_Args):
    status = fields.String(load_default=None, validate=validate.OneOf(
        ("to_plan", "rectifying", "pending_acceptance", "accepted")))
    overdue = fields.Boolean(load_default=False)
    cursor = fields.String(load_default=None, validate=validate.Length(max=80))  # "Load more": after this row


def index_args(multidict) -> dict:
    return filter_args(IndexArgs(), multidict)


def form_data(form) -> dict:
    """Blank form fields count as missing, so optional dates and numbers validate."""
    return {k: v for k, v in form.items() if v != ""}


MESSAGES = {"required": _l("This field is required.")}


# ---- the phone's read-only feed (GET /api/v1/rectifications; webapp/api/rectifications.py) ----------

class FeedItem(Schema):
    id = fields.String(required=True)
    finding_id = fields.String(required=True)
    status = fields.String(required=True, validate=validate.OneOf(("rectifying", "pending_acceptance")))
    round = fields.Integer(required=True)
    deadline = fields.Date(required=True)
    overdue = fields.Boolean(required=True)
    measures = fields.String(required=True)
    owner = fields.String(required=True)
    last_reason = fields.String(required=True, allow_none=True)
    may_manage = fields.Boolean(required=True)


class FeedResponse(Schema):
    rectifications = fields.List(fields.Nested(FeedItem), required=True)
    today = fields.Date(required=True)
