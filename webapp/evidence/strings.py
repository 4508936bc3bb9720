"""The phone app's strings for check-in/out (merged into webapp/mobile/strings.py STRINGS)."""

from flask_babel import lazy_gettext as _l

PHONE_STRINGS = {
    "checkin_title": _l("Check-in"),
    "check_in": _l("Check in"),
    "check_out": _l("Check out"),
    "checked_in": _l("Checked in"),
    "checked_out": _l("Checked out"),
    "not_checked_in": _l("Not checked in yet."),
    "locating": _l("Finding your position…"),
    "geo_denied": _l("Location permission is off: allow it for this site to check in."),
    "geo_unavailable": _l("Your position cannot be found right now. Try again outdoors or later."),
    "checkin_inside": _l("%(m)s m from the site, inside the geofence"),
    "checkin_outside": _l("%(m)s m from the site, outside the geofence"),
    "checkin_estimate": _l("about %(m)s m from the site (checked by the server at sync)"),
    "distance_unknown": _l("distance unknown (the site has no coordinates)"),
    "outside_fence": _l("You are about %(m)s m from the site, outside its geofence. Say why you check in here."),
    "outside_reason": _l("Reason (required outside the geofence)"),
}
