"""The phone app's strings for the visit list, the checklist and completing a visit (merged into
webapp/mobile/strings.py STRINGS; docs/phone.md "A faster visit")."""

from flask_babel import lazy_gettext as _l

PHONE_STRINGS = {
    "grp_today": _l("Today and in progress"),
    "grp_overdue": _l("Overdue"),
    "grp_upcoming": _l("Upcoming"),
    "grp_done": _l("Recently done"),
    "search_visits": _l("Search by site or plan"),
    "show_more": _l("Show %(n)s more"),
    "no_match": _l("No visit matches “%(q)s”."),
    "first_sync": _l("Fetching your visits: the first sync is running…"),
    "first_sync_offline": _l("No visits on this phone yet. Connect to the network to fetch them."),
    "unanswered_n": _l("%(n)s of %(total)s checklist items are unanswered."),
    "unanswered_reason": _l("Why is the visit completed without them?"),
    "unanswered_optional": _l("This checklist allows completing with unanswered items."),
    "reason_needed": _l("Enter a reason."),
    "complete_with_reason": _l("Complete with this reason"),
    "completed_reason": _l("Completed with unanswered items"),
    "photo_finding": _l("Photo → finding"),
    "common_problems": _l("Common problems"),
    "pick_problem": _l("Tap a common problem or type the title."),
    "last_visit": _l("Last visit %(date)s"),
    "choose_person": _l("Choose a person"),
    "site_manager": _l("site manager"),
    "other_person": _l("%(name)s (not one of the site's people)"),
}
