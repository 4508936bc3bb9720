"""The phone app's strings for the review step (merged into webapp/mobile/strings.py STRINGS): what a
supervisor reads on a finding that management reviewed (docs/review.md#on-the-phone)."""

from flask_babel import lazy_gettext as _l

PHONE_STRINGS = {
    "review_rejected": _l("Rejected in review: not a problem"),
    "review_reason": _l("Reason: %(reason)s"),
    "review_merged": _l("Merged in review into another finding that describes the same problem; record on that one."),
    "review_open_merged": _l("Open the finding it was merged into"),
    "review_pending": _l("Awaiting management's review"),
}
