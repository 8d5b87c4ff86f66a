"""Shared fixtures: a wired bot on a temporary SQLite file, a controllable clock, ``say()``.

``bot_app`` builds the real app (handlers, dispatcher) on ``tmp_path``, starting from a copy
of a database migrated once per test run (see ``tests/support/databases.py``);
``say(text, user=..., chat=..., reply_to=...)`` sends a message through the dispatcher and
returns the reply texts, exactly as an adapter would.
"""

from __future__ import annotations

import itertools
import os
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from bot.app import App, build_app
from bot.config import Config, parse_config
from bot.model import ChatRef, Incoming, Reply, UserRef

GROUP_CHAT = ChatRef("console", "console-group", "group", "ML自学者俱乐部")


@dataclass
class FakeClock:
    """A clock tests move by hand: ``clock.advance(days=7)``."""

    now: datetime = field(default_factory=lambda: datetime(2026, 11, 16, 9, 0, tzinfo=UTC))

    def __call__(self) -> datetime:
        return self.now

    def advance(self, **delta: float) -> datetime:
        self.now += timedelta(**delta)
        return self.now

    def set(self, value: datetime) -> None:
        assert value.tzinfo is not None
        self.now = value


def make_config(tmp_path: Path, **overrides: Any) -> Config:
    """A test config on ``tmp_path/studybot.db`` (already migrated, unless ``database`` is
    overridden)."""
    from tests.support.databases import migrated_sqlite

    data: dict[str, Any] = {
        "admins": ["console:admin"],
        "web": {"enabled": False},
        # charts in a thread: a child process per chart costs ~1 s (tested on its own)
        "charts": {"separate_process": False},
    }
    if "database" not in overrides:
        data["database"] = {"url": migrated_sqlite(tmp_path / "studybot.db")}
    data.update(overrides)
    return parse_config(data)


@dataclass
class Chatter:
    """Sends messages through a wired app's dispatcher, like an adapter would."""

    app: App
    clock: FakeClock
    ids: itertools.count = field(default_factory=lambda: itertools.count(1))
    last_replies: list[Reply] = field(default_factory=list)
    last_incoming: Incoming | None = None

    async def send(
        self,
        text: str,
        *,
        user: str = "alice",
        name: str | None = None,
        chat: ChatRef = GROUP_CHAT,
        reply_to: str | None = None,
        message_id: str | None = None,
        platform_admin: bool = False,
        mentions_bot: bool = False,
        admin_groups: tuple[str, ...] = (),
    ) -> list[Reply]:
        incoming = Incoming(
            chat=chat,
            sender=UserRef(chat.platform, user, name or user),
            text=text,
            message_id=message_id or str(next(self.ids)),
            sent_at=self.clock(),
            reply_to_message_id=reply_to,
            platform_admin=platform_admin,
            mentions_bot=mentions_bot,
            admin_groups=admin_groups,
        )
        self.last_incoming = incoming
        self.last_replies = await self.app.dispatcher.dispatch(incoming)
        return self.last_replies

    async def say(self, text: str, **kwargs: Any) -> str:
        """Send and return all reply texts joined by newlines ('' when no reply)."""
        return "\n".join(reply.text for reply in await self.send(text, **kwargs))


@pytest.fixture(autouse=True)
def _no_metadata_from_the_internet(request: pytest.FixtureRequest, monkeypatch: Any) -> None:
    """Paper metadata comes from arXiv and GitHub: only tests marked ``fetches_metadata``
    (against a local fake server) fetch it; every other app in the run schedules nothing."""
    if request.node.get_closest_marker("fetches_metadata") is None:
        from bot.paper_metadata import PaperMetadata

        monkeypatch.setattr(PaperMetadata, "schedule", lambda self, paper_id, *, delay=0.0: None)


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


@pytest.fixture
def config_factory(tmp_path: Path) -> Callable[..., Config]:
    return lambda **overrides: make_config(tmp_path, **overrides)


@pytest.fixture
def bot_app(tmp_path: Path, clock: FakeClock) -> App:
    app = build_app(make_config(tmp_path), clock=clock)
    yield app
    app.db.dispose()


@pytest.fixture
def chat(bot_app: App, clock: FakeClock) -> Chatter:
    return Chatter(bot_app, clock)


@pytest.fixture(params=["sqlite", "postgres"])
def database_url(request: pytest.FixtureRequest, tmp_path: Path) -> Any:
    """An empty database URL, once on SQLite and once on PostgreSQL (CI: must not skip)."""
    from tests.support.databases import pg_available, temporary_database

    if request.param == "postgres":
        require_or_skip(pg_available(), "PostgreSQL not reachable: set STUDYBOT_TEST_PG_URL")
    with temporary_database(request.param, tmp_path) as url:
        yield url


@pytest.fixture(params=["sqlite", "postgres"])
def migrated_database_url(request: pytest.FixtureRequest, tmp_path: Path) -> Any:
    """A database URL already at the migrations' head (a copy of a template migrated once per
    test run), once on SQLite and once on PostgreSQL (CI: must not skip)."""
    from tests.support.databases import pg_available, temporary_database

    if request.param == "postgres":
        require_or_skip(pg_available(), "PostgreSQL not reachable: set STUDYBOT_TEST_PG_URL")
    with temporary_database(request.param, tmp_path, migrated=True) as url:
        yield url


def pg_url() -> str | None:
    """The PostgreSQL URL for tests, or None (tests then skip, except on CI where they fail)."""
    return os.environ.get("STUDYBOT_TEST_PG_URL") or None


def require_or_skip(available: bool, reason: str) -> None:
    """Skip with ``reason`` off CI; on CI (CI=true) a missing dependency is a failure."""
    if available:
        return
    if os.environ.get("CI") == "true":
        pytest.fail(f"required on CI: {reason}")
    pytest.skip(reason)
