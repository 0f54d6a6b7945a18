"""The text of every email the platform sends, one function per kind, in Chinese (the product's language).

Callers build a message here and hand it to `notify`:

    message = messages.password_reset_message(name=user.name, link=link, minutes=60)
    notify(session, user=user, to_email=user.email, kind=message.kind,
           subject=message.subject, body=message.body)
"""

from __future__ import annotations

from dataclasses import dataclass

PLATFORM_NAME = "技术经纪人学院"
SIGNATURE = f"\n\n——\n{PLATFORM_NAME}\n（本邮件由系统自动发送，请勿直接回复。）\n"


@dataclass(frozen=True)
class EmailText:
    kind: str
    subject: str
    body: str


def _subject(text: str) -> str:
    return f"【{PLATFORM_NAME}】{text}"


def _greeting(name: str) -> str:
    return f"{name.strip() or '学员'}，您好：\n\n"


def password_reset_message(*, name: str, link: str, minutes: int) -> EmailText:
    body = (
        _greeting(name)
        + f"我们收到了为您的{PLATFORM_NAME}账户重置密码的请求。请在 {minutes} 分钟内打开下面的链接，设置新密码：\n\n"
        + f"{link}\n\n"
        + "该链接只能使用一次。设置新密码后，所有已登录的设备都会退出登录。\n"
        + "如果这不是您本人的操作，请忽略本邮件，您的密码不会改变。"
        + SIGNATURE
    )
    return EmailText("password_reset", _subject("重置密码"), body)


def account_created_message(
    *, name: str, email: str, link: str, days: int, class_name: str = ""
) -> EmailText:
    purpose = f"，用于参加「{class_name}」" if class_name else ""
    body = (
        _greeting(name)
        + f"培训基地已为您开通{PLATFORM_NAME}的学员账户{purpose}。\n"
        + f"请在 {days} 天内打开下面的链接，设置您的登录密码：\n\n"
        + f"{link}\n\n"
        + f"设置完成后，请使用本邮箱地址（{email}）和新密码登录。\n"
        + "链接过期后，可在登录页点击“忘记密码？”重新获取。"
        + SIGNATURE
    )
    return EmailText("account_created", _subject("您的学员账户已开通"), body)


def enrolment_confirmed_message(*, name: str, class_name: str, link: str, starts_on: str = "") -> EmailText:
    when = f"开班日期：{starts_on}。\n" if starts_on else ""
    body = (
        _greeting(name)
        + f"您已成功报名「{class_name}」。\n"
        + when
        + f"登录后即可查看课程安排并开始学习：\n\n{link}"
        + SIGNATURE
    )
    return EmailText("enrolment_confirmed", _subject(f"报名确认：{class_name}"), body)


def exam_result_message(
    *, name: str, exam_title: str, passed: bool, score: float, pass_score: float, link: str
) -> EmailText:
    outcome = "恭喜您通过考试。" if passed else "很遗憾，本次考试未通过，您可以按规定再次参加考试。"
    body = (
        _greeting(name)
        + f"您在「{exam_title}」中的成绩为 {score:g} 分（合格线 {pass_score:g} 分）。{outcome}\n"
        + f"查看成绩详情：\n\n{link}"
        + SIGNATURE
    )
    return EmailText("exam_result", _subject(f"考试成绩：{exam_title}"), body)


def certificate_issued_message(*, name: str, certificate_title: str, number: str, link: str) -> EmailText:
    body = (
        _greeting(name)
        + f"恭喜！您的「{certificate_title}」证书已经颁发，证书编号 {number}。\n"
        + f"下载证书或分享证书验证链接：\n\n{link}"
        + SIGNATURE
    )
    return EmailText("certificate_issued", _subject(f"证书已颁发：{certificate_title}"), body)
