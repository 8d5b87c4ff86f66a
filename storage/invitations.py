"""Room invitations (WeChat 「自学」): remembered across restarts, so a person gets one
invitation per cooldown and a failure is reported to the admins once."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy.orm import Session

from storage.models import RoomInvitation


def last_invitation(
    session: Session, platform: str, contact_id: str, room_id: str
) -> tuple[str, datetime] | None:
    """(state, when) of the latest invitation of ``contact_id`` into ``room_id``, if any."""
    row = session.get(RoomInvitation, (platform, contact_id, room_id))
    return (row.state, row.invited_at) if row is not None else None


def note_invitation(
    session: Session,
    platform: str,
    contact_id: str,
    room_id: str,
    state: str,
    now: datetime,
    error: str | None = None,
) -> None:
    """Record an invitation going out (``sent``) or failing (``failed``, with ``error``)."""
    row = session.get(RoomInvitation, (platform, contact_id, room_id))
    if row is None:
        row = RoomInvitation(platform=platform, contact_id=contact_id, room_id=room_id)
        session.add(row)
    row.state, row.invited_at, row.error = state, now, (error or None) and error[:500]
