"""Alembic migrations go up and down cleanly on SQLite and PostgreSQL, and match the models."""

from __future__ import annotations

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import inspect

from storage.db import downgrade, make_engine, upgrade
from storage.models import Base
from storage.search_index import include_in_autogenerate

APP_TABLES = {"groups", "members", "checkins", "questions", "answers", "papers", "resources"}


def test_upgrade_downgrade_upgrade(database_url):
    engine = make_engine(database_url)
    try:
        upgrade(engine)
        tables = set(inspect(engine).get_table_names())
        assert APP_TABLES <= tables and "alembic_version" in tables
        downgrade(engine, "base")
        left = set(inspect(engine).get_table_names()) - {"alembic_version"}
        assert not (left & APP_TABLES), f"downgrade left tables: {left}"
        upgrade(engine)
        assert APP_TABLES <= set(inspect(engine).get_table_names())
    finally:
        engine.dispose()


def test_models_match_migrations(database_url):
    """No model change without a migration: autogenerate finds nothing to do at head."""
    engine = make_engine(database_url)
    try:
        upgrade(engine)
        with engine.connect() as connection:
            context = MigrationContext.configure(
                connection, opts={"include_name": include_in_autogenerate}
            )
            diff = compare_metadata(context, Base.metadata)
        assert diff == [], f"models differ from migrations: {diff}"
    finally:
        engine.dispose()


def test_start_up_skips_alembic_only_when_already_at_head(database_url):
    from storage.db import at_head, script_heads

    assert len(script_heads()) == 1, "migration scripts must have exactly one head"
    engine = make_engine(database_url)
    try:
        assert at_head(engine) is False  # empty database: migrate
        upgrade(engine)
        assert at_head(engine) is True
        downgrade(engine, "-1")
        assert at_head(engine) is False  # one behind: migrate again
    finally:
        engine.dispose()
