"""The sample workbook the browser suite uploads is the one its script writes, and it previews as
promised: 1 department, 1 site and 1 supervisor to create, and 1 error row (role "boss")."""

from pathlib import Path

from tests.onboarding.helpers import preview_id, rows_of, upload

ROOT = Path(__file__).resolve().parent.parent.parent


def test_sample_is_current_and_previews_as_promised(client, auth, create_user):
    from tools.make_onboarding_sample import build

    data = (ROOT / "e2e" / "data" / "onboarding-sample.xlsx").read_bytes()
    assert data == build(), "run: python tools/make_onboarding_sample.py"
    create_user("admin1", role="admin", locale="en")
    auth.login("admin1")
    html = client.get(f"/admin/import/{preview_id(upload(client, auth, data))}").get_data(as_text=True)
    assert rows_of(html, "departments") == [("create", "2")]
    assert rows_of(html, "sites") == [("create", "2")]
    assert rows_of(html, "users") == [("create", "2"), ("error", "3")]
    assert "Row 3, column “Role”: Choose one of the offered options." in html
