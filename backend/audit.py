"""The one way every feature records an administrative act in the audit log."""

from __future__ import annotations

from typing import Any

from sqlmodel import Session

from backend.models import AuditEvent, User


def record_event(
    session: Session,
    *,
    actor: User | None,
    action: str,
    target_type: str = "",
    target_id: str | int = "",
    before: dict[str, Any] | None = None,
    after: dict[str, Any] | None = None,
    ip: str = "",
) -> AuditEvent:
    """Add an AuditEvent in the caller's transaction: it is kept exactly when the act itself is."""
    event = AuditEvent(
        actor_id=actor.id if actor else None,
        actor_label=actor.email if actor else "system",
        action=action,
        target_type=target_type,
        target_id=str(target_id),
        before=before,
        after=after,
        ip=ip,
    )
    session.add(event)
    session.flush()
    return event
