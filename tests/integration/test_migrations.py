"""Alembic migrations go up and down cleanly on SQLite and PostgreSQL, and match the models."""

from __future__ import annotations

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import inspect

from storage.db import downgrade, make_engine, upgrade
from storage.models import Base
from storage.search.index import include_in_autogenerate

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


def test_club_week_migration_keeps_every_streak(database_url):
    """0012 stores, for each existing check-in, the calendar week its streak counted it for
    (Monday, local to its group), so streaks read the same after the move to club weeks."""
    from datetime import UTC, date, datetime

    from sqlalchemy import text
    from sqlalchemy.orm import Session

    from storage.engagement import checkin_weeks
    from storage.models import Group

    engine = make_engine(database_url)
    try:
        upgrade(engine, "0011_mp_official_account")
        with engine.begin() as connection:
            connection.execute(
                text(
                    "INSERT INTO groups (id, slug, name, timezone, created_at) VALUES "
                    "(1, 'sh', 'SH', 'Asia/Shanghai', :t), (2, 'la', 'LA', 'America/Los_Angeles', :t)"
                ),
                {"t": datetime(2026, 1, 1, tzinfo=UTC)},
            )
            connection.execute(
                text(
                    "INSERT INTO members (id, platform, platform_user_id, display_name, role, joined_at)"
                    " VALUES (1, 'console', 'u1', 'u1', 'member', :t)"
                ),
                {"t": datetime(2026, 1, 1, tzinfo=UTC)},
            )
            rows = [  # Sunday 16:30 UTC: Monday 00:30 in Shanghai, still Sunday in Los Angeles
                (1, 1, datetime(2026, 11, 22, 16, 30, tzinfo=UTC)),
                (2, 2, datetime(2026, 11, 22, 16, 30, tzinfo=UTC)),
                (3, 1, datetime(2026, 11, 18, 4, 0, tzinfo=UTC)),
            ]
            for checkin_id, group_id, created_at in rows:
                connection.execute(
                    text(
                        "INSERT INTO checkins (id, group_id, member_id, text, created_at)"
                        " VALUES (:i, :g, 1, 'note', :c)"
                    ),
                    {"i": checkin_id, "g": group_id, "c": created_at},
                )
        upgrade(engine)
        with engine.connect() as connection:
            weeks = dict(connection.execute(text("SELECT id, week FROM checkins")).all())
        weeks = {k: v if isinstance(v, date) else date.fromisoformat(v) for k, v in weeks.items()}
        assert weeks == {1: date(2026, 11, 23), 2: date(2026, 11, 16), 3: date(2026, 11, 16)}
        with Session(engine) as session:
            shanghai = session.get(Group, 1)
            assert checkin_weeks(session, shanghai)[1] == {
                date(2026, 11, 16): 1,
                date(2026, 11, 23): 1,
            }
    finally:
        engine.dispose()
