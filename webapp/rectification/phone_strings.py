"""The phone app's strings for a department head's rectifications (merged into
webapp/mobile/strings.py STRINGS; the screens are static/js/app/views/rectification.js)."""

from flask_babel import lazy_gettext as _l

PHONE_STRINGS = {
    "my_rectifications": _l("My rectifications"),
    "no_rectifications": _l("No open rectifications for your department on this phone. Sync to fetch them."),
    "rect_due": _l("Due: %(date)s"),
    "rect_overdue": _l("Overdue"),
    "rect_round": _l("Round %(n)d"),
    "rect_rectifying": _l("Rectifying"),
    "rect_awaiting": _l("Awaiting acceptance"),
    "rect_failed": _l("Acceptance failed"),
    "rect_failed_reason": _l("Why the last round failed: %(reason)s"),
    "rect_submitted_here": _l("Submitted for acceptance on this phone; it is sent with the next sync."),
    "rect_awaiting_hint": _l("The supervisor decides the acceptance. Nothing more to do for now."),
    "rect_not_yours": _l("Only the head of the responsible department reports progress on this rectification."),
    "rect_as_of": _l("Deadline and status as of the last sync: %(time)s"),
    "rect_never": _l("Sync once online to fetch the deadlines and status."),
    "rect_group_due": _l("To rectify"),
    "rect_group_awaiting": _l("Awaiting acceptance"),
    "measures": _l("Measures"),
    "owner": _l("Owner"),
    "deadline": _l("Deadline"),
    "site": _l("Site"),
    "before_photos": _l("Finding photos (before)"),
    "no_before_photos": _l("The finding has no photos."),
    "progress_so_far": _l("Progress so far"),
    "no_progress": _l("No progress reported yet."),
    "new_progress": _l("Report progress"),
    "progress_pct": _l("Progress (percent)"),
    "progress_range": _l("Enter the progress as a whole number from 0 to 100."),
    "progress_empty": _l("Add a note or a photo of the progress."),
    "record_progress": _l("Record progress"),
    "submit_acceptance": _l("Submit for acceptance"),
    "confirm_submit": _l("Submit this rectification for acceptance? The supervisor is asked to accept it, "
                         "and no more progress can be reported until they decide."),
    "progress_saved": _l("Progress saved on this phone; it is sent with the next sync."),
}
