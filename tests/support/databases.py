"""Throw-away databases for tests: a SQLite file, or a fresh PostgreSQL database.

``temporary_database("postgres")`` creates a uniquely named database on the server given by
``STUDYBOT_TEST_PG_URL`` and drops it afterwards, so tests never see each other's rows.

Migrating a database with Alembic costs ~70 ms on SQLite; a test process does it once, into a
template, and every test that wants a migrated database gets a copy (``migrated_sqlite``: a
file copy, ~1-3 ms; ``temporary_database(..., migrated=True)`` on PostgreSQL:
``CREATE DATABASE ... TEMPLATE``). The template is rebuilt whenever the migration scripts'
head changes, so a test never starts from a stale schema.
"""

from __future__ import annotations

import atexit
import os
import shutil
import tempfile
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url

from storage.db import Database, normalise_url, script_heads

_sqlite_templates: dict[frozenset[str], Path] = {}  # migration heads -> migrated file
_pg_templates: dict[tuple[str, frozenset[str]], str] = {}  # (server, heads) -> database name


def pg_server_url() -> str | None:
    url = os.environ.get("STUDYBOT_TEST_PG_URL")
    return normalise_url(url) if url else None


def pg_available() -> bool:
    url = pg_server_url()
    if url is None:
        return False
    try:
        engine = create_engine(url)
        with engine.connect() as connection:
            connection.execute(text("select 1"))
        engine.dispose()
        return True
    except Exception:
        return False


def _sqlite_template() -> Path:
    """A SQLite file migrated to the scripts' head, built once per test process."""
    heads = frozenset(script_heads())
    template = _sqlite_templates.get(heads)
    if template is None or not template.exists():
        folder = Path(tempfile.mkdtemp(prefix="studybot-template-"))
        atexit.register(shutil.rmtree, folder, True)
        template = folder / "migrated.db"
        database = Database(f"sqlite:///{template}")  # runs Alembic
        database.dispose()  # the last connection checkpoints the WAL into the file
        _sqlite_templates[heads] = template
    return template


def migrated_sqlite(path: Path) -> str:
    """A URL of a SQLite database at ``path``, already migrated (a copy of the template).

    An existing file at ``path`` is left alone (a test reopening its database keeps its rows).
    """
    if not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(_sqlite_template(), path)
    return f"sqlite:///{path}"


def _pg_template(server: str) -> str:
    """The name of a database on ``server`` migrated to head, built once per test process
    (dropped when the process exits)."""
    key = (server, frozenset(script_heads()))
    name = _pg_templates.get(key)
    if name is None:
        name = f"studybot_template_{os.getpid()}_{uuid.uuid4().hex[:8]}"
        admin = create_engine(server, isolation_level="AUTOCOMMIT")
        with admin.connect() as connection:
            connection.execute(text(f'CREATE DATABASE "{name}"'))
        admin.dispose()
        database = Database(make_url(server).set(database=name).render_as_string(False))
        database.dispose()  # CREATE DATABASE ... TEMPLATE needs it without connections
        atexit.register(_drop_pg_database, server, name)
        _pg_templates[key] = name
    return name


def _drop_pg_database(server: str, name: str) -> None:
    admin = create_engine(server, isolation_level="AUTOCOMMIT")
    try:
        with admin.connect() as connection:
            connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    finally:
        admin.dispose()


@contextmanager
def temporary_database(kind: str, tmp_path: Path, *, migrated: bool = False) -> Iterator[str]:
    """Yield a URL of a database of ``kind`` ('sqlite' or 'postgres'): empty, or with
    ``migrated`` a copy of a database already at the migrations' head."""
    if kind == "sqlite":
        path = tmp_path / f"test-{uuid.uuid4().hex[:8]}.db"
        yield migrated_sqlite(path) if migrated else f"sqlite:///{path}"
        return
    server = pg_server_url()
    assert server is not None
    template = _pg_template(server) if migrated else None
    with temporary_pg_database(server, template=template) as url:
        yield url


@contextmanager
def temporary_pg_database(
    server: str, prefix: str = "studybot_test", *, template: str | None = None
) -> Iterator[str]:
    """Create a uniquely named database on the PostgreSQL ``server`` (a copy of the database
    ``template`` when given); drop it afterwards."""
    server = normalise_url(server)
    name = f"{prefix}_{uuid.uuid4().hex[:12]}"
    admin = create_engine(server, isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        options = f' TEMPLATE "{template}"' if template else ""
        if connection.dialect.server_version_info >= (15,):
            # a small database copies faster as files than through the WAL (the default)
            options += " STRATEGY FILE_COPY"
        connection.execute(text(f'CREATE DATABASE "{name}"{options}'))
    try:
        yield make_url(server).set(database=name).render_as_string(hide_password=False)
    finally:
        with admin.connect() as connection:
            connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()
