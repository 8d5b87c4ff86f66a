"""Throw-away databases for tests: a SQLite file, or a fresh PostgreSQL database.

``temporary_database("postgres")`` creates a uniquely named database on the server given by
``STUDYBOT_TEST_PG_URL`` and drops it afterwards, so tests never see each other's rows.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url

from storage.db import normalise_url


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


@contextmanager
def temporary_database(kind: str, tmp_path: Path) -> Iterator[str]:
    """Yield a URL of an empty database of ``kind`` ('sqlite' or 'postgres')."""
    if kind == "sqlite":
        yield f"sqlite:///{tmp_path / f'test-{uuid.uuid4().hex[:8]}.db'}"
        return
    server = pg_server_url()
    assert server is not None
    with temporary_pg_database(server) as url:
        yield url


@contextmanager
def temporary_pg_database(server: str, prefix: str = "studybot_test") -> Iterator[str]:
    """Create a uniquely named database on the PostgreSQL ``server``; drop it afterwards."""
    server = normalise_url(server)
    name = f"{prefix}_{uuid.uuid4().hex[:12]}"
    admin = create_engine(server, isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        connection.execute(text(f'CREATE DATABASE "{name}"'))
    try:
        yield make_url(server).set(database=name).render_as_string(hide_password=False)
    finally:
        with admin.connect() as connection:
            connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()
