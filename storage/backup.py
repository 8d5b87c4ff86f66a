"""Backups and restores (``studybot db backup|restore``).

SQLite: a consistent copy of the live database with SQLite's online backup API, and a restore
that checks the copy and keeps the replaced file. PostgreSQL: ``pg_dump --format=custom`` and
``pg_restore --clean``. Default backup files are ``<data_dir>/backups/studybot-<time>.db``
(``.dump``); :func:`prune_backups` keeps the newest N.
"""

from __future__ import annotations

import os
import shutil
import sqlite3
import subprocess
from collections.abc import Callable
from datetime import datetime
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


# -- PostgreSQL, retention, restore --------------------------------------------------------------
BACKUP_PREFIX = "studybot-"


def _libpq(url: str) -> tuple[str, dict[str, str]]:
    """A libpq connection URL without the password, and the environment carrying it."""
    parsed = make_url(url).set(drivername="postgresql")
    env = dict(os.environ)
    if parsed.password:
        env["PGPASSWORD"] = str(parsed.password)
    return parsed.set(password=None).render_as_string(hide_password=False), env


def _run(command: list[str], env: dict[str, str], what: str) -> None:
    if shutil.which(command[0]) is None:
        raise BackupError(f"{command[0]} is not installed (apt-get install postgresql-client)")
    done = subprocess.run(command, env=env, capture_output=True, text=True)
    if done.returncode != 0:
        detail = (done.stderr or done.stdout).strip().splitlines()
        raise BackupError(f"{what} failed: {detail[-1] if detail else done.returncode}")


def backup_postgres(url: str, out: Path) -> int:
    """``pg_dump --format=custom`` into ``out`` (written to a temporary file, then renamed);
    returns the dump's size in bytes."""
    dsn, env = _libpq(url)
    out = out.expanduser()
    out.parent.mkdir(parents=True, exist_ok=True)
    tmp = out.with_name(out.name + ".tmp")
    tmp.unlink(missing_ok=True)
    try:
        _run(["pg_dump", "--format=custom", f"--file={tmp}", f"--dbname={dsn}"], env, "pg_dump")
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise
    os.replace(tmp, out)
    return out.stat().st_size


def default_backup_file(folder: Path, dialect: str, now: datetime) -> Path:
    """``<folder>/studybot-20261203-142501.db`` (``.dump`` for PostgreSQL)."""
    suffix = ".db" if dialect == "sqlite" else ".dump"
    return folder / f"{BACKUP_PREFIX}{now:%Y%m%d-%H%M%S}{suffix}"


def prune_backups(folder: Path, keep: int) -> list[Path]:
    """Delete all but the ``keep`` newest ``studybot-*`` backups in ``folder``; returns the
    deleted files (names sort by their timestamp)."""
    found = sorted(
        p for p in folder.glob(f"{BACKUP_PREFIX}*") if p.suffix in (".db", ".dump")
    )
    doomed = found[: max(0, len(found) - keep)]
    for path in doomed:
        path.unlink(missing_ok=True)
    return doomed


def restore_sqlite(backup: Path, url: str) -> Path | None:
    """Replace the SQLite database of ``url`` with ``backup`` (checked first); the replaced
    file is kept as ``<db>.before-restore``, which is returned (None if there was none)."""
    parsed = make_url(url)
    if parsed.get_backend_name() != "sqlite" or not parsed.database:
        raise BackupError("restore of a .db backup needs a SQLite database.url")
    target = Path(parsed.database).expanduser()
    backup = backup.expanduser()
    if not backup.exists():
        raise BackupError(f"{backup}: no such file")
    if backup.resolve() == target.resolve():
        raise BackupError("the backup is the database itself")
    try:
        check = sqlite3.connect(f"file:{backup}?mode=ro", uri=True)
        try:
            ok = check.execute("PRAGMA integrity_check").fetchone()
            tables = {r[0] for r in check.execute("SELECT name FROM sqlite_master")}
        finally:
            check.close()
    except sqlite3.DatabaseError as exc:
        raise BackupError(f"{backup} is not a SQLite database ({exc})") from None
    if not ok or ok[0] != "ok":
        raise BackupError(f"{backup} failed its integrity check: {ok}")
    if "alembic_version" not in tables:
        raise BackupError(f"{backup} is not a studybot database (no alembic_version table)")
    target.parent.mkdir(parents=True, exist_ok=True)
    kept = None
    if target.exists():
        kept = target.with_name(target.name + ".before-restore")
        os.replace(target, kept)
    for extra in ("-wal", "-shm"):
        target.with_name(target.name + extra).unlink(missing_ok=True)
    tmp = target.with_name(target.name + ".restoring")
    shutil.copyfile(backup, tmp)
    os.replace(tmp, target)
    return kept


def restore_postgres(dump: Path, url: str) -> None:
    """``pg_restore --clean --if-exists`` of a ``studybot db backup`` dump into ``url``."""
    if not dump.expanduser().exists():
        raise BackupError(f"{dump}: no such file")
    dsn, env = _libpq(url)
    command = ["pg_restore", "--clean", "--if-exists", "--no-owner", f"--dbname={dsn}"]
    _run([*command, str(dump.expanduser())], env, "pg_restore")
