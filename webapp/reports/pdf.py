"""The report as PDF (fpdf2), with a CJK font embedded (subset) so Chinese renders on any reader.

The font comes from PDF_FONT_PATH or a Debian/Ubuntu CJK font package (fonts-noto-cjk, installed
by `make install`/tools/run_tests.sh when missing). Photos are embedded as their stored thumbnail
renditions (small JPEGs made at upload, webapp/photos/ingest.py), never decoded from the original:
a report's memory stays bounded whatever was uploaded. Each carries the document's markup and the
watermark band the display rendition has (an approved version's frozen band, from its snapshot).
"""

import io
from pathlib import Path

from flask import current_app
from flask_babel import format_datetime
from flask_babel import gettext as _
from fpdf import FPDF, XPos, YPos
from fpdf.fonts import FontFace

from webapp.core.exports import ExportDenied, ExportError, ExportFile, no_progress
from webapp.evidence.markup import marked_jpeg, signature_png
from webapp.i18n import term
from webapp.photos.operations import variant_key
from webapp.photos.storage import StorageError, get_store

# (path, index in a .ttc collection: Noto CJK collections hold JP, KR, SC, TC, HK in this order)
FONT_CANDIDATES = [
    ("/usr/share/fonts/opentype/noto/NotoSansCJK-Regular.ttc", 2),
    ("/usr/share/fonts/noto-cjk/NotoSansCJK-Regular.ttc", 2),
    ("/usr/share/fonts/truetype/wqy/wqy-microhei.ttc", 0),
    ("/usr/share/fonts/truetype/wqy/wqy-zenhei.ttc", 0),
    ("/usr/share/fonts/truetype/arphic/uming.ttc", 0),
]
NEXT_LINE = {"new_x": XPos.LMARGIN, "new_y": YPos.NEXT}


class FontMissing(RuntimeError):
    pass


def find_font() -> tuple[str, int]:
    configured = current_app.config.get("PDF_FONT_PATH")
    if configured:
        if not Path(configured).is_file():
            raise FontMissing(f"PDF_FONT_PATH {configured} does not exist")
        return configured, int(current_app.config.get("PDF_FONT_INDEX") or 0)
    for path, index in FONT_CANDIDATES:
        if Path(path).is_file():
            return path, index
    raise FontMissing("no CJK font found: install fonts-noto-cjk or set PDF_FONT_PATH")


def thumbnail_jpeg(sha: str) -> bytes | None:
    """The stored thumbnail rendition of a photo, or None when it is not (yet) on this server."""
    try:
        return get_store().get(variant_key(sha, "thumb"))
    except StorageError:
        return None


def marked_thumbnail(sha: str, shapes: list | None, band: list[str] | None = None) -> bytes | None:
    """The thumbnail as the evidence card shows the photo: the document's markup drawn on it and the
    watermark band (site, capture time, supervisor, short hash; webapp/evidence/watermark.py) along
    its bottom. The original is untouched."""
    from webapp.evidence.watermark import draw_watermark

    thumb = thumbnail_jpeg(sha)
    if thumb is None or (not shapes and not band):
        return thumb
    if band:
        return draw_watermark(thumb, band, shapes)
    return marked_jpeg(thumb, shapes, quality=85)


def document_bands(doc: dict, frozen: bool) -> dict:
    """{sha: watermark band lines}: an approved version's frozen bands (from its snapshot only),
    else the live bands of the draft's photos."""
    if frozen:
        return doc.get("bands") or {}
    from webapp.reports.snapshots import watermark_bands

    return watermark_bands(doc.get("findings") or [])


class _Doc(FPDF):
    def footer(self):
        self.set_y(-12)
        self.set_font("cjk", size=8)
        self.set_text_color(120)
        self.cell(0, 6, f"{self.page_no()}", align="C")


# A row of photos: each fits a PHOTO_BOX_MM square whatever its orientation (a portrait phone photo
# is as tall as the box, not 4/3 of its width), and the text continues below the tallest one.
PHOTO_BOX_MM = 42.0
PHOTO_GAP_MM = 3.0


def photo_size(jpeg: bytes) -> tuple[float, float]:
    """Width and height in mm of a photo fitted into the PHOTO_BOX_MM square, keeping its aspect."""
    from PIL import Image

    with Image.open(io.BytesIO(jpeg)) as im:
        w, h = im.size
    scale = PHOTO_BOX_MM / max(w, h, 1)
    return w * scale, h * scale


def photo_row(pdf, jpegs: list[bytes]) -> None:
    if not jpegs:
        return
    sizes = [photo_size(j) for j in jpegs]
    row_h = max(h for _w, h in sizes)
    if pdf.get_y() + row_h + PHOTO_GAP_MM > pdf.h - pdf.b_margin:
        pdf.add_page()
    top, x = pdf.get_y() + 1, pdf.l_margin
    for jpeg, (w, h) in zip(jpegs, sizes, strict=True):
        pdf.image(io.BytesIO(jpeg), x=x, y=top, w=w, h=h)
        x += w + PHOTO_GAP_MM
    pdf.set_xy(pdf.l_margin, top + row_h + PHOTO_GAP_MM)


def render_report_pdf(report, findings=None, photos=None, progress=no_progress, *, doc=None, snap=None) -> bytes:
    """The report's document as PDF: the frozen snapshot of an approved version (`doc`, `snap`: its
    version and hash are printed), else the live document built from `findings`. The photos carry
    the document's markup; before/after and the signatures are the document's too."""
    from flask_babel import get_locale

    from webapp.reports.snapshots import build_document

    if doc is None:
        doc = build_document(report, findings)
    locale = "en" if str(get_locale() or "").startswith("en") else "zh_CN"
    font, index = find_font()
    pdf = _Doc(format="A4")
    pdf.set_auto_page_break(True, margin=16)
    pdf.add_font("cjk", "", font, collection_font_number=index)
    pdf.set_title(doc["title"])
    pdf.add_page()
    width = pdf.w - pdf.l_margin - pdf.r_margin

    def heading(text, size=13):
        pdf.ln(2)
        pdf.set_font("cjk", size=size)
        pdf.set_text_color(31, 95, 139)
        pdf.multi_cell(width, size * 0.55, text, **NEXT_LINE)
        pdf.set_text_color(0)

    def para(text, size=10):
        pdf.set_font("cjk", size=size)
        pdf.multi_cell(width, 5.5, text or "—", **NEXT_LINE)

    colon = _(": ")
    bands = document_bands(doc, frozen=snap is not None)

    def signature_block(sig, caption):
        """A finger signature (webapp/evidence/markup.py) drawn as a small picture, with name and time."""
        from datetime import datetime

        png = signature_png(sig, width=600)
        if pdf.get_y() + 22 > pdf.h - pdf.b_margin:
            pdf.add_page()
        pdf.image(io.BytesIO(png), x=pdf.l_margin, y=pdf.get_y() + 1, w=54, h=18)
        pdf.set_y(pdf.get_y() + 20)
        try:
            when = format_datetime(datetime.fromisoformat(sig["signed_at"]), "short")
        except (KeyError, TypeError, ValueError):
            when = "—"
        para(f"{caption}{colon}{sig.get('signer', '')} · {when}", 8)

    company = current_app.config.get("COMPANY_NAME")
    if company:
        para(company, 9)
    heading(doc["title"], 18)
    site = doc["site"]["name_en"] if locale == "en" and doc["site"].get("name_en") else doc["site"]["name"]
    status = term("report_status", "approved") if snap is not None else term("report_status", report.status)
    para(f"{_('Site')}{colon}{site}    {_('Supervisor')}{colon}{doc.get('supervisor') or '—'}    "
         f"{_('Version')}{colon}v{doc['version_no']}    {_('Status')}{colon}{status}", 9)
    if snap is not None:
        para(f"{_('Approved')}{colon}{format_datetime(snap.approved_at, 'short')}    "
             f"{_('Approved by')}{colon}{doc.get('approved_by') or '—'}", 9)
        para(f"SHA-256{colon}{snap.sha256}", 8)
    elif report.approved_at:
        para(f"{_('Approved')}{colon}{format_datetime(report.approved_at, 'short')}", 9)
    heading(_("Plan execution"))
    para(doc["plan_execution"])
    heading(_("Checklist scores by area"))
    pdf.set_font("cjk", size=10)
    scores = doc.get("area_scores") or {}
    with pdf.table(col_widths=(3, 1), text_align=("LEFT", "RIGHT"), line_height=6,
                   headings_style=FontFace(emphasis="", fill_color=(240, 243, 246))) as table:
        table.row([_("Content area"), _("Score")])
        for area, value in scores.items():
            if area != "overall":
                table.row([str(term("area", area)), "—" if value is None else f"{value}"])
        table.row([_("Overall"), "—" if scores.get("overall") is None else f"{scores['overall']}"])
    heading(_("Highlights"))
    para(doc["highlights"])
    heading(_("Problems"))
    para(doc["problems"])
    findings = doc["findings"]
    for i, f in enumerate(findings, 1):
        progress(10 + 80 * i // max(1, len(findings)))
        pdf.ln(1)
        pdf.set_font("cjk", size=11)
        pdf.multi_cell(width, 6, _("%(n)d. %(title)s (%(severity)s · %(status)s)", n=i, title=f["title"],
                                   severity=term("severity", f["severity"]),
                                   status=term("finding_status", f["status"])),
                       **NEXT_LINE)
        if f.get("description"):
            para(f["description"], 9)
        after = f.get("after_photos") or []
        marked = f.get("markup") or {}
        if after:
            para(_("Before rectification"), 8)
        photo_row(pdf, [t for t in (marked_thumbnail(sha, marked.get(sha), bands.get(sha))
                                    for sha in (f.get("photos") or [])[:4]) if t is not None])
        if after:  # before/after: the rectification's photos under the finding's
            para(_("After rectification"), 8)
            photo_row(pdf, [t for t in (marked_thumbnail(sha, None, bands.get(sha)) for sha in after[:4])
                            if t is not None])
        if marked:
            para(_("Photos marked up on site; the originals are unchanged."), 7)
        for line in (f.get("evidence") or {}).get(locale, []):  # the evidence panel as text
            para(line, 7)
        for sig in f.get("acceptance_signatures") or []:
            signature_block(sig, _("Signature at acceptance"))
    if pdf.get_y() + 40 > pdf.h - pdf.b_margin:  # the heading stays with its first signature
        pdf.add_page()
    heading(_("Signatures"))
    sigs = doc.get("signatures") or {}
    signed = [(sigs.get("opening"), _("Signature at the opening meeting")),
              (sigs.get("closing"), _("Signature at the closing meeting"))]
    if not any(sig for sig, _caption in signed):
        para(_("Not signed yet."), 9)
    for sig, caption in signed:
        if sig:
            signature_block(sig, caption)
    heading(_("Analysis"))
    para(doc["analysis"])
    heading(_("Recommendations"))
    para(doc["recommendations"])
    if snap is not None:
        pdf.ln(2)
        para(_("Version %(n)d, frozen at approval. SHA-256 of the approved content: %(hash)s",
               n=doc["version_no"], hash=snap.sha256), 8)
    return bytes(pdf.output())


# The department sees its report once it has been communicated to it (policy 三(三)4).
DEPARTMENT_VISIBLE = ("communicated", "acknowledged")


def visible_report(user, report_id):
    """The report if `user` may see it (the report pages' rule), else None."""
    from webapp.authz import scoped
    from webapp.extensions import db
    from webapp.reports.models import Report

    report = db.session.scalars(scoped(Report, user).where(Report.id == str(report_id))).first()
    if report is None or (user.role in ("dept_head", "staff") and report.status not in DEPARTMENT_VISIBLE):
        return None
    return report


def report_export(user, params: dict, progress=no_progress) -> ExportFile:
    """The report's PDF, made for `user` (the export job and the direct download both call this)."""
    from webapp.reports.snapshots import document_for

    report = visible_report(user, (params or {}).get("report_id"))
    if report is None:
        raise ExportDenied()
    progress(5)
    doc, snap = document_for(report)  # an approved version: its frozen snapshot
    try:
        data = render_report_pdf(report, doc=doc, snap=snap, progress=progress)
    except FontMissing as e:
        raise ExportError("font_missing") from e
    return ExportFile(data, f"report-{report.visit_id[:8]}-v{report.version_no}.pdf", "application/pdf")
