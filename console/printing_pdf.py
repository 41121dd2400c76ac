"""PDF through fpdf2 (the optional ``dutyroom[print]`` extra) with a CJK font of this machine.

The font: ``$DUTYROOM_PDF_FONT`` if set, else the first TrueType/OpenType file
``fc-list :lang=zh`` names (a .ttc collection is skipped: fpdf2 embeds single fonts).
Missing library or font → one line saying what to install.
"""

from __future__ import annotations

import functools
import os
import shutil
import subprocess
from typing import Any

from .errors import DutyError
from .i18n import t

MARGIN = 15
# the entries' columns (mm, 180 in all): the time and a 12345 ticket fit on one line
ENTRY_WIDTHS = (10, 32, 18, 35, 42, 43)
SIGNATURES_HEIGHT = 48  # both signature lines and the chain head: kept on one page


@functools.cache
def cjk_font() -> str | None:
    forced = os.environ.get("DUTYROOM_PDF_FONT")
    if forced:
        return forced if os.path.isfile(forced) else None
    if not shutil.which("fc-list"):
        return None
    try:
        out = subprocess.run(["fc-list", ":lang=zh", "file"], capture_output=True, text=True,
                             timeout=10, check=False).stdout
    except (OSError, subprocess.SubprocessError):
        return None
    files = sorted({line.split(":")[0].strip() for line in out.splitlines() if line.strip()})
    for suffix in (".ttf", ".otf"):
        for path in files:
            if path.lower().endswith(suffix):
                return path
    return None


@functools.cache
def latin_font() -> str | None:
    """A sans-serif TrueType font for Latin letters and digits (some CJK fonts lack them)."""
    if not shutil.which("fc-match"):
        return None
    try:
        path = subprocess.run(["fc-match", "-f", "%{file}", "sans-serif:lang=en"],
                              capture_output=True, text=True, timeout=10, check=False).stdout
    except (OSError, subprocess.SubprocessError):
        return None
    path = path.strip()
    return path if path.lower().endswith((".ttf", ".otf")) and os.path.isfile(path) else None


def available() -> str | None:
    """None when a PDF can be made, else why not (the tests skip with this reason)."""
    try:
        import fpdf  # noqa: F401
    except ImportError as exc:
        return t("record.no_pdf", why=str(exc))
    if cjk_font() is None:
        return t("record.no_font")
    return None


def to_pdf(doc: Any) -> bytes:
    reason = available()
    if reason:
        raise DutyError(reason)
    from fpdf.errors import FPDFException

    try:
        return bytes(_layout(doc).output())
    except (FPDFException, OSError, ValueError) as exc:  # a bad font file: one line
        raise DutyError(f"PDF: {str(exc).splitlines()[0] if str(exc) else type(exc).__name__}") \
            from None


def _fonts(pdf: Any) -> str:
    """Register the fonts (regular and, for table headings, the same as bold); the CJK one
    is the fallback for what the Latin one lacks."""
    families = [("cjk", cjk_font())]
    latin = latin_font()
    if latin:
        families.insert(0, ("latin", latin))
    for name, path in families:
        pdf.add_font(name, fname=path)
        pdf.add_font(name, style="B", fname=path)
    if latin:
        pdf.set_fallback_fonts(["cjk"], exact_match=False)
    return families[0][0]


def _layout(doc: Any) -> Any:
    from fpdf import FPDF
    from fpdf.enums import WrapMode, XPos, YPos

    from .printing import ENTRY_COLUMNS, _heads

    pdf = FPDF(format="A4")
    pdf.set_margins(MARGIN, MARGIN, MARGIN)
    pdf.set_auto_page_break(True, margin=MARGIN)
    font = _fonts(pdf)
    pdf.set_title(doc.title)
    pdf.add_page()

    def para(text: str, size: float = 10.5, h: float = 6, align: str = "L") -> None:
        pdf.set_font(font, size=size)
        pdf.multi_cell(0, h, text, align=align, wrapmode=WrapMode.CHAR,
                       new_x=XPos.LMARGIN, new_y=YPos.NEXT)

    para(doc.title, 17, 10, "C")
    pdf.ln(2)
    for line in doc.header:
        para(line)
    for sec in doc.sections:
        pdf.ln(3)
        para(sec.heading, 12.5, 8)
        for line in sec.lines:
            para("· " + line.strip())
    if doc.entries is not None:
        pdf.ln(3)
        para(t("record.print.entries"), 12.5, 8)
        if doc.entries:
            pdf.set_font(font, size=9)
            with pdf.table(col_widths=ENTRY_WIDTHS, wrapmode=WrapMode.CHAR, line_height=5,
                           first_row_as_headings=True) as table:
                table.row(_heads())
                for e in doc.entries:
                    table.row([str(e[c]) for c in ENTRY_COLUMNS])
        else:
            para(t("record.print.no_entries"))
    pdf.sign_pages = []  # the page of each signature line (tests: never split)
    if doc.signatures:
        if pdf.will_page_break(SIGNATURES_HEIGHT):
            pdf.add_page()
        else:
            pdf.ln(12)
        para(t("record.print.sign_leader"), 11, 8)
        pdf.sign_pages.append(pdf.page_no())
        pdf.ln(8)
        para(t("record.print.sign_officer"), 11, 8)
        pdf.sign_pages.append(pdf.page_no())
    if doc.chain:
        pdf.ln(8)
        para(doc.chain, 7.5, 4)
    return pdf
