"""marshmallow schemas of the sync protocol: the push/pull envelopes, the `data` of every pushable
entity, conflicts and their resolution. Error messages are in the user's language.

Schemas validate and shape; they never query the database (existence and permission checks live
in policy.py).
"""

import uuid
from datetime import UTC, date

from flask_babel import lazy_gettext as _l
from marshmallow import EXCLUDE, RAISE, Schema, ValidationError, fields, validate

from webapp.checklists.models import AREAS
from webapp.core.text import codepoint, first_forbidden
from webapp.evidence.markup import MarkupInvalid, validate_markup, validate_signature
from webapp.evidence.models import CHECKIN_KINDS
from webapp.findings.models import FINDING_STATUSES, SEVERITIES
from webapp.visits.models import METRIC_KINDS, RESULTS, VISIT_STATUSES


# marshmallow's own messages, translated (keys are marshmallow's error keys per field type).
def _messages():
    return {
        "required": _l("This field is required."),
        "null": _l("This field may not be empty."),
        "unknown": _l("Unknown field."),
        "invalid_string": _l("Not a valid text."),
        "invalid_number": _l("Not a valid number."),
        "invalid_integer": _l("Not a valid whole number."),
        "invalid_bool": _l("Not a valid true/false value."),
        "invalid_datetime": _l("Not a valid date and time with a time zone (ISO 8601)."),
        "invalid_date": _l("Not a valid date (YYYY-MM-DD)."),
        "invalid_uuid": _l("Not a valid UUID."),
        "invalid_list": _l("Not a valid list."),
        "invalid_dict": _l("Not a valid object."),
        "too_large": _l("Number too large."),
        "special": _l("Special numeric values (nan or infinity) are not permitted."),
        "naive": _l("Give the time with its time zone."),
    }


def _invalid_key(f: fields.Field) -> str:
    for cls, key in ((fields.UUID, "invalid_uuid"), (fields.AwareDateTime, "invalid_datetime"),
                     (fields.DateTime, "invalid_datetime"), (fields.Date, "invalid_date"),
                     (fields.Integer, "invalid_integer"), (fields.Number, "invalid_number"),
                     (fields.Boolean, "invalid_bool"), (fields.String, "invalid_string"),
                     (fields.List, "invalid_list"), (fields.Dict, "invalid_dict")):
        if isinstance(f, cls):
            return key
    return "invalid_string"


def _translate_field(f: fields.Field, msgs: dict) -> None:
    f.error_messages = {**f.error_messages, "required": msgs["required"], "null": msgs["null"],
                        "invalid": msgs[_invalid_key(f)]}
    if "too_large" in f.error_messages:
        f.error_messages["too_large"] = msgs["too_large"]
    if "special" in f.error_messages:
        f.error_messages["special"] = msgs["special"]
    if "naive" in f.error_messages:
        f.error_messages["naive"] = msgs["naive"]
    inner = getattr(f, "inner", None)
    if isinstance(inner, fields.Field):
        _translate_field(inner, msgs)
    nested = getattr(f, "nested", None)
    if isinstance(nested, Schema):
        for sub in nested.fields.values():
            _translate_field(sub, msgs)


class TranslatedSchema(Schema):
    """A schema whose error messages follow the request's language (build it per request)."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        msgs = _messages()
        self.error_messages = {**self.error_messages, "unknown": msgs["unknown"],
                               "type": _l("The body must be a JSON object.")}
        for f in self.fields.values():
            _translate_field(f, msgs)


def one_of(choices):
    return validate.OneOf(choices, error=_l("Must be one of: {choices}."))


def length(maximum):
    return validate.Length(max=maximum, error=_l("At most {max} characters."))


class Text(fields.String):
    """User text under the one rule of webapp/core/text.py: a control character, a NUL or a lone
    surrogate is refused with a message naming it (never silently changed: the phone keeps the text
    it shows, and the user can fix it)."""

    def _deserialize(self, value, attr, data, **kwargs):
        value = super()._deserialize(value, attr, data, **kwargs)
        char = first_forbidden(value)
        if char is not None:
            raise ValidationError(_l("This text holds an invisible control character (%(char)s) that cannot be "
                                     "saved. Remove it and try again.", char=codepoint(char)))
        return value


# Dates a visit can have: anything further out is a phone with a wrong clock or an attack, and
# overflows the date arithmetic (deadlines, time zones) far from where it came in.
EARLIEST, LATEST = date(1900, 1, 1), date(2999, 12, 31)


def _check_range(day: date) -> None:
    if not EARLIEST <= day <= LATEST:
        raise ValidationError(_l("Give a date between %(earliest)s and %(latest)s.", earliest=EARLIEST.isoformat(),
                                 latest=LATEST.isoformat()))


class Day(fields.Date):
    def _deserialize(self, value, attr, data, **kwargs):
        value = super()._deserialize(value, attr, data, **kwargs)
        _check_range(value)
        return value


class When(fields.AwareDateTime):
    def _deserialize(self, value, attr, data, **kwargs):
        value = super()._deserialize(value, attr, data, **kwargs)
        try:
            _check_range(value.astimezone(UTC).date())
        except OverflowError:  # 0001-01-01T00:00+14:00 is before the first UTC day
            _check_range(date.min)
        return value


def text(maximum=None, **kw):
    return Text(allow_none=True, validate=length(maximum) if maximum else None, **kw)


class UUIDString(fields.UUID):
    """A UUID, kept as its canonical lower-case string (the form stored as primary key)."""

    def _deserialize(self, value, attr, data, **kwargs):
        return str(super()._deserialize(value, attr, data, **kwargs))


def ref(**kw):
    return UUIDString(allow_none=kw.pop("allow_none", True), **kw)


def when():
    return When(format="iso", allow_none=True)


def number(**kw):
    return fields.Float(allow_none=True, allow_nan=False, **kw)


SHA256 = validate.Regexp(r"^[0-9a-f]{64}$", error=_l("Not a SHA-256 photo hash (64 lower-case hex digits)."))


def photo_set():
    return fields.List(fields.String(validate=SHA256), validate=validate.Length(max=200))


def text_set(maximum=200):
    return fields.List(Text(validate=length(maximum)), validate=validate.Length(max=200))


class Checked(fields.Raw):
    """A JSON value checked by one of webapp/evidence/markup.py's validators (markup, signature)."""

    def __init__(self, check, **kw):
        super().__init__(allow_none=True, **kw)
        self.check = check

    def _deserialize(self, value, attr, data, **kwargs):
        try:
            return self.check(value)
        except MarkupInvalid as e:
            raise ValidationError(e.message) from None


class EntityData(TranslatedSchema):
    class Meta:
        unknown = RAISE

    # Fields the server owns; a client echoing them back is not an error, they are ignored.
    SERVER_OWNED: tuple[str, ...] = ("has_conflict",)
    REQUIRED_ON_CREATE: tuple[str, ...] = ()


class VisitData(EntityData):
    SERVER_OWNED = ("has_conflict", "department_id")
    REQUIRED_ON_CREATE = ("site_id", "template_id")
    site_id = ref(allow_none=False)
    template_id = ref(allow_none=False)
    plan_id = ref()
    supervisor_id = ref(allow_none=False)
    status = fields.String(validate=one_of(VISIT_STATUSES))
    scheduled_for = Day(allow_none=True)
    due_by = Day(allow_none=True)
    started_at = when()
    completed_at = when()
    preparation_notes = text(20000)
    preparation_done = text_set()
    summary = text(20000)
    opening_signature = Checked(validate_signature)
    closing_signature = Checked(validate_signature)
    completion_reason = text(2000)  # REASON_MAX of webapp/visits/completion.py


class MeetingData(EntityData):
    REQUIRED_ON_CREATE = ("visit_id",)
    visit_id = ref(allow_none=False)
    held_at = when()
    attendees = text_set(120)
    notes = text(20000)
    department_report = text(20000)


class ChecklistAnswerData(EntityData):
    REQUIRED_ON_CREATE = ("visit_id", "item_id")
    visit_id = ref(allow_none=False)
    item_id = ref(allow_none=False)
    result = fields.String(allow_none=True, validate=one_of(RESULTS))
    score = number(validate=validate.Range(min=0, max=1000, error=_l("Must be between {min} and {max}.")))
    # Rich checklists (added in v1; a phone that sends only result/score keeps working): a scale
    # item's score is `score`, a choice item's option key `choice`, a number item's measured `value`.
    choice = fields.String(allow_none=True, validate=validate.Regexp(r"^o\d{1,2}$", error=_l("Not a valid choice.")))
    value = number(validate=validate.Range(min=-1e9, max=1e9, error=_l("Must be between {min} and {max}.")))
    note = text(20000)
    photos = photo_set()


class MetricData(EntityData):
    REQUIRED_ON_CREATE = ("visit_id", "kind", "name")
    visit_id = ref(allow_none=False)
    kind = fields.String(validate=one_of(METRIC_KINDS))
    name = Text(validate=[length(120), validate.Length(min=1, error=_l("This field may not be empty."))])
    value = number()
    unit = text(20)
    note = text(20000)


class InterviewData(EntityData):
    REQUIRED_ON_CREATE = ("visit_id", "interviewee")
    visit_id = ref(allow_none=False)
    interviewee = Text(validate=[length(80), validate.Length(min=1, error=_l("This field may not be empty."))])
    position = text(80)
    notes = text(20000)
    suggestions = text(20000)
    interviewed_at = when()


class FindingData(EntityData):
    # The review (webapp/findings/review.py) is management's: a device's copy is ignored.
    SERVER_OWNED = ("has_conflict", "site_id", "supervisor_id", "review_status", "review_reason", "merged_into_id")
    REQUIRED_ON_CREATE = ("visit_id", "title")
    visit_id = ref(allow_none=False)
    title = Text(validate=[length(200), validate.Length(min=1, error=_l("This field may not be empty."))])
    description = text(20000)
    impact = text(20000)
    area = fields.String(allow_none=True, validate=one_of(AREAS))
    item_id = ref()
    severity = fields.String(validate=one_of(SEVERITIES))
    department_id = ref()
    responsible_person = text(80)
    photos = photo_set()
    markup = Checked(validate_markup)
    status = fields.String(validate=one_of(FINDING_STATUSES))
    captured_at = When(format="iso")
    lat = number(validate=validate.Range(min=-90, max=90, error=_l("Must be between {min} and {max}.")))
    lng = number(validate=validate.Range(min=-180, max=180, error=_l("Must be between {min} and {max}.")))


class RectificationUpdateData(EntityData):
    SERVER_OWNED = ("has_conflict", "author_id")
    REQUIRED_ON_CREATE = ("finding_id",)
    finding_id = ref(allow_none=False)
    note = text(20000)
    progress = fields.Integer(strict=True, validate=validate.Range(min=0, max=100, error=_l(
        "Must be between {min} and {max}.")))
    photos = photo_set()
    # With this report, submit the rectification for acceptance (set on create only; policy.py).
    submit = fields.Boolean(allow_none=False)


class VisitCheckinData(EntityData):
    """签到/签退. `distance_m` and `in_fence` are the server's: a pushed value other than the one the
    server computes is refused (policy.py), so they are declared here rather than dropped."""
    REQUIRED_ON_CREATE = ("visit_id", "kind", "device_time")
    visit_id = ref(allow_none=False)
    kind = fields.String(validate=one_of(CHECKIN_KINDS))
    lat = number(validate=validate.Range(min=-90, max=90, error=_l("Must be between {min} and {max}.")))
    lng = number(validate=validate.Range(min=-180, max=180, error=_l("Must be between {min} and {max}.")))
    accuracy_m = number(validate=validate.Range(min=0, max=1_000_000, error=_l("Must be between {min} and {max}.")))
    device_time = when()
    reason = text(500)
    distance_m = number()
    in_fence = fields.Boolean(allow_none=True)


DATA_SCHEMAS: dict[str, type[EntityData]] = {
    "visit": VisitData,
    "meeting": MeetingData,
    "checklist_answer": ChecklistAnswerData,
    "metric": MetricData,
    "interview": InterviewData,
    "finding": FindingData,
    "rectification_update": RectificationUpdateData,
    "visit_checkin": VisitCheckinData,
}


# ---- envelopes ---------------------------------------------------------------------------------

MAX_MUTATIONS = 1000


class MutationArgs(TranslatedSchema):
    class Meta:
        unknown = EXCLUDE  # later protocol versions may add keys

    mutation_id = UUIDString(required=True)
    entity = fields.String(required=True, validate=one_of(tuple(DATA_SCHEMAS)))
    id = UUIDString(required=True)
    op = fields.String(load_default="upsert", validate=one_of(("upsert", "delete")))
    base_version = fields.Integer(required=True, strict=True, validate=validate.Range(
        min=0, max=2**31 - 1, error=_l("Must be between {min} and {max}.")))
    data = fields.Dict(keys=fields.String(), load_default=dict)
    client_time = When(format="iso", allow_none=True, load_default=None)


class PushArgs(TranslatedSchema):
    class Meta:
        unknown = EXCLUDE

    device_id = UUIDString(required=True)
    # The device's clock when it sent the push (ISO 8601 with a zone; the X-Device-Time header says
    # the same). Not validated strictly: a wrong clock is evidence, an unreadable one is ignored.
    device_time = fields.Raw(load_default=None, allow_none=True)
    # Each mutation is validated on its own: one bad mutation never blocks the others.
    mutations = fields.List(fields.Raw(allow_none=True), required=True, validate=validate.Length(
        max=MAX_MUTATIONS, error=_l("At most {max} mutations per push.")))


class PullArgs(TranslatedSchema):
    class Meta:
        unknown = EXCLUDE

    cursor = fields.Integer(load_default=None, allow_none=True, validate=validate.Range(
        min=0, max=2**63 - 1, error=_l("Must be between {min} and {max}.")))
    limit = fields.Integer(load_default=200, validate=validate.Range(
        min=1, max=100000, error=_l("Must be between {min} and {max}.")))
    # The compact column encoding (docs/sync-protocol.md); without it, JSON changes.
    encoding = fields.String(load_default="json", validate=one_of(("json", "columns")))
    # A phone's pull: its phone scope (reference data, open work, the recent period); without it,
    # the user's whole scope (API clients).
    scope = fields.String(load_default="all", validate=one_of(("all", "phone")))
    horizon = fields.Integer(load_default=None, allow_none=True, validate=validate.Range(
        min=0, max=2**63 - 1, error=_l("Must be between {min} and {max}.")))


# Records a phone fetches on demand (GET /api/v1/sync/records): every pulled kind but reference data,
# which a phone always has.
FETCHED_ENTITIES = ("visit", "meeting", "checklist_answer", "metric", "interview", "finding",
                    "rectification_update", "visit_checkin")


class RecordArgs(TranslatedSchema):
    class Meta:
        unknown = EXCLUDE

    entity = fields.String(required=True, validate=one_of(FETCHED_ENTITIES))
    id = UUIDString(required=True)


class OlderArgs(TranslatedSchema):
    class Meta:
        unknown = EXCLUDE

    site_id = UUIDString(load_default=None)
    before = fields.Date(load_default=None)
    before_id = UUIDString(load_default=None)
    limit = fields.Integer(load_default=20, validate=validate.Range(
        min=1, max=50, error=_l("Must be between {min} and {max}.")))


class ResolveArgs(TranslatedSchema):
    class Meta:
        unknown = RAISE

    choice = fields.String(required=True, validate=one_of(("server", "client", "value")))
    value = fields.Raw(allow_none=True, load_default=None)


class ConflictListArgs(TranslatedSchema):
    class Meta:
        unknown = EXCLUDE

    status = fields.String(load_default="open", validate=one_of(("open", "resolved", "all")))
    entity = fields.String(load_default=None, validate=one_of(tuple(DATA_SCHEMAS)))
    record_id = UUIDString(load_default=None)
    limit = fields.Integer(load_default=100, validate=validate.Range(min=1, max=500, error=_l(
        "Must be between {min} and {max}.")))


# ---- responses (documented in the OpenAPI document) --------------------------------------------

class ChangeSchema(Schema):
    entity = fields.String(required=True)
    id = fields.String(required=True)
    version = fields.Integer(required=True)
    deleted = fields.Boolean(required=True)
    has_conflict = fields.Boolean(required=True)
    data = fields.Dict(required=True)


class PullResponse(Schema):
    changes = fields.List(fields.Nested(ChangeSchema), metadata={"description": "encoding=json (the default)"})
    cursor = fields.Integer(required=True)
    more = fields.Boolean(required=True)
    encoding = fields.String(metadata={"description": "\"columns\" when asked for"})
    entities = fields.Dict(keys=fields.String(), values=fields.Dict(), metadata={
        "description": "encoding=columns: per entity {fields: [data field names], rows: [[id, version, deleted, "
                       "has_conflict, ...values in fields order, (an object of pull-only extras)]]}"})
    removed = fields.List(fields.Dict(), metadata={"description": "encoding=columns: the deletion markers"})
    horizon = fields.Integer(metadata={"description": "scope=phone, while the window applies: send it back"})
    since = fields.String(metadata={"description": "scope=phone: the first day of the recent period"})


class RecordResponse(Schema):
    change = fields.Nested(ChangeSchema, required=True)


class OlderResponse(Schema):
    changes = fields.List(fields.Nested(ChangeSchema), required=True)
    more = fields.Boolean(required=True)
    next = fields.Dict(allow_none=True, metadata={"description": "{before, before_id}: the next page's parameters"})


class FieldConflictSchema(Schema):
    id = fields.Integer()
    field = fields.String(required=True)
    server = fields.Raw(allow_none=True)
    client = fields.Raw(allow_none=True)
    base = fields.Raw(allow_none=True)


class MutationResultSchema(Schema):
    mutation_id = fields.Raw(required=True)
    id = fields.Raw(allow_none=True)
    status = fields.String(required=True, validate=validate.OneOf(
        ("applied", "merged", "conflict", "duplicate", "rejected", "blocked")))
    first_status = fields.String()
    version = fields.Integer(allow_none=True)
    conflicts = fields.List(fields.Nested(FieldConflictSchema))
    errors = fields.Dict()
    missing_photos = fields.List(fields.String())


class PushResponse(Schema):
    results = fields.List(fields.Nested(MutationResultSchema), required=True)


class MutationDoc(MutationArgs):
    """The documented shape of one mutation (the server validates each on its own)."""


class PushDoc(Schema):
    class Meta:
        unknown = EXCLUDE  # later protocol versions may add keys

    device_id = fields.UUID(required=True)
    # Each item should be a Mutation (components/schemas/Mutation); each is validated on its own and an
    # invalid one is answered `rejected` with field errors, never failing the whole push.
    mutations = fields.List(fields.Raw(allow_none=True), required=True, validate=validate.Length(max=MAX_MUTATIONS), metadata={
        "description": "Mutations, each as components/schemas/Mutation; an invalid one is answered "
                       "`rejected` on its own"})


class ConflictSchema(Schema):
    id = fields.Integer()
    entity = fields.String()
    record_id = fields.String()
    field = fields.String()
    base = fields.Raw(allow_none=True)
    server = fields.Raw(allow_none=True)
    client = fields.Raw(allow_none=True)
    status = fields.String()
    mutation_id = fields.String(allow_none=True)
    user_id = fields.String(allow_none=True)
    device_id = fields.String(allow_none=True)
    client_time = fields.DateTime(allow_none=True)
    created_at = fields.DateTime()
    resolved_by = fields.String(allow_none=True)
    resolved_at = fields.DateTime(allow_none=True)
    resolution = fields.Raw(allow_none=True)


class ConflictListResponse(Schema):
    conflicts = fields.List(fields.Nested(ConflictSchema), required=True)


class ConflictResponse(Schema):
    conflict = fields.Nested(ConflictSchema, required=True)
    record = fields.Nested(ChangeSchema, required=True)


_PARTIAL: dict = {}


def validate_data(entity: str, data: dict, *, creating: bool) -> dict:
    """Typed values of a mutation's `data`; raises ValidationError with field messages."""
    schema_cls = DATA_SCHEMAS[entity]
    data = {k: v for k, v in data.items() if k not in schema_cls.SERVER_OWNED}
    errors: dict = {}
    schema = _PARTIAL.get(schema_cls)
    if schema is None:  # messages are lazy, so one instance serves every request and language
        schema = _PARTIAL[schema_cls] = schema_cls(partial=True)
    try:
        values = schema.load(data)
    except ValidationError as e:
        errors, values = dict(e.messages), {}
    if creating:
        for name in schema_cls.REQUIRED_ON_CREATE:
            if data.get(name) is None and name not in errors:
                errors[name] = [str(_l("This field is required."))]
    if errors:
        raise ValidationError(errors)
    return values


def is_uuid(value) -> bool:
    try:
        uuid.UUID(str(value))
    except ValueError:
        return False
    return True
