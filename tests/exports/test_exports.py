"""Exports as jobs (issue #17): the job makes the same file as the direct download, the progress page
polls until it is finished, only the person who asked sees the job and its file, failures say why in
the reader's language, files expire; on a real queue (SQLite and Redis) as well."""

import io
import re
from datetime import timedelta

import pytest
from openpyxl import load_workbook
from sqlalchemy import select

from tests.conftest import csrf_from
from tests.jobs.conftest import wait_until
from webapp.core.models import utcnow
from webapp.exports.models import ExportJob
from webapp.exports.operations import cleanup_exports
from webapp.extensions import db


def _post(client, url, data=None, lang="en"):
    token = csrf_from(client.get("/account/").get_data(as_text=True))
    return client.post(url, data={"csrf_token": token, **(data or {})}, headers={"Accept-Language": lang})


def _cells(data: bytes) -> list:
    wb = load_workbook(io.BytesIO(data))
    return [[[c.value for c in row] for row in ws.iter_rows()] for ws in wb.worksheets]


def _job_id(response) -> str:
    assert response.status_code == 303, response.get_data(as_text=True)[:300]
    return re.search(r"/exports/([0-9a-f-]{36})$", response.headers["Location"]).group(1)


def test_findings_job_makes_the_same_workbook_as_the_direct_export(client, auth, world):
    auth.login("manager")
    job_id = _job_id(_post(client, "/exports/findings", {"severity": "medium"}))
    page = client.get(f"/exports/{job_id}").get_data(as_text=True)
    assert "findings.xlsx" in page and "hx-trigger" not in page  # finished: no more polling
    job = db.session.get(ExportJob, job_id)
    assert (job.status, job.progress, job.kind, job.params["severity"]) == ("done", 100, "findings_xlsx", "medium")
    assert job.expires_at - job.finished_at == timedelta(hours=24)
    got = client.get(f"/exports/{job_id}/file")
    assert got.status_code == 200 and got.headers["Cache-Control"] == "private, no-store"
    direct = client.get("/findings/export.xlsx?severity=medium", headers={"Accept-Language": "en"})
    assert _cells(got.data) == _cells(direct.data)
    sheets = _cells(got.data)
    assert {r[0] for r in sheets[0][1:]} == {"一部的问题", "二部的问题"}
    assert sheets[1][1] == ["Severity", "Medium"]  # the filter sheet: labels, not parameter names


def test_report_pdf_job_makes_the_same_pdf_as_the_direct_download(client, auth, report):
    auth.login("sup1")
    job_id = _job_id(_post(client, f"/exports/reports/{report.id}"))
    got = client.get(f"/exports/{job_id}/file")
    assert got.status_code == 200 and got.mimetype == "application/pdf"
    direct = client.get(f"/reports/{report.id}/report.pdf", headers={"Accept-Language": "en"})

    def strip(pdf: bytes) -> bytes:  # the creation time (and the file id made from it) differ by the second
        return re.sub(rb"/ID \[<[0-9A-F]+><[0-9A-F]+>\]", b"", re.sub(rb"/CreationDate \(D:[^)]*\)", b"", pdf))

    assert strip(got.data) == strip(direct.data)


def test_progress_page_polls_until_finished(not_immediate, client, auth, world, app):
    # not_immediate: a memory queue nobody consumes, so the job stays queued
    auth.login("manager")
    job_id = _job_id(_post(client, "/exports/findings", lang="zh-CN"))
    page = client.get(f"/exports/{job_id}", headers={"Accept-Language": "zh-CN"}).get_data(as_text=True)
    assert 'hx-trigger="every 1s"' in page and "等待开始" in page and "<progress" in page
    fragment = client.get(f"/exports/{job_id}", headers={"HX-Request": "true"}).get_data(as_text=True)
    assert fragment.lstrip().startswith('<div id="export-status"') and "every 1s" in fragment
    assert client.get(f"/exports/{job_id}/file").status_code == 303  # not ready yet: back to the progress page
    with app.app_context():
        from webapp.exports.operations import run_export

        assert run_export(job_id) == "done"
        assert run_export(job_id) == "done"  # a second delivery of the task changes nothing
    fragment = client.get(f"/exports/{job_id}", headers={"HX-Request": "true"}).get_data(as_text=True)
    assert "hx-trigger" not in fragment and f"/exports/{job_id}/file" in fragment


@pytest.mark.parametrize("who", ["sup1", "manager", "admin", "head1"])
def test_another_user_can_neither_see_nor_download_an_export(client, auth, world, who):
    auth.login("sup2")
    job_id = _job_id(_post(client, "/exports/findings"))
    assert client.get(f"/exports/{job_id}/file").status_code == 200
    auth.logout()
    auth.login(who)
    for url in (f"/exports/{job_id}", f"/exports/{job_id}/file"):
        assert client.get(url).status_code == 404
    assert job_id not in client.get("/exports/").get_data(as_text=True)


def test_deactivated_owner_cannot_download(client, auth, world):
    auth.login("sup1")
    job_id = _job_id(_post(client, "/exports/findings"))
    world["users"]["sup1"].active = False
    db.session.commit()
    assert client.get(f"/exports/{job_id}/file").status_code in (302, 401, 404)


def test_asking_for_a_report_one_may_not_see_is_a_404(client, auth, report):
    auth.login("sup2")
    assert _post(client, f"/exports/reports/{report.id}").status_code == 404
    assert _post(client, "/exports/reports/" + "x" * 10_000).status_code == 404
    assert db.session.query(ExportJob).count() == 0


@pytest.mark.parametrize("bad", ["nope", "0" * 36, "\x00", "x" * 10_000])
def test_a_guessed_or_hostile_job_id_is_a_404(client, auth, world, bad):
    auth.login("manager")
    assert client.get(f"/exports/{bad}").status_code == 404
    assert client.get(f"/exports/{bad}/file").status_code == 404


def test_export_needs_csrf_and_sign_in(client, auth, world):
    assert client.post("/exports/findings").status_code in (302, 400, 401)
    auth.login("manager")
    assert client.post("/exports/findings").status_code == 400


def test_a_failure_says_why_in_the_readers_language(client, auth, report, app):
    app.config["PDF_FONT_PATH"] = "/nonexistent/font.ttc"
    auth.login("sup1")
    job_id = _job_id(_post(client, f"/exports/reports/{report.id}", lang="zh-CN"))
    job = db.session.get(ExportJob, job_id)
    assert (job.status, job.error) == ("failed", "font_missing")
    zh = client.get(f"/exports/{job_id}", headers={"Accept-Language": "zh-CN"}).get_data(as_text=True)
    assert "fonts-noto-cjk" in zh and "导出失败" in zh and "font_missing" not in zh
    en = client.get(f"/exports/{job_id}", headers={"Accept-Language": "en"}).get_data(as_text=True)
    assert "Export failed" in en and "Chinese font" in en
    assert client.get(f"/exports/{job_id}/file").status_code == 303


def test_a_job_whose_owner_lost_access_fails_as_denied(not_immediate, client, auth, report, app):
    auth.login("sup1")
    job_id = _job_id(_post(client, f"/exports/reports/{report.id}"))
    report.visit.supervisor.role = "staff"  # sup1 no longer sees the visit's report
    db.session.commit()
    from webapp.exports.operations import run_export

    assert run_export(job_id) == "failed"
    assert db.session.get(ExportJob, job_id).error == "denied"


def test_files_expire_and_the_cleanup_removes_them(client, auth, world, app):
    auth.login("manager")
    job_id = _job_id(_post(client, "/exports/findings"))
    key = db.session.get(ExportJob, job_id).file_key
    from webapp.photos.storage import get_store

    assert get_store().exists(key)
    assert cleanup_exports(utcnow() + timedelta(hours=23)) == (0, 0)
    assert cleanup_exports(utcnow() + timedelta(hours=25)) == (1, 0)
    db.session.commit()
    assert not get_store().exists(key)
    r = client.get(f"/exports/{job_id}/file", headers={"Accept-Language": "en"})
    assert r.status_code == 410 and "no longer kept" in r.get_data(as_text=True)


def test_a_job_left_running_by_a_dead_worker_is_failed_by_the_cleanup(client, auth, world):
    auth.login("manager")
    job_id = _job_id(_post(client, "/exports/findings"))
    job = db.session.get(ExportJob, job_id)
    job.status, job.file_key = "running", None
    db.session.commit()
    assert cleanup_exports(utcnow() + timedelta(hours=3)) == (0, 1)
    db.session.commit()
    assert db.session.get(ExportJob, job_id).error == "interrupted"


def test_my_exports_lists_mine_from_the_account_page(client, auth, world):
    auth.login("manager")
    assert "/exports/" in client.get("/account/").get_data(as_text=True)
    _job_id(_post(client, "/exports/findings"))
    page = client.get("/exports/", headers={"Accept-Language": "zh-CN"}).get_data(as_text=True)
    assert "findings.xlsx" in page and "findings_xlsx" not in page


def test_jobs_on_a_real_queue(not_immediate, queue, client, auth, world):
    """A consumer (2 worker threads) on SqliteHuey and on RedisHuey makes the file."""
    auth.login("manager")
    job_id = _job_id(_post(client, "/exports/findings"))
    def status():
        db.session.rollback()  # the test's own transaction must not hold SQLite's write lock
        try:
            return db.session.scalar(select(ExportJob.status).where(ExportJob.id == job_id))
        finally:
            db.session.rollback()

    assert wait_until(lambda: status() == "done")
    got = client.get(f"/exports/{job_id}/file")
    direct = client.get("/findings/export.xlsx", headers={"Accept-Language": "en"})
    assert _cells(got.data) == _cells(direct.data)
