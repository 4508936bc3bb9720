from flask_babel import lazy_gettext as _l
from marshmallow import EXCLUDE, Schema, fields, validate


class ImportPhotoArgs(Schema):
    class Meta:
        unknown = EXCLUDE

    sha256 = fields.String(required=True, validate=validate.Length(equal=64))
    content_type = fields.String(load_default="image/jpeg")
    data_base64 = fields.String(required=True)


class ImportArgs(Schema):
    """The file the phone app's "Export unsynced data" button downloads."""

    class Meta:
        unknown = EXCLUDE

    format = fields.String(required=True, validate=validate.Equal(
        "supervision-unsynced-v1", error=_l("This is not an export file of the site-visit app.")))
    device_id = fields.UUID(required=True)
    user_id = fields.String(load_default=None, allow_none=True)
    # As in a push: each item is validated on its own and an invalid one is answered `rejected`.
    mutations = fields.List(fields.Raw(allow_none=True), required=True, validate=validate.Length(max=5000))
    photos = fields.List(fields.Nested(ImportPhotoArgs), load_default=list, validate=validate.Length(max=2000))
