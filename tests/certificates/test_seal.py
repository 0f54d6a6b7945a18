"""The issuer's seal: an administrator uploads a PNG or JPEG at /admin/certificates/seal (linked from the
certificates page), sees it, and the certificate PDFs carry it; removing it brings back the drawn seal.
A file that is not a PNG or JPEG, is corrupt or is too large is refused with a clear message and
changes nothing. Upload and removal are audit-logged."""

from __future__ import annotations

import hashlib
import io
import re
from collections.abc import Callable, Iterator

import pytest
from fastapi.testclient import TestClient
from httpx import Response
from PIL import Image, ImageDraw
from pypdf import PdfReader
from sqlmodel import Session, col, select

from backend.certificates import fonts
from backend.certificates.seal import uploaded_seal_path
from backend.config import Settings
from backend.models import AuditEvent, Course, User
from tests.certificates.support import issue
from tests.support import csrf_token, login, visible_text

SEAL_PAGE = "/admin/certificates/seal"


@pytest.fixture(autouse=True)
def _no_seal_before_or_after(settings: Settings, prepared_fonts: fonts.FontFiles) -> Iterator[None]:
    """The seal lives in the data dir, which the test run shares: start and end without one."""
    uploaded_seal_path(settings).unlink(missing_ok=True)
    yield
    uploaded_seal_path(settings).unlink(missing_ok=True)


def seal_png(size: int = 240, kind: str = "PNG") -> bytes:
    image = Image.new("RGBA" if kind == "PNG" else "RGB", (size, size), (255, 255, 255, 0))
    ImageDraw.Draw(image).ellipse((8, 8, size - 8, size - 8), outline=(205, 30, 30), width=10)
    out = io.BytesIO()
    image.save(out, format=kind)
    return out.getvalue()


def upload(client: TestClient, content: bytes, name: str = "seal.png", media: str = "image/png") -> Response:
    """As a browser does it: the upload form's CSRF field and the file, multipart."""
    form = client.get(SEAL_PAGE).text.split('enctype="multipart/form-data"', 1)[1]
    token = re.search(r'name="csrf_token" value="([^"]+)"', form)
    assert token is not None
    return client.post(SEAL_PAGE, data={"csrf_token": token.group(1)}, files={"file": (name, content, media)})


def images_in(pdf: bytes) -> list[tuple[int, int]]:
    """(width, height) of every image XObject on the certificate's page."""
    page = PdfReader(io.BytesIO(pdf)).pages[0]
    xobjects = page["/Resources"].get("/XObject") or {}
    found = []
    for ref in xobjects.values():
        xobject = ref.get_object()
        if xobject.get("/Subtype") == "/Image":
            found.append((int(xobject["/Width"]), int(xobject["/Height"])))
    return found


def test_an_uploaded_seal_is_shown_and_goes_on_the_pdf_until_it_is_removed(
    client: TestClient,
    db: Session,
    settings: Settings,
    admin: User,
    course: Course,
    graduate: Callable[..., User],
) -> None:
    certificate = issue(db, settings, graduate(), course)
    login(client, admin.email)
    assert f'href="{SEAL_PAGE}"' in client.get("/admin/certificates").text
    page = visible_text(client.get(SEAL_PAGE).text)
    assert f"以发证机构名称“{settings.certificate_issuer_name}”绘制的圆形红色印章" in page
    pdf_url = f"/certificates/{certificate.number}/pdf"
    drawn = client.get(pdf_url)
    assert drawn.status_code == 200 and images_in(drawn.content) == []

    done = upload(client, seal_png(240))
    assert done.status_code == 303 and done.headers["location"] == SEAL_PAGE
    page = client.get(SEAL_PAGE).text
    assert re.search(r'<img class="seal-preview" src="/admin/certificates/seal/image\.png\?v=\w+"', page)
    preview = client.get("/admin/certificates/seal/image.png")
    assert preview.status_code == 200 and preview.headers["content-type"] == "image/png"
    assert Image.open(io.BytesIO(preview.content)).size == (240, 240)
    with_seal = client.get(pdf_url)
    assert images_in(with_seal.content) == [(240, 240)]

    removed = client.post(f"{SEAL_PAGE}/remove", data={"csrf_token": csrf_token(client)})
    assert removed.status_code == 303
    assert client.get("/admin/certificates/seal/image.png").status_code == 404
    assert images_in(client.get(pdf_url).content) == []
    db.rollback()
    actions = db.exec(
        select(AuditEvent.action)
        .where(col(AuditEvent.action).startswith("certificate.seal"))
        .order_by(col(AuditEvent.id))
    ).all()
    assert actions == ["certificate.seal_uploaded", "certificate.seal_removed"]


def test_a_large_jpeg_is_kept_small_enough_for_every_pdf(
    client: TestClient, settings: Settings, admin: User
) -> None:
    login(client, admin.email)
    assert upload(client, seal_png(1500, "JPEG"), "seal.jpg", "image/jpeg").status_code == 303
    stored = Image.open(uploaded_seal_path(settings))
    assert stored.format == "PNG" and stored.size == (600, 600)


@pytest.mark.parametrize(
    ("content", "name", "media", "message"),
    [
        (b"%PDF-1.4 not an image", "seal.png", "image/png", "这个文件不是可以读取的 PNG 或 JPEG 图片"),
        (seal_png()[:200], "seal.png", "image/png", "这个文件不是可以读取的 PNG 或 JPEG 图片"),
        (seal_png(kind="GIF"), "seal.gif", "image/gif", "印章必须是 PNG 或 JPEG 图片"),
        (seal_png(32), "seal.png", "image/png", "印章图片每边须为 64 到 6000 像素"),
        (b"\x89PNG" + b"\0" * 1_000_001, "seal.png", "image/png", "图片大于 1 MB"),
        (b"", "seal.png", "image/png", "请选择印章的 PNG 或 JPEG 图片"),
    ],
    ids=["not-an-image", "truncated", "gif", "too-small", "too-large", "empty"],
)
def test_a_bad_file_is_refused_with_a_clear_message_and_changes_nothing(
    client: TestClient,
    db: Session,
    settings: Settings,
    admin: User,
    content: bytes,
    name: str,
    media: str,
    message: str,
) -> None:
    login(client, admin.email)
    assert upload(client, seal_png(300)).status_code == 303
    before = hashlib.sha256(uploaded_seal_path(settings).read_bytes()).hexdigest()
    refused = upload(client, content, name, media)
    assert refused.status_code == 422
    error = re.search(r'<p class="error" id="e-file">(.*?)</p>', refused.text, re.S)
    assert error is not None and message in visible_text(error.group(1)), refused.text
    assert hashlib.sha256(uploaded_seal_path(settings).read_bytes()).hexdigest() == before
    db.rollback()
    uploads = db.exec(select(AuditEvent).where(AuditEvent.action == "certificate.seal_uploaded")).all()
    assert len(uploads) == 1


def test_only_administrators_manage_the_seal(client: TestClient, instructor: User) -> None:
    login(client, instructor.email)
    assert client.get(SEAL_PAGE).status_code == 403
    refused = client.post(
        SEAL_PAGE, data={"csrf_token": csrf_token(client)}, files={"file": ("s.png", seal_png(), "image/png")}
    )
    assert refused.status_code == 403
