"""Resident ID numbers (身份证号, GB 11643-1999): validation with the ISO 7064 MOD 11-2 check character."""

from __future__ import annotations

from datetime import date

from backend.i18n import N_

MOD11_2_WEIGHTS = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)
MOD11_2_CHECK = "10X98765432"
PROVINCE_CODES = frozenset(
    {
        11,
        12,
        13,
        14,
        15,
        21,
        22,
        23,
        31,
        32,
        33,
        34,
        35,
        36,
        37,
        41,
        42,
        43,
        44,
        45,
        46,
        50,
        51,
        52,
        53,
        54,
        61,
        62,
        63,
        64,
        65,
        71,
        81,
        82,
        83,
    }
)


def mod11_2_check_char(digits: str) -> str:
    """ISO 7064 MOD 11-2 check character for a string of digits (weights 2^(n) mod 11, right to left)."""
    total = 0
    for position, char in enumerate(reversed(digits), start=2):
        total += int(char) * pow(2, position - 1, 11)
    return "0123456789X"[(12 - total % 11) % 11]


def normalise_id_number(value: str) -> str:
    return (
        value.strip()
        .replace(" ", "")
        .upper()
        .translate(str.maketrans("０１２３４５６７８９ｘＸ", "0123456789XX"))
    )


def id_number_problem(value: str) -> str | None:
    """None when valid, else the reason as a message id (callers translate it with `_`)."""
    number = normalise_id_number(value)
    if len(number) != 18:
        return N_("An ID number has 18 characters.")
    if not number[:17].isdigit() or not (number[17].isdigit() or number[17] == "X"):
        return N_("An ID number is 17 digits followed by a digit or X.")
    if int(number[:2]) not in PROVINCE_CODES:
        return N_("The first two digits are not a province code.")
    try:
        date(int(number[6:10]), int(number[10:12]), int(number[12:14]))
    except ValueError:
        return N_("Digits 7 to 14 are not a valid date of birth.")
    if mod11_2_check_char(number[:17]) != number[17]:
        return N_("The check character does not match: the number has a typing error.")
    return None


def mask_id_number(number: str | None) -> str:
    """First 6 + last 4, as shown everywhere unless an administrator asks for the full number."""
    if not number:
        return ""
    return number[:6] + "*" * (len(number) - 10) + number[-4:]


def mask_phone(phone: str | None) -> str:
    if not phone:
        return ""
    return phone[:3] + "****" + phone[-4:] if len(phone) >= 7 else "****"
