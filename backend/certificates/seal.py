"""The issuer's seal on the certificates: an image an administrator uploads at /admin/certificates/seal
(PNG or JPEG, at most 1 MB), kept in the data dir, shown as a preview and removable. The PDF uses the
uploaded seal when there is one, else the image of the `certificate_seal_image` setting, else a drawn
seal with the issuer's name. Upload and removal are audit-logged.

The upload is checked (size, that it is a PNG or JPEG Pillow can decode, its dimensions) before anything
changes, then stored as a PNG scaled to at most SEAL_MAX_SIDE pixels: enough for the 42 mm seal at print
resolution, and small enough to embed in every PDF."""

from __future__ import annotations

import hashlib
import io
import os
import secrets
from pathlib import Path
from typing import Annotated

from fastapi import APIRouter, Depends, File, Request, UploadFile
from fastapi.responses import FileResponse, Response
from PIL import Image, UnidentifiedImageError

from backend.accounts.deps import AdminUser, SettingsDep, get_admin_user
from backend.audit import record_event
from backend.config import Settings
from backend.db import SessionDep
from backend.errors import NotFound
from backend.i18n import _
from backend.web import redirect, render

MAX_BYTES = 1_000_000
MIN_SIDE = 64  # pixels: anything smaller prints as a blur
MAX_SIDE = 6000  # pixels: larger is refused before it is decoded
SEAL_MAX_SIDE = 600  # pixels of the stored seal (42 mm at about 360 dpi)
FORMATS = {"PNG", "JPEG"}
PAGE = "certificates/seal.html"

router = APIRouter(
    prefix="/admin/certificates/seal",
    tags=["certificates"],
    dependencies=[Depends(get_admin_user)],
    include_in_schema=False,
)


class SealProblem(ValueError):
    """An upload that cannot be the seal; the message says why, for the person who uploaded it."""


def uploaded_seal_path(settings: Settings) -> Path:
    return settings.data_dir / "certificates" / "seal.png"


def seal_source(settings: Settings) -> tuple[str, Path | None]:
    """Which seal the certificates carry: ("uploaded", path), ("configured", path) or ("drawn", None)."""
    uploaded = uploaded_seal_path(settings)
    if uploaded.is_file():
        return "uploaded", uploaded
    configured = _configured_image(settings)
    return ("configured", configured) if configured is not None else ("drawn", None)


def _configured_image(settings: Settings) -> Path | None:
    configured = settings.certificate_seal_image
    return configured if configured is not None and configured.is_file() else None


def seal_image(settings: Settings) -> Path | None:
    """The image the PDF places as the seal, or None for the drawn seal."""
    return seal_source(settings)[1]


def prepared_seal(data: bytes) -> bytes:
    """The upload checked and made into the stored PNG; raises SealProblem with a clear message."""
    if not data:
        raise SealProblem(_("Choose a PNG or JPEG image of the seal."))
    if len(data) > MAX_BYTES:
        raise SealProblem(_("The image is larger than 1 MB; make it smaller and upload it again."))
    try:
        with Image.open(io.BytesIO(data)) as probe:
            kind, (width, height) = probe.format, probe.size
            if kind not in FORMATS:
                raise SealProblem(_("The seal must be a PNG or JPEG image."))
            if max(width, height) > MAX_SIDE or min(width, height) < MIN_SIDE:
                raise SealProblem(
                    _(
                        "The image is %(width)d × %(height)d pixels; a seal must be %(min)d to %(max)d pixels a side."
                    )
                    % {"width": width, "height": height, "min": MIN_SIDE, "max": MAX_SIDE}
                )
            probe.load()  # decode it all: a truncated or corrupt file fails here, not in a PDF later
            image = probe.convert("RGBA" if _has_transparency(probe) else "RGB")
    except SealProblem:
        raise
    except (UnidentifiedImageError, OSError, ValueError, Image.DecompressionBombError):
        raise SealProblem(_("This file is not a PNG or JPEG image that can be read.")) from None
    image.thumbnail((SEAL_MAX_SIDE, SEAL_MAX_SIDE), Image.Resampling.LANCZOS)
    out = io.BytesIO()
    image.save(out, format="PNG", optimize=True)
    return out.getvalue()


def _has_transparency(image: Image.Image) -> bool:
    return image.mode in ("RGBA", "LA", "PA") or (image.mode == "P" and "transparency" in image.info)


def store_seal(settings: Settings, png: bytes) -> None:
    """Replace the stored seal in one step (written beside it, then renamed over it)."""
    target = uploaded_seal_path(settings)
    target.parent.mkdir(parents=True, exist_ok=True)
    tmp = target.with_name(f".{target.name}.{os.getpid()}.{secrets.token_hex(4)}")
    try:
        tmp.write_bytes(png)
        os.replace(tmp, target)
    finally:
        tmp.unlink(missing_ok=True)


def _ip(request: Request) -> str:
    return request.client.host if request.client else ""


def _page(request: Request, settings: Settings, *, error: str = "", status_code: int = 200) -> Response:
    source, path = seal_source(settings)
    version = hashlib.sha256(path.read_bytes()).hexdigest()[:12] if source == "uploaded" and path else ""
    context = {
        "source": source,
        "version": version,
        "issuer": settings.certificate_issuer_name,
        "configured": settings.certificate_seal_image,
        "error": error,
        "max_kb": MAX_BYTES // 1000,
    }
    return render(request, PAGE, context, status_code=status_code)


@router.get("")
def seal_page(request: Request, settings: SettingsDep) -> Response:
    return _page(request, settings)


@router.get("/image.png")
def seal_preview(settings: SettingsDep) -> Response:
    path = uploaded_seal_path(settings)
    if not path.is_file():
        raise NotFound(_("No seal has been uploaded."))
    return FileResponse(path, media_type="image/png", headers={"Cache-Control": "private, no-store"})


@router.post("")
def upload_seal(
    request: Request,
    session: SessionDep,
    settings: SettingsDep,
    actor: AdminUser,
    file: Annotated[UploadFile | None, File()] = None,
) -> Response:
    data = file.file.read(MAX_BYTES + 1) if file is not None else b""
    try:
        png = prepared_seal(data)
    except SealProblem as problem:
        return _page(request, settings, error=str(problem), status_code=422)
    replaced = uploaded_seal_path(settings).is_file()
    record_event(
        session,
        actor=actor,
        action="certificate.seal_uploaded",
        target_type="certificate_seal",
        before={"seal": "uploaded" if replaced else seal_source(settings)[0]},
        after={
            "seal": "uploaded",
            "filename": (file.filename or "") if file is not None else "",
            "bytes": len(data),
            "sha256": hashlib.sha256(png).hexdigest(),
        },
        ip=_ip(request),
    )
    session.flush()  # the audit event is written (or fails) before the file changes
    store_seal(settings, png)
    return redirect(request, "/admin/certificates/seal", flash=_("The seal has been uploaded."))


@router.post("/remove")
def remove_seal(request: Request, session: SessionDep, settings: SettingsDep, actor: AdminUser) -> Response:
    path = uploaded_seal_path(settings)
    if not path.is_file():
        return redirect(
            request, "/admin/certificates/seal", flash=_("No seal has been uploaded."), category="info"
        )
    record_event(
        session,
        actor=actor,
        action="certificate.seal_removed",
        target_type="certificate_seal",
        before={"seal": "uploaded", "sha256": hashlib.sha256(path.read_bytes()).hexdigest()},
        after={"seal": "configured" if _configured_image(settings) else "drawn"},
        ip=_ip(request),
    )
    session.flush()
    path.unlink(missing_ok=True)
    return redirect(request, "/admin/certificates/seal", flash=_("The seal has been removed."))
