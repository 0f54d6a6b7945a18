"""The renewal emails, in Chinese like every other message (backend.notifications.messages)."""

from __future__ import annotations

from backend.notifications.messages import PLATFORM_NAME, SIGNATURE, EmailText


def _subject(text: str) -> str:
    return f"【{PLATFORM_NAME}】{text}"


def _greeting(name: str) -> str:
    return f"{name.strip() or '学员'}，您好：\n\n"


def expiry_reminder_message(
    *,
    name: str,
    certificate_title: str,
    number: str,
    expires_on: str,
    days_left: int,
    hours_earned: str,
    hours_needed: str,
    link: str,
) -> EmailText:
    if float(hours_earned) >= float(hours_needed):
        hours = f"您在本有效期内已取得继续教育 {hours_earned} 学时，已达到续期所需的 {hours_needed} 学时，可以办理续期。\n"
    else:
        hours = (
            f"续期需要在本有效期内取得继续教育 {hours_needed} 学时，您目前已取得 {hours_earned} 学时。"
            "可通过完成继续教育课程（如「继续教育：法规更新」）的模块或参加继续教育面授课取得学时。\n"
        )
    body = (
        _greeting(name)
        + f"您的「{certificate_title}」（证书编号 {number}）将于 {expires_on} 到期，距今还有 {days_left} 天。\n"
        + hours
        + f"查看学时并办理续期：\n\n{link}\n\n"
        + "续期后证书编号不变。证书到期未续期的，在证书验证页面将显示为“已过期”。"
        + SIGNATURE
    )
    return EmailText("certificate_expiry_reminder", _subject(f"证书将于{days_left}天后到期：{number}"), body)


def renewed_message(
    *, name: str, certificate_title: str, number: str, expires_on: str, link: str
) -> EmailText:
    body = (
        _greeting(name)
        + f"您的「{certificate_title}」已续期，证书编号 {number} 不变，新的有效期至 {expires_on}。\n"
        + "此前下载的电子凭证已被新凭证取代，请在“我的证书”中下载新的证书和凭证。\n"
        + f"证书验证链接：\n\n{link}"
        + SIGNATURE
    )
    return EmailText("certificate_renewed", _subject(f"证书已续期：{number}"), body)
