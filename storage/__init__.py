"""Persistence: SQLAlchemy 2 models, repositories, unit of work, Alembic migrations, search."""
