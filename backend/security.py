"""Password hashing, session tokens (JWT), CSRF tokens and encryption of personal data at rest."""

from __future__ import annotations

import base64
import hashlib
import hmac
import secrets
import threading
import time
from dataclasses import dataclass
from datetime import datetime
from functools import lru_cache

from cryptography.fernet import Fernet, InvalidToken
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.kdf.hkdf import HKDF
from jose import JWTError, jwt
from passlib.context import CryptContext

JWT_ALGORITHM = "HS256"
SESSION_COOKIE = "academy_session"
CSRF_COOKIE = "academy_csrf"
CSRF_FIELD = "csrf_token"
CSRF_HEADER = "x-csrf-token"


@lru_cache
def password_context(fast: bool = False) -> CryptContext:
    """argon2id; `fast` lowers the cost for the test suite only (ACADEMY_ENV=test)."""
    if fast:
        return CryptContext(
            schemes=["argon2"], argon2__memory_cost=1024, argon2__time_cost=1, argon2__parallelism=1
        )
    return CryptContext(schemes=["argon2"], deprecated="auto")


def hash_password(password: str, *, fast: bool = False) -> str:
    return password_context(fast).hash(password)


def verify_password(password: str, password_hash: str, *, fast: bool = False) -> bool:
    try:
        return password_context(fast).verify(password, password_hash)
    except (ValueError, TypeError):
        return False


def dummy_verify(*, fast: bool = False) -> None:
    """Spend the time a real verification would, so unknown emails are not told apart by timing."""
    password_context(fast).dummy_verify()


@dataclass(frozen=True)
class SessionClaims:
    user_id: int
    session_id: str


def create_session_token(secret: str, *, user_id: int, session_id: str, expires_at: datetime) -> str:
    claims = {"sub": str(user_id), "sid": session_id, "exp": int(expires_at.timestamp()), "typ": "session"}
    return jwt.encode(claims, secret, algorithm=JWT_ALGORITHM)


def decode_session_token(secret: str, token: str) -> SessionClaims | None:
    """The claims of a genuine, unexpired session token. A browser sends the same token with every
    request, so verified tokens are remembered (with their expiry, which is checked again every time)."""
    cached = _verified_tokens.get((secret, token))
    if cached is not None:
        claims, expires = cached
        return claims if time.time() < expires else None
    try:
        decoded = jwt.decode(token, secret, algorithms=[JWT_ALGORITHM])
    except JWTError:
        return None
    if decoded.get("typ") != "session" or not isinstance(decoded.get("sid"), str):
        return None
    try:
        claims = SessionClaims(user_id=int(decoded["sub"]), session_id=decoded["sid"])
        expires = float(decoded["exp"])
    except (KeyError, TypeError, ValueError):
        return None
    with _verified_lock:
        if len(_verified_tokens) >= _VERIFIED_MAX:
            _verified_tokens.clear()
        _verified_tokens[(secret, token)] = (claims, expires)
    return claims


_VERIFIED_MAX = 10_000
_verified_tokens: dict[tuple[str, str], tuple[SessionClaims, float]] = {}
_verified_lock = threading.Lock()


def new_session_id() -> str:
    return secrets.token_urlsafe(24)


# CSRF: the cookie holds "nonce.signature"; forms and htmx send the same value back. A value that the
# server did not sign (a cookie planted by another site) is refused.
def new_csrf_token(secret: str) -> str:
    nonce = secrets.token_urlsafe(18)
    return f"{nonce}.{_sign(secret, nonce)}"


def csrf_token_is_valid(secret: str, token: str | None) -> bool:
    if not token or "." not in token:
        return False
    nonce, signature = token.rsplit(".", 1)
    return hmac.compare_digest(signature, _sign(secret, nonce))


def _sign(secret: str, value: str) -> str:
    digest = hmac.new(_derive(secret, b"csrf"), value.encode(), hashlib.sha256).digest()
    return base64.urlsafe_b64encode(digest[:18]).decode()


def sign_value(secret: str, value: str) -> str:
    """value + "." + HMAC; used for small cookies such as flash messages."""
    digest = hmac.new(_derive(secret, b"cookie"), value.encode(), hashlib.sha256).digest()
    return value + "." + base64.urlsafe_b64encode(digest[:18]).decode()


def unsign_value(secret: str, signed: str | None) -> str | None:
    if not signed or "." not in signed:
        return None
    value, _sig = signed.rsplit(".", 1)
    return value if hmac.compare_digest(sign_value(secret, value), signed) else None


# Personal data at rest. The keys derive from ACADEMY_SECRET_KEY with distinct labels, so a changed
# secret key makes stored ID numbers unreadable: see docs/operations.md before rotating it.
@lru_cache
def _derive(secret: str, label: bytes) -> bytes:
    hkdf = HKDF(algorithm=hashes.SHA256(), length=32, salt=b"broker-academy", info=label)
    return hkdf.derive(secret.encode())


def _fernet(secret: str) -> Fernet:
    return Fernet(base64.urlsafe_b64encode(_derive(secret, b"personal-data")))


def encrypt_field(secret: str, value: str) -> str:
    return _fernet(secret).encrypt(value.encode()).decode()


def decrypt_field(secret: str, token: str | None) -> str | None:
    if not token:
        return None
    try:
        return _fernet(secret).decrypt(token.encode()).decode()
    except InvalidToken:
        return None


def blind_index(secret: str, value: str) -> str:
    """A keyed hash for finding a record by an encrypted value (an ID number) without decrypting all."""
    return hmac.new(_derive(secret, b"blind-index"), value.encode(), hashlib.sha256).hexdigest()
