"""The inspection visible on the desk: the visit's page shows each checklist item's answer by area,
failed ones highlighted with their notes and photos, beside the meeting, figures and interviews."""

import hashlib
import re

from tests.photos.images import jpeg
from webapp.extensions import db
from webapp.photos.operations import process_upload, save_photo
from webapp.visits.models import ChecklistAnswer, Meeting

EN = {"Accept-Language": "en"}


def test_answers_by_area_failed_highlighted(world, client, auth):
    visit, sup1 = world["visits"][0], world["users"]["sup1"]
    items = {i.code: i for i in visit.template.items}
    data = jpeg((64, 48))
    sha = hashlib.sha256(data).hexdigest()
    save_photo(sha, data, process_upload(data), sup1)
    db.session.add_all([
        ChecklistAnswer(visit_id=visit.id, item_id=items["P1"].id, result="pass"),
        ChecklistAnswer(visit_id=visit.id, item_id=items["R1"].id, result="fail", note="灭火器过期<b>", photos=[sha]),
        Meeting(visit_id=visit.id, attendees=["店长"], notes="首次会议纪要"),
    ])
    db.session.commit()
    auth.login("manager")
    html = client.get(f"/visits/{visit.id}", headers=EN).get_data(as_text=True)
    section = re.search(r'<section class="card ck-answers".*?</section>', html, re.S).group(0)
    asked = len(visit.template.items)
    assert "Checklist answers" in section and f"2 of {asked} items answered." in section and "1 failed" in section
    row = re.search(r'<tr class="ck-failed">.*?</tr>', section, re.S).group(0)
    assert "R1" in row and "Fail" in row and "灭火器过期&lt;b&gt;" in row and f"/api/v1/photos/{sha}" in row
    assert "pv-open" in row  # through the photo viewer
    assert len(re.findall(r'<tr class="ck-failed">', section)) == 1  # only the failed item stands out
    assert "Business process compliance" in html and "Risk management" in html
    assert "首次会议纪要" in html


def test_another_departments_visit_is_404(world, client, auth):
    auth.login("head1")
    assert client.get(f"/visits/{world['visits'][1].id}").status_code == 404
