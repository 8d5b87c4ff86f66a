"""Data commands: ``studybot export``, ``studybot import``, ``studybot db backup|upgrade|downgrade``.

* ``studybot export --out data.json [--markdown DIR]``: everything, as versioned JSON
  (see :mod:`storage.export_schema`) and optionally as Markdown files.
* ``studybot import data.json``: merge an export into the configured database; idempotent
  and all-or-nothing (a bad file imports nothing and says what is wrong). A gzip-compressed
  file (``.json.gz``, as the chat command ``/export`` sends large groups) is read too.
* ``studybot db backup [--out FILE] [--keep N]``: SQLite online backup (safe while the bot
  runs) or PostgreSQL ``pg_dump``; by default into ``<data_dir>/backups/``, keeping the N newest.
* ``studybot db restore FILE --yes``: put a backup back (refused while a bot runs).
* ``studybot db rename-group OLD NEW``: a new slug for a group, its history and links kept
  (old ``/g/OLD/...`` links redirect).
* ``studybot db upgrade [REV]`` / ``studybot db downgrade REV``: Alembic migrations; names the
  migrations it ran.

Progress bars (rich) appear on a terminal only.
"""

from __future__ import annotations

import argparse
import gzip
import io
import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from sqlalchemy.engine import make_url

Progress = Callable[[str, int, int], None]


@contextmanager
def progress_bar(title: str) -> Iterator[Progress]:
    """A rich progress bar on stderr (disabled when stderr is not a terminal)."""
    from rich.console import Console
    from rich.progress import BarColumn, MofNCompleteColumn, TextColumn, TimeElapsedColumn
    from rich.progress import Progress as RichProgress

    console = Console(stderr=True)
    with RichProgress(
        TextColumn("[bold]{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
        console=console,
        disable=not console.is_terminal,
        transient=False,
    ) as bar:
        task = bar.add_task(title, total=None)

        def update(label: str, done: int, total: int) -> None:
            bar.update(task, description=f"{title}: {label}", completed=done, total=total)

        yield update


def _config(args: argparse.Namespace) -> Any:
    from bot.config import resolve_config

    return resolve_config(args.config)


def _fail(message: str) -> int:
    print(f"studybot: {message}", file=sys.stderr)
    return 1


def _sqlite_file_missing(url: str) -> str | None:
    parsed = make_url(url)
    if parsed.get_backend_name() == "sqlite" and parsed.database not in (None, "", ":memory:"):
        path = Path(parsed.database or "").expanduser()
        if not path.exists():
            return str(path)
    return None


def _export(args: argparse.Namespace) -> int:
    from storage.db import Database
    from storage.export import export_data, write_json
    from storage.export_markdown import write_markdown

    config = _config(args)
    missing = _sqlite_file_missing(config.database.url)
    if missing:
        return _fail(f"database file {missing} does not exist; nothing to export")
    db = Database(config.database.url)
    try:
        with progress_bar("export") as progress, db.session() as session:
            data = export_data(session, datetime.now(UTC), progress)
    finally:
        db.dispose()
    out = Path(args.out)
    write_json(data, out)
    rows = sum(
        len(g.checkins) + len(g.questions) + len(g.papers) + len(g.resources) for g in data.groups
    )
    print(
        f"exported {len(data.groups)} group(s), {len(data.members)} member(s), {rows} entries to {out}"
    )
    if args.markdown:
        files = write_markdown(data, Path(args.markdown))
        print(f"wrote {len(files)} Markdown file(s) under {args.markdown}")
    return 0


MAX_IMPORT_BYTES = 200_000_000  # a decompressed export larger than this is refused


def _import(args: argparse.Namespace) -> int:
    from storage.db import Database
    from storage.import_file import ImportFormatError, load_export
    from storage.importer import import_data
    from storage.search.drain import index_all_pending

    path = Path(args.file)
    try:
        raw = path.read_bytes()
        if raw[:2] == b"\x1f\x8b":  # a gzip-compressed export (the chat command /export)
            with gzip.GzipFile(fileobj=io.BytesIO(raw)) as unzipped:
                raw = unzipped.read(MAX_IMPORT_BYTES + 1)  # a zip bomb stops at the cap
            if len(raw) > MAX_IMPORT_BYTES:
                return _fail(
                    f"{path}: decompresses to more than {MAX_IMPORT_BYTES} bytes; nothing imported"
                )
        text = raw.decode("utf-8")
    except FileNotFoundError:
        return _fail(f"{path}: no such file; nothing imported")
    except (OSError, EOFError, UnicodeDecodeError) as exc:
        return _fail(f"{path}: cannot read it as UTF-8 text ({exc}); nothing imported")
    try:
        data = load_export(text)
    except ImportFormatError as exc:
        return _fail(f"{path}: {exc}\nnothing imported")
    config = _config(args)
    db = Database(config.database.url)
    try:
        with progress_bar("import") as progress, db.session() as session:
            report = import_data(session, data, progress, trust_roles=args.trust_roles)
            if args.dry_run:
                session.rollback()
    except Exception as exc:
        db.dispose()
        return _fail(f"{path}: import failed, nothing imported: {exc}")
    print(("dry run, nothing written:\n" if args.dry_run else "") + report.summary())
    try:
        if not args.dry_run:  # the import queued its entries: index them now, not at start
            print(f"search index: {index_all_pending(db.session)} entries indexed")
            if report.rerender:  # the file's pages are never served: drawn from the data
                from digest.rerender import rerender_issues

                pages = rerender_issues(db, config, report.rerender)
                print(f"archive: {pages} imported issue(s) rendered from the imported data")
    finally:
        db.dispose()
    return 0


def _backup(args: argparse.Namespace) -> int:
    from storage.backup import (
        BackupError,
        backup_postgres,
        backup_sqlite,
        default_backup_file,
        prune_backups,
    )
    from storage.db import normalise_url

    config = _config(args)
    url = normalise_url(config.database.url)
    dialect = make_url(url).get_backend_name()
    folder = config.data_path / "backups"
    out = Path(args.out) if args.out else default_backup_file(folder, dialect, datetime.now())
    try:
        if dialect == "sqlite":
            with progress_bar("backup") as progress:
                pages = backup_sqlite(url, out, progress)
            print(f"backed up {pages} pages to {out}")
        else:
            size = backup_postgres(url, out)
            print(f"backed up {size} bytes (pg_dump custom format) to {out}")
    except BackupError as exc:
        return _fail(str(exc))
    if args.keep is not None:
        for old in prune_backups(out.parent, args.keep):
            print(f"removed old backup {old}")
    return 0


def _restore(args: argparse.Namespace) -> int:
    from storage.backup import BackupError, restore_postgres, restore_sqlite
    from storage.db import normalise_url

    config = _config(args)
    url = normalise_url(config.database.url)
    source = Path(args.file)
    dialect = make_url(url).get_backend_name()
    if _bot_running(url):
        return _fail(
            "a studybot process is running on this database (it holds the scheduler lock); "
            "stop it first (systemctl stop studybot), then restore"
        )
    if not args.yes:
        return _fail(
            f"this replaces the data in {_safe(url)} with {source}; run again with --yes "
            "(the replaced SQLite file is kept as <db>.before-restore)"
        )
    try:
        if dialect == "sqlite":
            kept = restore_sqlite(source, url)
            print(f"restored {source} into {make_url(url).database}")
            if kept is not None:
                print(f"the previous database is kept as {kept}")
        else:
            restore_postgres(source, url)
            print(f"restored {source} into {_safe(url)}")
    except BackupError as exc:
        return _fail(f"{exc}; nothing restored")
    print("next: `studybot db upgrade` (if the backup is older than this version), then start")
    return 0


def _bot_running(url: str) -> bool:
    """Whether a bot process holds the scheduler lock on this database."""
    from storage.db import make_engine
    from storage.leader import LeaderLock

    if (
        make_url(url).get_backend_name() == "sqlite"
        and not Path(make_url(url).database or "").exists()
    ):
        return False
    engine = make_engine(url)
    lock = LeaderLock(engine)
    try:
        return not lock.acquire()
    except Exception:
        return False  # an unreachable or missing database: the command itself reports it
    finally:
        lock.release()
        engine.dispose()


def _rename_group(args: argparse.Namespace) -> int:
    from storage.chats import RenameError, rename_group
    from storage.db import Database, normalise_url

    config = _config(args)
    if _bot_running(normalise_url(config.database.url)):
        return _fail(
            "a studybot process is running on this database; stop it first "
            "(it would recreate the old group at its next message), then rename"
        )
    db = Database(config.database.url)
    try:
        with db.session() as session:
            rename_group(session, args.old, args.new, datetime.now(UTC))
    except RenameError as exc:
        return _fail(f"{exc}; nothing renamed")
    finally:
        db.dispose()
    print(f"group {args.old} is now {args.new}: its members, entries and issues stay with it;")
    print(f"links under /g/{args.old}/ redirect to /g/{args.new}/")
    slugs = [g.slug for g in config.groups]
    if args.new not in slugs:
        where = slugs.index(args.old) if args.old in slugs else None
        key = f"groups[{where}].slug" if where is not None else "the group's slug"
        print(f"next: set {key}: {args.new} in the config, then start the bot")
    return 0


def _safe(url: str) -> str:
    return make_url(url).render_as_string(hide_password=True)


def _migrate(args: argparse.Namespace) -> int:
    from storage.db import Database, current_revisions, downgrade, revisions_between, upgrade

    config = _config(args)
    db = Database(config.database.url, migrate=False)
    try:
        before = current_revisions(db.engine)
        if args.db_command == "upgrade":
            upgrade(db.engine, args.revision)
        else:
            downgrade(db.engine, args.revision)
        after = current_revisions(db.engine)
    finally:
        db.dispose()
    ran = revisions_between(before, after)
    verb = "applied" if args.db_command == "upgrade" else "reverted"
    if ran:
        print(f"{verb} {len(ran)} migration(s):")
        for revision in ran:
            print(f"  {revision}")
    else:
        print("nothing to do: already there")
    print(f"database at {', '.join(sorted(after)) or 'base (empty)'}")
    return 0


def _reindex(args: argparse.Namespace) -> int:
    from storage.db import Database
    from storage.search.index import rebuild_index

    config = _config(args)
    db = Database(config.database.url)
    try:
        with progress_bar("reindex") as progress, db.session() as session:
            count = rebuild_index(session, progress=lambda n: progress("entries", n, n))
    except Exception as exc:
        return _fail(f"reindex failed, the old index is kept: {exc}")
    finally:
        db.dispose()
    print(f"search index rebuilt: {count} entries")
    return 0


def register(subparsers: Any) -> None:
    """Add ``export``, ``import`` and ``db`` to the ``studybot`` command line."""
    export = subparsers.add_parser("export", help="export all data to JSON (and Markdown)")
    export.add_argument("--out", required=True, help="JSON file to write")
    export.add_argument("--markdown", metavar="DIR", help="also write Markdown files here")
    export.set_defaults(func=_export)

    imp = subparsers.add_parser("import", help="import a JSON export (idempotent)")
    imp.add_argument("file", help="a file written by studybot export")
    imp.add_argument(
        "--trust-roles",
        action="store_true",
        help="grant the file's member roles (admin); without it everyone imported is a member",
    )
    imp.add_argument("--dry-run", action="store_true", help="check and count, write nothing")
    imp.set_defaults(func=_import)

    db = subparsers.add_parser("db", help="database maintenance")
    db_sub = db.add_subparsers(dest="db_command", required=True)
    backup = db_sub.add_parser(
        "backup", help="back up the database (SQLite online backup, PostgreSQL pg_dump)"
    )
    backup.add_argument(
        "--out", help="file to write (default: <data_dir>/backups/studybot-<time>.db|.dump)"
    )
    backup.add_argument(
        "--keep", type=int, metavar="N", help="then delete all but the N newest backups there"
    )
    backup.set_defaults(func=_backup)
    restore = db_sub.add_parser(
        "restore", help="replace the database with a backup (stop the bot first)"
    )
    restore.add_argument("file", help="a file written by studybot db backup")
    restore.add_argument("--yes", action="store_true", help="really replace the data")
    restore.set_defaults(func=_restore)
    rename = db_sub.add_parser(
        "rename-group", help="give a group a new slug, keeping its history and old links"
    )
    rename.add_argument("old", help="the slug the group has now")
    rename.add_argument("new", help="its new slug")
    rename.set_defaults(func=_rename_group)
    up = db_sub.add_parser("upgrade", help="apply migrations (default: to head)")
    up.add_argument("revision", nargs="?", default="head")
    up.set_defaults(func=_migrate)
    down = db_sub.add_parser("downgrade", help="revert migrations to REVISION (e.g. -1, base)")
    down.add_argument("revision")
    down.set_defaults(func=_migrate)
    reindex = db_sub.add_parser("reindex", help="rebuild the search index from the entries")
    reindex.set_defaults(func=_reindex)
