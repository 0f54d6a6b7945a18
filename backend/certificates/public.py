"""What anyone may read without signing in: the verification pages (/verify, /verify/{number}), the
credentials themselves (/credentials/{id}), the keys (/.well-known/jwks.json, /keys/{kid}), the
revocation list (/status/revocations), and the issuer's Profile and the achievements they point to.

The machine-readable ones carry `Access-Control-Allow-Origin: *` so a verifier's web page can fetch them,
and no personal data beyond what the credential itself holds."""

from __future__ import annotations

import json
from typing import Annotated, Any

from fastapi import APIRouter, File, Form, Request, UploadFile
from fastapi.responses import RedirectResponse, Response
from sqlmodel import select

from backend.accounts.deps import SettingsDep
from backend.certificates import credential as vc
from backend.certificates import keys, service
from backend.certificates.verify import public_facts, verify_credential, verify_number
from backend.db import SessionDep
from backend.errors import NotFound
from backend.i18n import _
from backend.models import Course
from backend.notifications.service import schedule_delivery
from backend.web import render

router = APIRouter(tags=["verification"])
MAX_UPLOAD_BYTES = 200_000
OPEN = {"Access-Control-Allow-Origin": "*"}


def schedule_mail(request: Request) -> None:
    """The holder's "certificate issued" email goes out once the request has committed."""
    schedule_delivery(request)


def _json(body: Any, *, media_type: str = "application/json", max_age: int = 300) -> Response:
    return Response(
        json.dumps(body, ensure_ascii=False, separators=(",", ":")),
        media_type=media_type,
        headers={**OPEN, "Cache-Control": f"public, max-age={max_age}"},
    )


# ---- verification pages -----------------------------------------------------------------------------


@router.get("/verify")
def verify_page(
    request: Request, session: SessionDep, settings: SettingsDep, number: str | None = None
) -> Response:
    """The form; a number typed into it goes to /verify/{number} unless its check character is wrong."""
    errors: dict[str, str] = {}
    if number is not None:
        result = verify_number(session, settings=settings, raw=number)
        if result.state == "mistyped" or not result.number:
            errors["number"] = result.message
        else:
            return RedirectResponse(f"/verify/{result.number}", status_code=303)
    context = {"number": number or "", "errors": errors, "checked": None, "facts": None, "pasted": ""}
    return render(request, "certificates/verify.html", context, status_code=422 if errors else 200)


@router.post("/verify")
def verify_upload(
    request: Request,
    session: SessionDep,
    settings: SettingsDep,
    credential: Annotated[str, Form()] = "",
    file: Annotated[UploadFile | None, File()] = None,
) -> Response:
    """A pasted or uploaded credential: every check, shown on the same page."""
    text = credential.strip()
    if file is not None and file.filename:
        text = (
            file.file.read(MAX_UPLOAD_BYTES + 1)[:MAX_UPLOAD_BYTES].decode("utf-8", errors="replace").strip()
        )
    errors: dict[str, str] = {}
    checked, facts = None, None
    if not text:
        errors["credential"] = _("Paste the credential, or choose its file.")
    else:
        checked = verify_credential(session, settings=settings, text=text)
        facts = public_facts(checked.certificate, settings) if checked.certificate else None
    context = {"number": "", "errors": errors, "checked": checked, "facts": facts, "pasted": credential}
    return render(
        request, "certificates/verify.html", context, block="checked", status_code=422 if errors else 200
    )


@router.get("/verify/{number}")
def verify_number_page(request: Request, session: SessionDep, settings: SettingsDep, number: str) -> Response:
    result = verify_number(session, settings=settings, raw=number)
    if result.number != number and result.state not in ("mistyped", "not_found"):
        return RedirectResponse(f"/verify/{result.number}", status_code=301)
    facts = public_facts(result.certificate, settings) if result.certificate else None
    if facts is not None and result.renewed_on is not None:
        facts["renewed_on"] = result.renewed_on.isoformat()
    context = {"result": result, "facts": facts}
    status = 404 if result.state in ("not_found", "mistyped") else 200
    response = render(request, "certificates/verified.html", context, status_code=status)
    response.headers["Cache-Control"] = "no-store"
    return response


# ---- machine-readable ------------------------------------------------------------------------------


@router.get("/.well-known/jwks.json")
def jwks(settings: SettingsDep) -> Response:
    """Every signing key, current and retired: old credentials keep verifying after a rotation."""
    return _json(keys.jwks(settings), media_type="application/jwk-set+json")


@router.get("/keys/{kid}")
def one_key(settings: SettingsDep, kid: str) -> Response:
    key = keys.find_key(settings, kid)
    if key is None:
        raise NotFound(_("There is no such key."))
    return _json(key.public_jwk(settings), media_type="application/jwk+json", max_age=86400)


@router.get("/credentials/{credential_id}")
def credential(
    request: Request, session: SessionDep, credential_id: str, format: str = "", download: bool = False
) -> Response:
    """The VC-JWT (application/jwt); its JSON with ?format=json, a .json suffix, or Accept: application/json."""
    wants_json = credential_id.endswith(".json") or format == "json"
    accept = request.headers.get("accept", "")
    wants_json = wants_json or any(
        t in accept for t in ("application/json", "application/ld+json", "application/vc")
    )
    uuid = credential_id.removesuffix(".json").removesuffix(".jwt")
    certificate, token = service.credential_jwt_of(session, uuid)  # current, or superseded by a renewal
    headers = {**OPEN, "Cache-Control": "public, max-age=300", "Vary": "Accept"}
    if download:
        suffix = "json" if wants_json else "jwt"
        headers["Content-Disposition"] = f'attachment; filename="credential-{certificate.number}.{suffix}"'
    if wants_json:
        body = json.dumps(vc.credential_of(token), ensure_ascii=False, indent=2)
        return Response(
            body,
            media_type="application/ld+json" if "ld+json" in accept else "application/json",
            headers=headers,
        )
    return Response(token, media_type="application/jwt", headers=headers)


@router.get("/status/revocations")
def revocations(session: SessionDep, settings: SettingsDep) -> Response:
    """1EdTech revocation list: credential ids and reasons only, no personal data."""
    url = f"{settings.public_base_url}/status/revocations"
    revoked = [
        {
            "id": vc.credential_url(settings, c.credential_uuid or ""),
            "revoked": True,
            "revocationReason": c.revocation_reason or "",
        }
        for c in service.revocation_list(session)
    ]
    revoked += [
        {
            "id": vc.credential_url(settings, r.credential_uuid or ""),
            "revoked": True,
            "revocationReason": f"Superseded by renewal {r.renewal_count} on {r.renewed_on.isoformat()}",
        }
        for r in service.renewal_revocations(session)
    ]
    return _json({"id": url, "issuer": keys.issuer_id(settings), "revokedCredential": revoked}, max_age=60)


@router.get("/issuer")
def issuer_profile(settings: SettingsDep) -> Response:
    return _json(
        {
            "@context": vc.CONTEXTS,
            "id": keys.issuer_id(settings),
            "type": ["Profile"],
            "name": settings.certificate_issuer_name,
            "url": settings.certificate_issuer_url,
        },
        max_age=3600,
    )


@router.get("/achievements/{slug}")
def achievement(session: SessionDep, settings: SettingsDep, slug: str) -> Response:
    course = session.exec(select(Course).where(Course.slug == slug)).first()
    if course is None or course.level not in vc.COURSE_LEVELS or not course.certificate_title:
        raise NotFound(_("There is no such achievement."))
    level = int(vc.COURSE_LEVELS[course.level])
    description, criteria = service.course_texts(course, level)
    return _json(
        {
            "@context": vc.CONTEXTS,
            "id": f"{settings.public_base_url}/achievements/{slug}",
            "type": ["Achievement"],
            "achievementType": "Certificate",
            "name": course.certificate_title,
            "description": description,
            "criteria": {"narrative": criteria},
            "humanCode": vc.level_name(level),
            "inLanguage": "zh-CN",
        },
        max_age=3600,
    )
