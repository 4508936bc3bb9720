"""The report as PDF (fpdf2), with a CJK font embedded (subset) so Chinese renders on any reader.

The font comes from PDF_FONT_PATH or a Debian/Ubuntu CJK font package (fonts-noto-cjk, installed
by `make install`/tools/run_tests.sh when missing). Photos are embedded as their stored thumbnail
renditions (small JPEGs made at upload, webapp/photos/ingest.py), never decoded from the original:
a report's memory stays bounded whatever was uploaded.
"""

import io
from pathlib import Path

from flask import current_app
from flask_babel import format_datetime
from flask_babel import gettext as _
from fpdf import FPDF, XPos, YPos
from fpdf.fonts import FontFace

from webapp.evidence.operations import evidence_lines
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


class _Doc(FPDF):
    def footer(self):
        self.set_y(-12)
        self.set_font("cjk", size=8)
        self.set_text_color(120)
        self.cell(0, 6, f"{self.page_no()}", align="C")


def render_report_pdf(report, findings, photos=None) -> bytes:
    font, index = find_font()
    pdf = _Doc(format="A4")
    pdf.set_auto_page_break(True, margin=16)
    pdf.add_font("cjk", "", font, collection_font_number=index)
    pdf.set_title(report.title)
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

    heading(report.title, 18)
    visit = report.visit
    para(f"{_('Site')}: {visit.site.name}    {_('Supervisor')}: {visit.supervisor.display_name}    "
         f"{_('Version')}: v{report.version_no}    {_('Status')}: {term('report_status', report.status)}", 9)
    if report.approved_at:
        para(f"{_('Approved')}: {format_datetime(report.approved_at, 'short')}", 9)
    heading(_("Plan execution"))
    para(report.plan_execution)
    heading(_("Checklist scores by area"))
    pdf.set_font("cjk", size=10)
    scores = report.area_scores or {}
    with pdf.table(col_widths=(3, 1), text_align=("LEFT", "RIGHT"), line_height=6,
                   headings_style=FontFace(emphasis="", fill_color=(240, 243, 246))) as table:
        table.row([_("Content area"), _("Score")])
        for area, value in scores.items():
            if area != "overall":
                table.row([str(term("area", area)), "—" if value is None else f"{value}"])
        table.row([_("Overall"), "—" if scores.get("overall") is None else f"{scores['overall']}"])
    heading(_("Highlights"))
    para(report.highlights)
    heading(_("Problems"))
    para(report.problems)
    for i, f in enumerate(findings, 1):
        pdf.ln(1)
        pdf.set_font("cjk", size=11)
        pdf.multi_cell(width, 6, f"{i}. {f.title}  [{term('severity', f.severity)} · {term('finding_status', f.status)}]",
                       **NEXT_LINE)
        if f.description:
            para(f.description, 9)
        x = pdf.l_margin
        for sha in (f.photos or [])[:4]:
            thumb = thumbnail_jpeg(sha)
            if thumb is None:
                continue
            if pdf.get_y() + 34 > pdf.h - 16:
                pdf.add_page()
            pdf.image(io.BytesIO(thumb), x=x, y=pdf.get_y(), w=42)
            x += 45
        if x > pdf.l_margin:
            pdf.ln(34)
        for line in evidence_lines(f):  # the evidence panel (templates/photos/_evidence.html) as text
            para(line, 7)
    heading(_("Analysis"))
    para(report.analysis)
    heading(_("Recommendations"))
    para(report.recommendations)
    return bytes(pdf.output())
