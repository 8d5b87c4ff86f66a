"""SQLite online backups (``studybot db backup``): a consistent copy of a live database."""

from __future__ import annotations

import os
import sqlite3
from collections.abc import Callable
from pathlib import Path

from sqlalchemy.engine import make_url

Progress = Callable[[str, int, int], None]


def _noop(label: str, done: int, total: int) -> None:
    """No progress display."""


class BackupError(RuntimeError):
    """The backup cannot be made (wrong database kind, unreadable file...)."""


def sqlite_path(url: str) -> Path:
    """The file of a SQLite URL; :class:`BackupError` for other databases."""
    parsed = make_url(url)
    if parsed.get_backend_name() != "sqlite":
        raise BackupError(
            f"studybot db backup works on SQLite only; this database is "
            f"{parsed.get_backend_name()}. Use its own tool, e.g. "
            f"pg_dump --format=custom --file=studybot.dump {parsed.database or 'DBNAME'}"
        )
    if not parsed.database or parsed.database == ":memory:":
        raise BackupError("an in-memory SQLite database cannot be backed up")
    path = Path(parsed.database).expanduser()
    if not path.exists():
        raise BackupError(f"database file {path} does not exist")
    return path


def backup_sqlite(url: str, out: Path, progress: Progress = _noop, pages: int = 256) -> int:
    """Copy the live database to ``out`` with SQLite's online backup API; returns pages.

    Safe while the bot runs: readers and writers continue. Written to a temporary file, checked
    with ``PRAGMA integrity_check`` and then renamed, so ``out`` is never half-written.
    """
    source_path = sqlite_path(url)
    out = out.expanduser()
    if out.resolve() == source_path.resolve():
        raise BackupError("the backup file must differ from the database file")
    out.parent.mkdir(parents=True, exist_ok=True)
    tmp = out.with_name(out.name + ".tmp")
    tmp.unlink(missing_ok=True)
    source = sqlite3.connect(str(source_path), timeout=30)
    target = sqlite3.connect(str(tmp))
    copied = 0
    try:

        def step(status: int, remaining: int, total: int) -> None:
            nonlocal copied
            copied = total
            progress("backup", total - remaining, total)

        source.backup(target, pages=pages, progress=step)
        target.execute("PRAGMA journal_mode=DELETE")
        ok = target.execute("PRAGMA integrity_check").fetchone()
        if not ok or ok[0] != "ok":
            raise BackupError(f"the backup failed its integrity check: {ok}")
    except BaseException:
        target.close()
        tmp.unlink(missing_ok=True)
        raise
    finally:
        target.close()
        source.close()
    os.replace(tmp, out)
    return copied
