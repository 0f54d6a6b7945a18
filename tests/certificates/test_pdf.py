"""The PDF: A4 landscape, the name and number extractable as text, the Chinese title really drawn
(pdftoppm renders dark title pixels, not empty boxes), a rare character in a name still drawn, and only
the holder or an administrator may download it."""

from __future__ import annotations

import io
import itertools
import shutil
import subprocess
from collections.abc import Callable
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from PIL import Image
from pypdf import PdfReader
from sqlmodel import Session

from backend.certificates import fonts
from backend.certificates.pdf import render_certificate_pdf
from backend.config import Settings
from backend.models import Course, User
from tests.certificates.support import issue, stored
from tests.support import login


@pytest.fixture(autouse=True)
def _fonts(prepared_fonts: fonts.FontFiles) -> None:
    """Every test here needs the prepared font (built once per machine)."""


def pdf_text(data: bytes) -> str:
    return "".join(page.extract_text() or "" for page in PdfReader(io.BytesIO(data)).pages)


def test_the_pdf_is_a4_landscape_with_the_name_and_number_as_text(
    client: TestClient, db: Session, settings: Settings, course: Course, graduate: Callable[..., User]
) -> None:
    trainee = graduate("欧阳小明")
    certificate = issue(db, settings, trainee, course)
    login(client, trainee.email)
    response = client.get(f"/certificates/{certificate.number}/pdf")
    assert response.status_code == 200 and response.headers["content-type"] == "application/pdf"
    reader = PdfReader(io.BytesIO(response.content))
    assert len(reader.pages) == 1
    box = reader.pages[0].mediabox
    assert round(float(box.width) / 72 * 25.4) == 297 and round(float(box.height) / 72 * 25.4) == 210
    text = pdf_text(response.content)
    assert certificate.number in text and "欧阳小明" in text
    assert certificate.id_number_masked in text and "技术经纪人（初级）培训合格证书" in text
    fonts_used = str(reader.pages[0]["/Resources"]["/Font"])
    assert "/FontFile2" in str(
        [
            f.get_object()["/DescendantFonts"][0].get_object()["/FontDescriptor"].get_object()
            for f in reader.pages[0]["/Resources"]["/Font"].values()
        ]
    )
    assert fonts_used


def test_pdftotext_reads_the_name_and_number(
    db: Session, settings: Settings, course: Course, graduate: Callable[..., User], tmp_path: Path
) -> None:
    if shutil.which("pdftotext") is None:
        pytest.skip("pdftotext (poppler-utils) is not installed")
    certificate = issue(db, settings, graduate("李华"), course)
    path = tmp_path / "certificate.pdf"
    path.write_bytes(render_certificate_pdf(certificate, settings=settings))
    text = subprocess.run(["pdftotext", str(path), "-"], capture_output=True, text=True, check=True).stdout
    assert certificate.number in text and "李华" in text


def test_pdftoppm_renders_the_chinese_title(
    db: Session, settings: Settings, course: Course, graduate: Callable[..., User], tmp_path: Path
) -> None:
    if shutil.which("pdftoppm") is None:
        pytest.skip("pdftoppm (poppler-utils) is not installed")
    certificate = issue(db, settings, graduate(), course)
    path = tmp_path / "certificate.pdf"
    path.write_bytes(render_certificate_pdf(certificate, settings=settings))
    subprocess.run(
        ["pdftoppm", "-r", "50", "-png", "-singlefile", str(path), str(tmp_path / "page")], check=True
    )
    image = Image.open(tmp_path / "page.png").convert("RGB")
    width, height = image.size
    assert width > height
    # The title band (about 24-38 mm from the top, the middle of the page): the title is dark red.
    band = image.crop((int(width * 0.2), int(height * 0.11), int(width * 0.8), int(height * 0.19)))
    pixels = list(band.getdata())
    red = [p for p in pixels if p[0] > 110 and p[1] < 80 and p[2] < 80]
    assert len(red) > len(pixels) * 0.04, "the title is not drawn (empty boxes or missing font)"
    # Glyphs, not boxes: the title band has many separate red runs along a row through the characters.
    row = [band.getpixel((x, band.height // 2)) for x in range(band.width)]
    runs = sum(
        1 for a, b in itertools.pairwise(row) if (a[0] > 110 and a[1] < 80) != (b[0] > 110 and b[1] < 80)
    )
    assert runs > 20


def test_a_rare_character_in_a_name_is_still_drawn(
    db: Session, settings: Settings, course: Course, graduate: Callable[..., User]
) -> None:
    certificate = issue(db, settings, graduate("王堃"), course)  # 堃 is not in GB 2312
    data = render_certificate_pdf(certificate, settings=settings)
    assert "王堃" in pdf_text(data)
    chosen = fonts.fonts_for(settings, "王堃")
    assert len(chosen) == 2 and ord("堃") in chosen[-1].codepoints


def test_a_revoked_certificate_is_marked_on_the_pdf(
    db: Session, settings: Settings, course: Course, graduate: Callable[..., User], admin: User
) -> None:
    from backend.certificates import lifecycle

    certificate = issue(db, settings, graduate(), course)
    lifecycle.revoke(db, certificate=stored(db, certificate.number), reason="测试", actor=admin)
    db.commit()
    assert "REVOKED" in pdf_text(render_certificate_pdf(stored(db, certificate.number), settings=settings))


def test_only_the_holder_or_an_administrator_downloads_the_pdf(
    client: TestClient,
    db: Session,
    settings: Settings,
    course: Course,
    graduate: Callable[..., User],
    person: Callable[..., User],
    admin: User,
) -> None:
    certificate = issue(db, settings, graduate(), course)
    stranger = person()
    assert client.get(f"/certificates/{certificate.number}/pdf").status_code in (303, 401)
    login(client, stranger.email)
    assert client.get(f"/certificates/{certificate.number}/pdf").status_code == 404
    client.cookies.clear()
    login(client, admin.email)
    assert client.get(f"/certificates/{certificate.number}/pdf").status_code == 200
