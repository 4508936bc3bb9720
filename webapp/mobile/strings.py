"""Every string the phone app's JavaScript shows, through gettext so the catalogs cover them.

The app page embeds them as JSON (a non-executed <script type="application/json">, allowed by the CSP)."""

from flask_babel import lazy_gettext as _l

from webapp.checklists.models import AREAS
from webapp.i18n import TERMS

STRINGS = {
    "app_title": _l("Site visits"),
    "online": _l("Online"),
    "offline": _l("Offline"),
    "unsynced": _l("%(n)s unsynced"),
    "all_synced": _l("All synced"),
    "sync_now": _l("Sync now"),
    "syncing": _l("Syncing…"),
    "last_sync": _l("Last sync: %(time)s"),
    "never_synced": _l("Not synced yet"),
    "sync_failed": _l("Sync failed: %(msg)s. Your data is safe on this phone."),
    "other_user": _l("another user's unsynced records are on this phone; that user must sign in and sync first"),
    "network_error": _l("the server cannot be reached"),
    "signed_out": _l("Your session has ended. Sign in again to sync; nothing on this phone is lost."),
    "sign_in": _l("Sign in"),
    "export_unsynced": _l("Export %(n)s unsynced records"),
    "sign_out": _l("Sign out"),
    "logout_blocked": _l("%(n)s items are not synced yet. Sync them (or export them) before signing out, "
                         "otherwise they would be lost."),
    "export": _l("Export unsynced data"),
    "exported": _l("A file with the unsynced data was downloaded. An administrator can import it."),
    "nothing_to_export": _l("Nothing to export: everything is synced."),
    "storage_refused": _l("This browser may clear stored data when space is short. Sync often."),
    "storage_full": _l("Storage is nearly full (%(pct)s%% used). Sync now and delete synced photos."),
    "update_ready": _l("A new version of the app is ready."),
    "update_now": _l("Update now"),
    "my_visits": _l("My visits"),
    "no_visits": _l("No visits on this phone yet. Sync to fetch your assigned visits."),
    "older_title": _l("Older visits"),
    "load_older": _l("Load older visits"),
    "older_offline": _l("Older visits can be loaded only when online. Connect and try again."),
    "older_none": _l("No older visits."),
    "older_loaded": _l("%(n)s older visits loaded."),
    "start_adhoc": _l("Start an ad-hoc visit"),
    "choose_site": _l("Site"),
    "start": _l("Start"),
    "start_visit": _l("Start visit"),
    "back": _l("Back"),
    "visits": _l("Visits"),
    "scheduled_for": _l("Scheduled for %(date)s"),
    "sec_prep": _l("Preparation"),
    "sec_meeting": _l("Opening meeting"),
    "sec_checklist": _l("Inspection"),
    "sec_data": _l("Data collection"),
    "sec_interviews": _l("Interviews"),
    "sec_findings": _l("Findings"),
    "sec_complete": _l("Complete"),
    "prep_previous": _l("Reviewed the previous visit and open findings"),
    "prep_documents": _l("Reviewed the department's documents and data"),
    "prep_notified": _l("Notified the department of the visit"),
    "prep_checklist": _l("Confirmed the checklist template"),
    "prep_equipment": _l("Phone charged, camera and forms ready"),
    "prep_notes": _l("Preparation notes"),
    "held_at": _l("Held at"),
    "attendees": _l("Attendees (one per line)"),
    "meeting_notes": _l("Meeting notes"),
    "department_report": _l("Department's report"),
    "score": _l("Score"),
    "note": _l("Note"),
    "photos": _l("Photos"),
    "add_photo": _l("Take or add photo"),
    "delete_photo": _l("Delete photo"),
    "photo_required": _l("A photo is required for a failed item."),
    "create_finding": _l("Record finding"),
    "open_finding": _l("Open finding"),
    "answered": _l("%(done)s of %(total)s answered"),
    "kind": _l("Kind"),
    "name": _l("Name"),
    "value": _l("Value"),
    "unit": _l("Unit"),
    "add": _l("Add"),
    "save": _l("Save"),
    "edit": _l("Edit"),
    "cancel": _l("Cancel"),
    "delete_record": _l("Delete"),
    "confirm_delete": _l("Delete “%(name)s”? If it was synced, the server keeps it in the history."),
    "deleted_locally": _l("Deleted on this phone; the deletion is sent with the next sync"),
    "deleted_unsent": _l("Deleted (it had not been synced yet)"),
    "saved_locally": _l("Saved on this phone"),
    "interviewee": _l("Interviewee"),
    "position": _l("Position"),
    "interview_notes": _l("Interview notes"),
    "suggestions": _l("Suggestions"),
    "new_finding": _l("New finding"),
    "finding": _l("Finding"),
    "title": _l("Title"),
    "description": _l("Manifestation"),
    "impact": _l("Impact"),
    "area": _l("Area"),
    "item": _l("Checklist item"),
    "none": _l("None"),
    "severity": _l("Severity"),
    "department": _l("Responsible department"),
    "responsible_person": _l("Responsible person"),
    "captured_at": _l("Time"),
    "location": _l("Location"),
    "add_location": _l("Add GPS location"),
    "no_location": _l("Location unavailable"),
    "title_required": _l("Enter a title."),
    "summary": _l("Visit summary"),
    "score_by_area": _l("Score by area"),
    "overall": _l("Overall"),
    "complete_visit": _l("Complete visit"),
    "completed_msg": _l("Visit completed. It will sync when the network is available."),
    "missing_photos_block": _l("%(n)s failed items still need a photo."),
    "st_synced": _l("Synced"),
    "st_pending": _l("Not synced"),
    "st_rejected": _l("Rejected by the server"),
    "st_conflict": _l("Conflict: a manager will resolve it"),
    "conflict_field": _l("%(field)s: yours “%(client)s”, server “%(server)s”"),
    "fix_and_retry": _l("Fix the record; it is sent again on the next sync."),
    "discard": _l("Discard my change"),
    "confirm_discard": _l("Discard this unsynced change?"),
    "empty": _l("Nothing yet."),
    "loading": _l("Loading…"),
    "server_pages": _l("Full site"),
    "language": _l("Language"),
    "dismiss": _l("Dismiss"),
    "yes": _l("Yes"),
    "no": _l("No"),
    "colon": _l(": "),
    "list_sep": _l("; "),
}

ENUMS = {
    "area": {code: TERMS["area"][code] for code in AREAS},
    "severity": TERMS["severity"],
    "result": TERMS["result"],
    "visit_status": TERMS["visit_status"],
    "finding_status": TERMS["finding_status"],
    "review_status": TERMS["review_status"],
    "metric_kind": TERMS["metric_kind"],
    "field": TERMS["field"],
}


from webapp.evidence.strings import PHONE_STRINGS  # noqa: E402  (check-in/out, webapp/evidence)

STRINGS.update(PHONE_STRINGS)

from webapp.visits.strings import PHONE_STRINGS as VISIT_STRINGS  # noqa: E402  (a faster visit, webapp/visits)

STRINGS.update(VISIT_STRINGS)
from webapp.rectification.phone_strings import PHONE_STRINGS as RECTIFICATION_STRINGS  # noqa: E402

STRINGS.update(RECTIFICATION_STRINGS)
from webapp.checklists.strings import PHONE_STRINGS as CHECKLIST_STRINGS  # noqa: E402  (rich checklist items)

STRINGS.update(CHECKLIST_STRINGS)
from webapp.findings.phone_strings import PHONE_STRINGS as REVIEW_STRINGS  # noqa: E402  (the review step)

STRINGS.update(REVIEW_STRINGS)


def app_strings() -> dict:
    return {
        "s": {k: str(v) for k, v in STRINGS.items()},
        "enums": {group: {k: str(v) for k, v in values.items()} for group, values in ENUMS.items()},
    }
