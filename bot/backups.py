"""Scheduled backups: ``backup.cron`` makes the scheduler leader back up the database.

The same backup as ``studybot db backup --keep N`` (SQLite's online backup, safe while the bot
writes; ``pg_dump`` on PostgreSQL) into ``<data_dir>/backups/``, then all but the
``backup.keep`` newest are deleted. Only the scheduler leader runs it, so several processes on
one database make one backup. A failed backup is logged at ERROR with its cause and fix and
tried again at the next run; it never stops the bot.
"""

from __future__ import annotations

import asyncio
import logging
from datetime import datetime
from pathlib import Path
from typing import Any

from digest.jobs import JobContext

log = logging.getLogger(__name__)

JOB_ID = "studybot-backup"
#: A backup missed while the bot was down runs at start-up if it is at most this late.
BACKUP_GRACE = 12 * 3600


def register_backup_job(scheduler: Any, jobs: JobContext) -> list[str]:
    """Add the backup job when ``backup.cron`` is set (remove a stored one when it is not)."""
    from digest.triggers import ClubCronTrigger, ensure_job

    cron = jobs.config.backup.cron
    if cron is None:
        if scheduler.get_job(JOB_ID) is not None:
            scheduler.remove_job(JOB_ID)
        return []
    timezone = jobs.config.groups[0].timezone
    ensure_job(
        scheduler,
        JOB_ID,
        backup_job,
        ClubCronTrigger(cron, timezone),
        [],
        coalesce=True,
        misfire_grace_time=BACKUP_GRACE,
        max_instances=1,
    )
    return [JOB_ID]


async def backup_job(*, jobs: JobContext | None = None) -> None:
    """The scheduled job: one backup, then retention (in a thread: a big copy takes a while)."""
    if jobs is None:  # pragma: no cover - the executor always passes it
        return
    await asyncio.to_thread(
        run_backup,
        jobs.config.database.url,
        jobs.config.data_path,
        jobs.config.backup.keep,
        jobs.clock(),
    )


def run_backup(url: str, data_dir: Path, keep: int, now: datetime) -> Path | None:
    """Back up ``url`` into ``data_dir/backups`` and keep the ``keep`` newest; returns the new
    file, or None when the backup failed (logged with the fix)."""
    from sqlalchemy.engine import make_url

    from storage.backup import (
        BackupError,
        backup_postgres,
        backup_sqlite,
        default_backup_file,
        prune_backups,
    )
    from storage.db import normalise_url

    url = normalise_url(url)
    dialect = make_url(url).get_backend_name()
    out = default_backup_file(data_dir / "backups", dialect, now.astimezone())
    try:
        if dialect == "sqlite":
            backup_sqlite(url, out)
        else:
            backup_postgres(url, out)
    except (BackupError, OSError) as error:
        log.error(
            "scheduled backup failed: %s; fix: check that %s is writable (and, for PostgreSQL, "
            "that pg_dump is installed: postgresql-client), or run `studybot db backup` to see "
            "the whole error",
            error,
            out.parent,
        )
        return None
    removed = prune_backups(out.parent, keep)
    log.info(
        "backup written: %s (%d bytes)%s",
        out,
        out.stat().st_size,
        f"; removed {len(removed)} old backup(s), keeping {keep}" if removed else "",
    )
    return out
