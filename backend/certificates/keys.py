"""The ES256 (P-256) keys that sign credentials: PEM files in `{data_dir}/keys/` (mode 0600), named
`{created}.{kid}.pem` so the newest one signs and every older one stays published for verification.

A kid is the key's RFC 7638 JWK thumbprint: URL-safe, stable, and never reused (a new key is a new
random key). Credentials name their key by URL, `{public_base_url}/keys/{kid}`, which serves the JWK;
the JWK Set at /.well-known/jwks.json lists every key, current and retired, each with the issuer id.
A retired key's private part may be deleted and its public part kept as `{created}.{kid}.pub.pem`.
"""

from __future__ import annotations

import base64
import hashlib
import json
import logging
import os
import secrets
import threading
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec

from backend.config import Settings

log = logging.getLogger("academy.certificates")
KEY_DIR_NAME = "keys"
_CACHE: dict[Path, tuple[tuple[tuple[str, int], ...], list[SigningKey]]] = {}
_CACHE_LOCK = threading.Lock()


def b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


@dataclass(frozen=True)
class SigningKey:
    kid: str
    created_at: datetime
    public_key: ec.EllipticCurvePublicKey
    private_pem: bytes | None  # None for a retired key kept public-only
    path: Path

    def public_jwk(self, settings: Settings) -> dict[str, Any]:
        """The public JWK as published: its kid is the URL that serves it (as in the JWT header)."""
        return {**jwk_members(self.public_key), "kid": key_url(settings, self.kid)} | {
            "alg": "ES256",
            "use": "sig",
            "iss": issuer_id(settings),
        }


def issuer_id(settings: Settings) -> str:
    return f"{settings.public_base_url}/issuer"


def key_url(settings: Settings, kid: str) -> str:
    return f"{settings.public_base_url}/keys/{kid}"


def jwk_members(public_key: ec.EllipticCurvePublicKey) -> dict[str, str]:
    numbers = public_key.public_numbers()
    return {
        "kty": "EC",
        "crv": "P-256",
        "x": b64url(numbers.x.to_bytes(32, "big")),
        "y": b64url(numbers.y.to_bytes(32, "big")),
    }


def thumbprint(public_key: ec.EllipticCurvePublicKey) -> str:
    """RFC 7638: SHA-256 of the required members in lexicographic order, no whitespace."""
    members = jwk_members(public_key)
    canonical = json.dumps({k: members[k] for k in ("crv", "kty", "x", "y")}, separators=(",", ":"))
    return b64url(hashlib.sha256(canonical.encode("ascii")).digest())


def key_dir(settings: Settings) -> Path:
    return settings.data_dir / KEY_DIR_NAME


def load_keys(settings: Settings) -> list[SigningKey]:
    """Every key, oldest first; re-read only when the folder's files change (another process rotated)."""
    folder = key_dir(settings)
    if not folder.is_dir():
        return []
    listing = tuple(sorted((p.name, p.stat().st_mtime_ns) for p in folder.glob("*.pem")))
    with _CACHE_LOCK:
        cached = _CACHE.get(folder)
        if cached is not None and cached[0] == listing:
            return cached[1]
    keys = [key for name, _mtime in listing if (key := _read_key(folder / name)) is not None]
    keys.sort(key=lambda key: (key.created_at, key.kid))
    with _CACHE_LOCK:
        _CACHE[folder] = (listing, keys)
    return keys


def _read_key(path: Path) -> SigningKey | None:
    parts = path.name.split(".")
    if len(parts) < 3:
        return None
    try:
        created = datetime.strptime(parts[0], "%Y%m%dT%H%M%S%fZ").replace(tzinfo=UTC)
        data = path.read_bytes()
        if parts[-2] == "pub":
            public = serialization.load_pem_public_key(data)
            private_pem = None
        else:
            private = serialization.load_pem_private_key(data, password=None)
            if not isinstance(private, ec.EllipticCurvePrivateKey):
                return None
            public = private.public_key()
            private_pem = data
    except (ValueError, OSError):
        log.warning("ignoring unreadable key file %s", path)
        return None
    if not isinstance(public, ec.EllipticCurvePublicKey) or public.curve.name != "secp256r1":
        return None
    kid = thumbprint(public)
    if kid != parts[1]:
        log.warning("key file %s does not hold the key its name says; ignored", path)
        return None
    return SigningKey(kid=kid, created_at=created, public_key=public, private_pem=private_pem, path=path)


def find_key(settings: Settings, kid: str) -> SigningKey | None:
    return next((key for key in load_keys(settings) if key.kid == kid), None)


def current_key(settings: Settings) -> SigningKey:
    """The newest key with its private part; made now when there is none (`academy init` makes the
    first one, this covers a data directory set up without it)."""
    signing = [key for key in load_keys(settings) if key.private_pem is not None]
    if signing:
        return signing[-1]
    log.warning("no signing key in %s: creating one", key_dir(settings))
    return create_key(settings)


def ensure_key(settings: Settings) -> tuple[SigningKey, bool]:
    """The current key, and whether it was created now (for `academy init`)."""
    signing = [key for key in load_keys(settings) if key.private_pem is not None]
    if signing:
        return signing[-1], False
    return create_key(settings), True


def create_key(settings: Settings) -> SigningKey:
    """A new P-256 key, written with mode 0600 under a name no other key can have; it signs from now on."""
    folder = key_dir(settings)
    folder.mkdir(parents=True, exist_ok=True)
    os.chmod(folder, 0o700)
    private = ec.generate_private_key(ec.SECP256R1())
    pem = private.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    )
    created = datetime.now(UTC)
    kid = thumbprint(private.public_key())
    path = folder / f"{created:%Y%m%dT%H%M%S%f}Z.{kid}.pem"
    tmp = folder / f".{kid}.{secrets.token_hex(4)}.tmp"
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "wb") as handle:
        handle.write(pem)
    os.replace(tmp, path)
    key = _read_key(path)
    assert key is not None
    return key


def is_current(settings: Settings, kid: str) -> bool:
    """Whether `kid` is the key that signs now (the others are retired but stay published)."""
    signing = [key for key in load_keys(settings) if key.private_pem is not None]
    return bool(signing) and signing[-1].kid == kid


def jwks(settings: Settings) -> dict[str, Any]:
    return {"keys": [key.public_jwk(settings) for key in load_keys(settings)]}
