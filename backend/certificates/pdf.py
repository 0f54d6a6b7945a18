"""The printable certificate: A4 landscape in the style of a provincial training certificate (title,
holder, masked ID number, organisation, level and course, hours, dates, issuer and seal, number and a QR
code that opens /verify/{number}), rendered on demand with fpdf2 and an embedded CJK font subset.

Nothing is stored: the record and the settings make the same PDF every time. The text is real text
(the name and number can be searched and copied), and the QR code is drawn as vector squares.
"""

from __future__ import annotations

import math
from datetime import UTC, date, datetime

import segno
from fpdf import FPDF

from backend.certificates import fonts
from backend.certificates.credential import level_name
from backend.certificates.seal import seal_image
from backend.config import Settings
from backend.models import Certificate, CertificateStatus

PAGE_W, PAGE_H = 297.0, 210.0
RED = (158, 27, 27)
GOLD = (176, 137, 52)
INK = (33, 33, 33)
SEAL_RED = (205, 30, 30)
PAPER = (255, 253, 246)
WATERMARKS = {
    CertificateStatus.revoked.value: "已撤销  REVOKED",
    CertificateStatus.superseded.value: "已被换发  SUPERSEDED",
}


def chinese_date(day: date) -> str:
    return f"{day.year}年{day.month}月{day.day}日"


def hours_text(hours: float | None) -> str:
    return f"{hours:g}" if hours is not None else "—"


def statement(certificate: Certificate) -> list[str]:
    """The two lines under the name, as on a provincial training certificate."""
    who = f"身份证号：{certificate.id_number_masked or '—'}"
    if certificate.organisation:
        who += f"　　工作单位：{certificate.organisation}"
    course = f"「{certificate.course_title}」" if certificate.course_title else ""
    return [
        who,
        f"参加{course}培训，完成规定学时 {hours_text(certificate.hours)} 学时，经考核合格，特发此证。",
    ]


def render_certificate_pdf(certificate: Certificate, *, settings: Settings) -> bytes:
    pdf = _document(certificate, settings)
    _frame(pdf)
    _heading(pdf, certificate)
    _body(pdf, certificate)
    verify_url = f"{settings.public_base_url}/verify/{certificate.number}"
    _qr(pdf, verify_url, x=32, y=136, size=34)
    _issuer(pdf, certificate, settings)
    watermark = WATERMARKS.get(certificate.status)
    if watermark:
        _watermark(pdf, watermark)
    return bytes(pdf.output())


def _document(certificate: Certificate, settings: Settings) -> FPDF:
    pdf = FPDF(orientation="L", unit="mm", format="A4")
    pdf.set_auto_page_break(False)
    pdf.set_margins(0, 0, 0)
    pdf.set_title(f"{certificate.title} {certificate.number}")
    pdf.set_author(certificate.issuer_name or settings.certificate_issuer_name)
    pdf.set_subject(f"{certificate.holder_name} · {certificate.number}")
    pdf.set_creator(settings.site_name)
    pdf.set_lang("zh-CN")
    pdf.set_creation_date(datetime.combine(certificate.issued_on, datetime.min.time(), UTC))
    text = " ".join(
        [
            certificate.holder_name,
            certificate.organisation,
            certificate.course_title,
            certificate.title,
            certificate.issuer_name,
            settings.certificate_issuer_name,
        ]
    )
    chosen = fonts.fonts_for(settings, text)
    for index, files in enumerate(chosen):
        family = "cjk" if index == 0 else f"cjkfallback{index}"
        pdf.add_font(family, "", str(files.regular))
        pdf.add_font(family, "B", str(files.bold))
    if len(chosen) > 1:
        pdf.set_fallback_fonts([f"cjkfallback{index}" for index in range(1, len(chosen))])
    pdf.add_page()
    return pdf


def _frame(pdf: FPDF) -> None:
    pdf.set_fill_color(*PAPER)
    pdf.rect(0, 0, PAGE_W, PAGE_H, style="F")
    pdf.set_draw_color(*RED)
    pdf.set_line_width(2.2)
    pdf.rect(8, 8, PAGE_W - 16, PAGE_H - 16)
    pdf.set_draw_color(*GOLD)
    pdf.set_line_width(0.6)
    pdf.rect(12, 12, PAGE_W - 24, PAGE_H - 24)
    pdf.set_line_width(0.3)
    pdf.rect(14, 14, PAGE_W - 28, PAGE_H - 28)
    for x, y in ((14, 14), (PAGE_W - 14, 14), (14, PAGE_H - 14), (PAGE_W - 14, PAGE_H - 14)):
        pdf.set_fill_color(*GOLD)
        pdf.polygon([(x, y - 3), (x + 3, y), (x, y + 3), (x - 3, y)], style="F")


def _centered(pdf: FPDF, y: float, text: str, *, size: float, bold: bool = False, spacing: float = 0) -> None:
    pdf.set_font("cjk", "B" if bold else "", size)
    pdf.set_char_spacing(spacing)
    pdf.set_xy(20, y)
    pdf.cell(w=PAGE_W - 40, h=size * 0.45, text=text, align="C")
    pdf.set_char_spacing(0)


def _heading(pdf: FPDF, certificate: Certificate) -> None:
    pdf.set_text_color(*RED)
    title_size = 30 if len(certificate.title) <= 16 else 24
    _centered(pdf, 26, certificate.title or "培训合格证书", size=title_size, bold=True, spacing=1.5)
    pdf.set_text_color(*GOLD)
    _centered(pdf, 42, "CERTIFICATE OF TRAINING", size=10, spacing=3)
    pdf.set_draw_color(*GOLD)
    pdf.set_line_width(0.4)
    pdf.line(98, 49, PAGE_W - 98, 49)


def _body(pdf: FPDF, certificate: Certificate) -> None:
    pdf.set_text_color(*INK)
    _centered(pdf, 56, certificate.holder_name, size=26, bold=True, spacing=4)
    for index, line in enumerate(statement(certificate)):
        _centered(pdf, 72 + index * 9, line, size=13 if len(line) > 40 else 14)
    rows = [
        ("证书等级", level_name(certificate.level)),
        ("证书编号", certificate.number),
        ("发证日期", chinese_date(certificate.issued_on)),
        ("有效期至", chinese_date(certificate.expires_on) if certificate.expires_on else "长期有效"),
    ]
    y = 103.0
    for label, value in rows:
        pdf.set_xy(84, y)
        pdf.set_font("cjk", "", 12)
        pdf.set_text_color(90, 90, 90)
        pdf.cell(w=26, h=7, text=f"{label}：")
        pdf.set_font("cjk", "B", 13)
        pdf.set_text_color(*INK)
        pdf.cell(w=100, h=7, text=value)
        y += 8.5


def _qr(pdf: FPDF, url: str, *, x: float, y: float, size: float) -> None:
    """The verification link as a QR code of vector squares (one rectangle per run of dark modules)."""
    code = segno.make(url, error="m", micro=False)
    matrix = code.matrix
    module = size / len(matrix)
    pdf.set_fill_color(0, 0, 0)
    for row, line in enumerate(matrix):
        col = 0
        while col < len(line):
            if line[col]:
                start = col
                while col < len(line) and line[col]:
                    col += 1
                pdf.rect(x + start * module, y + row * module, (col - start) * module, module, style="F")
            else:
                col += 1
    pdf.set_text_color(90, 90, 90)
    pdf.set_font("cjk", "", 8)
    pdf.set_xy(x - 6, y + size + 1.5)
    pdf.cell(w=size + 12, h=4, text="扫码核验 · Scan to verify", align="C")
    pdf.set_font("cjk", "", 6.5)
    pdf.set_xy(x - 14, y + size + 5.5)
    pdf.cell(w=size + 28, h=3.5, text=url, align="C")


def _issuer(pdf: FPDF, certificate: Certificate, settings: Settings) -> None:
    issuer = certificate.issuer_name or settings.certificate_issuer_name
    cx, cy = 226.0, 156.0
    pdf.set_text_color(*INK)
    pdf.set_font("cjk", "B", 14)
    pdf.set_xy(cx - 60, cy - 6)
    pdf.cell(w=120, h=7, text=issuer, align="C")
    pdf.set_font("cjk", "", 12)
    pdf.set_xy(cx - 60, cy + 3)
    pdf.cell(w=120, h=7, text=chinese_date(certificate.issued_on), align="C")
    seal = seal_image(settings)  # uploaded by an administrator, else configured, else drawn
    if seal is not None:
        pdf.image(str(seal), x=cx - 21, y=cy - 21, w=42, h=42, keep_aspect_ratio=True)
    else:
        _drawn_seal(pdf, issuer, cx=cx, cy=cy, radius=20)


def _drawn_seal(pdf: FPDF, issuer: str, *, cx: float, cy: float, radius: float) -> None:
    """A round red seal: the issuer's name around the upper rim, a star, and 证书专用章 below it."""
    with pdf.local_context(fill_opacity=0.75, stroke_opacity=0.75):
        pdf.set_draw_color(*SEAL_RED)
        pdf.set_fill_color(*SEAL_RED)
        pdf.set_text_color(*SEAL_RED)
        pdf.set_line_width(1.1)
        pdf.circle(cx, cy, radius, style="D")
        pdf.star(cx, cy, 2.6, 6.5, 5, rotate_degrees=-90 + 36, style="F")
        chars = list(issuer)[:20] or ["印"]
        size = 11 if len(chars) <= 12 else 9
        pdf.set_font("cjk", "B", size)
        span = min(250.0, 18.0 * len(chars))
        step = span / max(len(chars) - 1, 1)
        ring = radius - 4.8
        height = size * 0.3528
        for index, char in enumerate(chars):
            angle = 90 + span / 2 - index * step if len(chars) > 1 else 90
            x = cx + ring * math.cos(math.radians(angle))
            y = cy - ring * math.sin(math.radians(angle))
            with pdf.rotation(angle - 90, x, y):
                width = pdf.get_string_width(char)
                pdf.text(x - width / 2, y + height * 0.36, char)
        pdf.set_font("cjk", "B", 8)
        width = pdf.get_string_width("证书专用章")
        pdf.text(cx - width / 2, cy + 12, "证书专用章")


def _watermark(pdf: FPDF, text: str) -> None:
    with pdf.local_context(fill_opacity=0.25, text_color=(200, 0, 0)):
        pdf.set_font("cjk", "B", 54)
        width = pdf.get_string_width(text)
        with pdf.rotation(20, PAGE_W / 2, PAGE_H / 2):
            pdf.text(PAGE_W / 2 - width / 2, PAGE_H / 2 + 8, text)
