"""The findings export is not thin (issue #19 item 11): photo links to the photo's (access-checked)
page, the rectification's deadline and round, and filters named in the reader's language."""

import io
from datetime import date

from openpyxl import load_workbook

from webapp.extensions import db
from webapp.rectification.models import Rectification

SHA = "a" * 64


def test_photo_links_deadline_round_and_labelled_filters(client, auth, world):
    f = world["findings"][0]
    f.photos = [SHA, "b" * 64]
    db.session.add(Rectification(finding_id=f.id, measures="整改", owner="员工甲", deadline=date(2026, 12, 1),
                                 round=2, submitted_by=world["users"]["head1"].id))
    db.session.commit()
    auth.login("manager")
    r = client.get(f"/findings/export.xlsx?site_id={f.site_id}&overdue=1&severity=medium&q=%3Dx",
                   headers={"Accept-Language": "en"})
    wb = load_workbook(io.BytesIO(r.data))
    header = [c.value for c in wb.worksheets[0][1]]
    assert header[-4:] == ["Photos", "Deadline", "Round", "Photo links"]
    filters = {row[0].value: row[1].value for row in wb.worksheets[1].iter_rows(min_row=2)}
    assert filters == {"Search": "=x", "Site": world["sites"][0].label("en"), "Severity": "Medium", "Overdue": "Yes"}
    r = client.get("/findings/export.xlsx", headers={"Accept-Language": "en"})
    ws = load_workbook(io.BytesIO(r.data)).worksheets[0]
    row = next(row for row in ws.iter_rows(min_row=2) if row[0].value == f.title)
    photos, deadline, rnd, links = (c.value for c in row[-4:])
    assert (photos, deadline.date(), rnd) == (2, date(2026, 12, 1), 2)
    assert links.splitlines() == [f"http://localhost/api/v1/photos/{SHA}?variant=display",
                                  f"http://localhost/api/v1/photos/{'b' * 64}?variant=display"]
    other = next(row for row in ws.iter_rows(min_row=2) if row[0].value != f.title)
    assert [c.value for c in other[-4:]] == [0, None, None, None]
