"""The phone app's strings for rich checklist items (merged into webapp/mobile/strings.py STRINGS)."""

from flask_babel import lazy_gettext as _l

PHONE_STRINGS = {
    "criteria": _l("Criteria"),
    "how_to_check": _l("How to check"),
    "reference_photos": _l("What good looks like"),
    "reference_photo_n": _l("Reference photo %(n)s"),
    "scale_hint": _l("Score from %(low)s to %(high)s"),
    "range_hint": _l("Passes at %(range)s"),
    "range_both": _l("%(low)s–%(high)s %(unit)s"),
    "range_low": _l("at least %(low)s %(unit)s"),
    "range_high": _l("at most %(high)s %(unit)s"),
    "measured_value": _l("Measured value"),
    "answer_result": _l("Counts as: %(result)s"),
}
