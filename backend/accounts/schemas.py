"""Request and response shapes for accounts (never the table model itself)."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict


class Registration(BaseModel):
    """Every field defaults to "": an empty form field arrives as missing, and the service, not the
    parser, says what is wrong with it next to the field."""

    email: str = ""
    name: str = ""
    password: str = ""
    password_confirm: str = ""
    phone: str = ""
    id_number: str = ""
    organisation: str = ""
    region: str = ""


class ProfileUpdate(BaseModel):
    name: str = ""
    phone: str = ""
    organisation: str = ""
    region: str = ""


class UserPublic(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    email: str
    name: str
    role: str
    organisation: str
    region: str
    id_number_masked: str
    phone_masked: str
    is_active: bool


class TokenResponse(BaseModel):
    access_token: str
    token_type: str = "bearer"
    expires_in: int
