"""Engine, sessions (unit of work) and migrations.

:class:`Database` owns the engine. ``with db.session() as s:`` is one unit of work: it commits
when the block ends normally and rolls back on any exception, so nothing is stored half-way;
after a commit that queued entries for the search index it calls ``on_index_queued``.
SQLite gets WAL, ``synchronous=NORMAL``, foreign keys and a busy timeout.

The bot's short transactions (a batch of messages, an outbox row's claim or settle, a slice of
search indexing) go through :meth:`Database.run` (awaited) and :meth:`Database.submit` (queued,
not awaited). With ``worker_thread`` they run in the database's **one worker thread**, first
in first out: the loop never waits on the database, only one thread writes, and jobs run in
the order they were queued (a row's settle after its parts' count). :meth:`Database.dispose`
joins the thread. Without it (the default: measured faster, see docs/architecture.md; the
cost of a transaction is mostly Python's own CPU, which a thread only makes compete with the
loop for the GIL) they run inline on the event loop, the loop being the one writer. Long reads (digest rendering, archive pages) use
``asyncio.to_thread`` either way, so they never hold up the messages behind them.
"""

from __future__ import annotations

import asyncio
import logging
import re
import threading
from collections.abc import Callable, Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from contextlib import contextmanager
from functools import partial
from pathlib import Path
from typing import Any, ParamSpec, TypeVar

from sqlalchemy import Engine, create_engine, event, text
from sqlalchemy.engine import make_url
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.orm import Session, sessionmaker

from storage.search.index import QUEUED  # importing it registers the search-index flush hook

MIGRATIONS_DIR = Path(__file__).parent / "migrations"
log = logging.getLogger(__name__)
P = ParamSpec("P")
T = TypeVar("T")


def _sqlite_pragmas(dbapi_connection: Any, _record: Any) -> None:
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA busy_timeout=10000")
    cursor.close()


def normalise_url(url: str) -> str:
    """Use psycopg 3 for plain ``postgresql://`` URLs."""
    if url.startswith("postgresql://") or url.startswith("postgres://"):
        return "postgresql+psycopg://" + url.split("://", 1)[1]
    return url


def make_engine(url: str, *, echo: bool = False) -> Engine:
    """Create an engine; for a SQLite file, create its folder and switch on WAL."""
    url = normalise_url(url)
    parsed = make_url(url)
    kwargs: dict[str, Any] = {"echo": echo, "future": True}
    if parsed.get_backend_name() == "sqlite":
        database = parsed.database or ""
        if database and database != ":memory:" and not database.startswith("file:"):
            Path(database).expanduser().parent.mkdir(parents=True, exist_ok=True)
        kwargs["connect_args"] = {"check_same_thread": False, "timeout": 30}
    else:
        kwargs["pool_pre_ping"] = True
    engine = create_engine(url, **kwargs)
    if parsed.get_backend_name() == "sqlite":
        event.listen(engine, "connect", _sqlite_pragmas)
    return engine


_REVISION_LINE = re.compile(
    r"""^(down_revision|revision)\b[^=]*=\s*['"]?([\w.-]+|None)['"]?""", re.M
)


def script_heads() -> set[str]:
    """Head revision(s) of our migration scripts, read from the files without Alembic."""
    revisions: set[str] = set()
    parents: set[str] = set()
    for script in (MIGRATIONS_DIR / "versions").glob("*.py"):
        found = dict(_REVISION_LINE.findall(script.read_text(encoding="utf-8")))
        if "revision" in found:
            revisions.add(found["revision"])
            if found.get("down_revision", "None") != "None":
                parents.add(found["down_revision"])
    return revisions - parents


def at_head(engine: Engine) -> bool:
    """True when the database is already at the scripts' head (start-up needs no Alembic)."""
    try:
        with engine.connect() as connection:
            current = {
                row[0]
                for row in connection.execute(text("SELECT version_num FROM alembic_version"))
            }
    except SQLAlchemyError:
        return False
    heads = script_heads()
    return bool(heads) and current == heads


def current_revisions(engine: Engine) -> set[str]:
    """The revision(s) the database is at (empty for a new database)."""
    try:
        with engine.connect() as connection:
            return {
                row[0]
                for row in connection.execute(text("SELECT version_num FROM alembic_version"))
            }
    except SQLAlchemyError:
        return set()


def revisions_between(before: set[str], after: set[str]) -> list[str]:
    """The migrations that took the database from ``before`` to ``after`` as ``id: message``:
    oldest first for an upgrade, newest first for a downgrade."""
    from alembic.script import ScriptDirectory

    scripts = ScriptDirectory.from_config(alembic_config())

    def lineage(heads: set[str]) -> list[str]:  # newest first
        found: list[str] = []
        for head in sorted(heads):
            found += [s.revision for s in scripts.iterate_revisions(head, "base")]
        return list(dict.fromkeys(found))

    newer, older = lineage(after), lineage(before)
    added = [r for r in reversed(newer) if r not in older]
    removed = [r for r in older if r not in newer]
    return [f"{r}: {scripts.get_revision(r).doc}" for r in (added or removed)]


def upgrade(engine: Engine, revision: str = "head") -> None:
    """Bring the schema to ``revision`` with Alembic (the only way tables are created)."""
    from alembic import command

    with engine.begin() as connection:
        command.upgrade(alembic_config(connection), revision)


def downgrade(engine: Engine, revision: str = "base") -> None:
    """Take the schema down to ``revision``."""
    from alembic import command

    with engine.begin() as connection:
        command.downgrade(alembic_config(connection), revision)


def alembic_config(connection: Any = None, url: str | None = None) -> Any:
    """An Alembic Config pointing at our migrations, bound to a connection or URL."""
    from alembic.config import Config as AlembicConfig

    cfg = AlembicConfig()
    cfg.set_main_option("script_location", str(MIGRATIONS_DIR))
    if url is not None:
        cfg.set_main_option("sqlalchemy.url", normalise_url(url).replace("%", "%%"))
    if connection is not None:
        cfg.attributes["connection"] = connection
    return cfg


class Database:
    """The engine plus a session factory; one per process."""

    def __init__(
        self,
        url: str,
        *,
        echo: bool = False,
        migrate: bool = True,
        worker_thread: bool = False,
    ) -> None:
        self.url = normalise_url(url)
        self.engine = make_engine(self.url, echo=echo)
        self.worker_thread = worker_thread  #: run/submit in the worker thread (module doc)
        self._sessions = sessionmaker(self.engine, expire_on_commit=False)
        # called after a commit that queued entries for the search index (see search_worker)
        self.on_index_queued: Callable[[], None] | None = None
        self._worker: ThreadPoolExecutor | None = None  # made on first use (see run)
        self._worker_lock = threading.Lock()
        self._loop: asyncio.AbstractEventLoop | None = None  # the loop that last awaited run
        if migrate and not at_head(self.engine):
            upgrade(self.engine)  # imports Alembic only when there is something to do

    @property
    def dialect(self) -> str:
        return self.engine.dialect.name

    @contextmanager
    def session(self) -> Iterator[Session]:
        """One unit of work: commit on success, roll back on error."""
        session = self._sessions()
        try:
            yield session
            session.commit()
        except BaseException:
            session.rollback()
            raise
        finally:
            session.close()
        if session.info.pop(QUEUED, False) and self.on_index_queued is not None:
            self._on_loop(self.on_index_queued)

    # -- the worker thread ------------------------------------------------------------------
    async def run(self, fn: Callable[P, T], /, *args: P.args, **kwargs: P.kwargs) -> T:
        """``fn(*args, **kwargs)`` in the database's worker thread, awaited (see module doc).
        Cancelling the caller does not cancel ``fn``: once queued it runs, and its
        transaction commits or rolls back as a whole. Without ``worker_thread``: inline."""
        if not self.worker_thread:
            return fn(*args, **kwargs)
        self._loop = asyncio.get_running_loop()
        job = asyncio.wrap_future(self._executor().submit(partial(fn, *args, **kwargs)))
        try:
            return await asyncio.shield(job)
        except asyncio.CancelledError:
            job.add_done_callback(_log_failure)  # the caller went away: its failure is logged
            raise

    def submit(self, fn: Callable[P, object], /, *args: P.args, **kwargs: P.kwargs) -> None:
        """Queue ``fn(*args, **kwargs)`` in the worker thread without waiting for it (after
        every job queued before it; a failure is logged). Without ``worker_thread``: inline."""
        if not self.worker_thread:
            try:
                fn(*args, **kwargs)
            except Exception:
                log.exception("database job failed")
            return
        future = self._executor().submit(partial(fn, *args, **kwargs))
        future.add_done_callback(_log_failure)

    def _executor(self) -> ThreadPoolExecutor:
        with self._worker_lock:
            if self._worker is None:
                self._worker = ThreadPoolExecutor(1, thread_name_prefix="studybot-db")
            return self._worker

    def _on_loop(self, callback: Callable[[], None]) -> None:
        """Call ``callback`` on the event loop: at once there, or handed over from a thread."""
        loop = self._loop
        if loop is None or not loop.is_running() or _running_loop() is loop:
            callback()
        else:
            loop.call_soon_threadsafe(callback)

    def join(self) -> None:
        """Wait for every queued job and stop the worker thread (a later run starts a new one)."""
        with self._worker_lock:
            worker, self._worker = self._worker, None
        if worker is not None:
            worker.shutdown(wait=True)

    def dispose(self) -> None:
        self.join()
        self.engine.dispose()


def _running_loop() -> asyncio.AbstractEventLoop | None:
    try:
        return asyncio.get_running_loop()
    except RuntimeError:
        return None


def _log_failure(future: Future[Any] | asyncio.Future[Any]) -> None:
    if not future.cancelled() and future.exception() is not None:
        log.error("database job failed", exc_info=future.exception())
