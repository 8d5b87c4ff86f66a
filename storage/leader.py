"""Scheduler leadership: of several bot processes sharing one database, one runs the jobs.

PostgreSQL: a session-level advisory lock held on a dedicated connection for as long as the
process leads (released automatically if the process dies). SQLite: an exclusive ``flock`` on a
file beside the database (processes on one machine). Followers retry and take over when the
leader goes away. Publishing is exactly-once by database state anyway; leadership avoids
wasted work and duplicate previews.
"""

from __future__ import annotations

import contextlib
import fcntl
import logging
import os
import zlib
from pathlib import Path
from typing import IO, Any

from sqlalchemy import Engine, text
from sqlalchemy.engine import make_url

log = logging.getLogger(__name__)


def lock_key(name: str) -> int:
    """A stable signed 64-bit advisory-lock key for ``name``."""
    return zlib.crc32(f"studybot:{name}".encode()) - 2**31


class LeaderLock:
    """Try to become leader with :meth:`acquire`; :meth:`release` steps down."""

    def __init__(self, engine: Engine, name: str = "scheduler") -> None:
        self.engine = engine
        self.name = name
        self._connection: Any = None
        self._file: IO[str] | None = None

    @property
    def is_leader(self) -> bool:
        return self._connection is not None or self._file is not None

    def acquire(self) -> bool:
        """Non-blocking: True when this process now leads (or already did)."""
        if self.is_leader:
            return True
        if self.engine.dialect.name == "postgresql":
            return self._acquire_pg()
        return self._acquire_file()

    def _acquire_pg(self) -> bool:
        connection = self.engine.connect()
        try:
            got = connection.execute(
                text("SELECT pg_try_advisory_lock(:key)"), {"key": lock_key(self.name)}
            ).scalar()
            connection.commit()
        except Exception:
            connection.close()
            raise
        if got:
            self._connection = connection
            log.info("became %s leader (advisory lock)", self.name)
            return True
        connection.close()
        return False

    def _lock_path(self) -> Path:
        database = make_url(str(self.engine.url)).database or ""
        if not database or database == ":memory:":
            return Path(f"/tmp/studybot-{os.getuid()}-{self.name}.lock")
        return Path(database).with_suffix(f".{self.name}.lock")

    def _acquire_file(self) -> bool:
        handle = open(self._lock_path(), "a+", encoding="utf-8")
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            handle.close()
            return False
        handle.seek(0)
        handle.truncate()
        handle.write(str(os.getpid()))
        handle.flush()
        self._file = handle
        log.info("became %s leader (file lock %s)", self.name, self._lock_path())
        return True

    def still_held(self) -> bool:
        """Check the lock is really still ours; on a lost PostgreSQL session step down.

        A session-level advisory lock lives exactly as long as its connection: if that
        connection was dropped (server restart, network, idle kill) another process may now
        lead, so this process must stop running jobs.
        """
        if self._file is not None:
            return True
        if self._connection is None:
            return False
        try:
            self._connection.execute(text("SELECT 1"))
            self._connection.commit()
            return True
        except Exception:
            log.warning("lost the %s leadership: its database session is gone", self.name)
            with contextlib.suppress(Exception):
                self._connection.close()
            self._connection = None
            return False

    def release(self) -> None:
        if self._connection is not None:
            try:
                self._connection.execute(
                    text("SELECT pg_advisory_unlock(:key)"), {"key": lock_key(self.name)}
                )
                self._connection.commit()
            finally:
                self._connection.close()
                self._connection = None
        if self._file is not None:
            fcntl.flock(self._file, fcntl.LOCK_UN)
            self._file.close()
            self._file = None
