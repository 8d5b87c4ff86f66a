"""State the 公众号 API client shares between processes (access token, upload media ids).

:class:`SharedState` is a small key-value store with expiry on the ``mp_state`` table. Its
``get``/``set``/``delete`` have the signatures of wechatpy's ``SessionStorage``, so the client
keeps its access token here: every process of the bot reads the same token, and a process that
fetched a new one does not leave the others calling with an invalidated one.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime, timedelta

from sqlalchemy import delete, select
from sqlalchemy.exc import IntegrityError

from bot.model import utcnow
from storage.db import Database
from storage.models import MpState


class SharedState:
    """``get(key)``, ``set(key, value, ttl_seconds)``, ``delete(key)`` on the database."""

    def __init__(self, db: Database, *, clock: Callable[[], datetime] = utcnow) -> None:
        self.db = db
        self.clock = clock

    def get(self, key: str, default: str | None = None) -> str | None:
        """The value of ``key``, or ``default`` when it is missing or expired."""
        with self.db.session() as session:
            row = session.scalars(select(MpState).where(MpState.key == key)).one_or_none()
            if row is None or (row.expires_at is not None and row.expires_at <= self.clock()):
                return default
            return row.value

    def set(self, key: str, value: str, ttl: float | None = None) -> None:
        """Store ``value`` under ``key``, expiring after ``ttl`` seconds (None: never)."""
        expires = None if ttl is None else self.clock() + timedelta(seconds=float(ttl))
        for _ in range(2):  # a concurrent first insert of the same key: update it instead
            try:
                with self.db.session() as session:
                    row = session.get(MpState, key)
                    if row is None:
                        session.add(MpState(key=key, value=value, expires_at=expires))
                    else:
                        row.value, row.expires_at = value, expires
                return
            except IntegrityError:
                continue

    def delete(self, key: str) -> None:
        with self.db.session() as session:
            session.execute(delete(MpState).where(MpState.key == key))
