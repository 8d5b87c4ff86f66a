"""Nothing fails silently: missing optional parts and swallowed errors are logged with what
they switch off (start-up self-check, batches that fall back)."""

from __future__ import annotations

import asyncio
import importlib.util
import itertools
import logging

import pytest

from bot import selfcheck
from bot.batching import dispatch_many
from bot.config import parse_config
from bot.model import Incoming, UserRef
from tests.conftest import GROUP_CHAT


def records(caplog: pytest.LogCaptureFixture, level: int) -> list[str]:
    return [r.getMessage() for r in caplog.records if r.levelno == level]


def test_a_missing_chinese_font_is_named_with_what_it_disables(monkeypatch, caplog):
    monkeypatch.setattr(selfcheck, "fontconfig_zh", lambda: [])
    caplog.set_level(logging.WARNING, logger="bot.selfcheck")
    selfcheck.report_optional_parts(parse_config({"language": "en"}), ["console"])
    (warning,) = [m for m in records(caplog, logging.WARNING) if "font" in m]
    assert "charts" in warning and "fonts-wqy-microhei" in warning
    caplog.clear()
    selfcheck.report_optional_parts(parse_config({"language": "zh"}), ["console"])
    assert any("font" in m for m in records(caplog, logging.ERROR))  # Chinese labels wanted


def test_a_missing_wechat_extra_is_an_error_only_when_wechat_is_configured(monkeypatch, caplog):
    real = importlib.util.find_spec
    monkeypatch.setattr(
        importlib.util, "find_spec", lambda name, *a: None if name == "wechaty" else real(name, *a)
    )
    monkeypatch.setattr(selfcheck, "fontconfig_zh", lambda: ["/fonts/wqy.ttc"])
    caplog.set_level(logging.WARNING, logger="bot.selfcheck")
    parts = selfcheck.report_optional_parts(parse_config({}), ["console"])
    assert [p.name for p in parts] == ["the WeChat extra (wechaty)"]
    assert "studybot[wechat]" in records(caplog, logging.WARNING)[0]
    caplog.clear()
    selfcheck.report_optional_parts(parse_config({"wechat": {"token": "t"}}), ["console"])
    assert "cannot serve WeChat" in records(caplog, logging.ERROR)[0]


def test_nothing_is_reported_when_every_part_is_there(monkeypatch, caplog):
    monkeypatch.setattr(selfcheck, "fontconfig_zh", lambda: ["/fonts/wqy.ttc"])
    monkeypatch.setattr(importlib.util, "find_spec", lambda name, *a: object())
    caplog.set_level(logging.DEBUG, logger="bot.selfcheck")
    assert selfcheck.report_optional_parts(parse_config({}), ["console", "wechat"]) == []
    assert caplog.records == []


def test_a_batch_broken_by_an_unexpected_error_is_logged_and_rerun_one_by_one(
    bot_app, monkeypatch, caplog
):
    from storage import checkins

    add_checkin = checkins.add_checkin

    def flaky(session, group_id, member_id, text, *args, **kwargs):
        if "boom" in text:
            raise RuntimeError("disk on fire")
        return add_checkin(session, group_id, member_id, text, *args, **kwargs)

    monkeypatch.setattr(checkins, "add_checkin", flaky)
    ids = itertools.count(1)
    messages = [
        Incoming(GROUP_CHAT, UserRef("console", u, u), t, str(next(ids)))
        for u, t in [
            ("u1", "/checkin 好的一条"),
            ("u2", "/checkin boom"),
            ("u3", "/checkin 另一条"),
        ]
    ]
    caplog.set_level(logging.INFO)
    replies = asyncio.run(dispatch_many(bot_app.dispatcher, messages))
    assert "✅" in replies[0][0].text and "✅" in replies[2][0].text  # both stored
    assert "✅" not in replies[1][0].text  # the failing one gets the error reply
    warnings = records(caplog, logging.WARNING)
    assert any("batch of 3" in m and "one by one" in m for m in warnings)
    assert any("handler failed for message 2" in m for m in records(caplog, logging.ERROR))


@pytest.fixture
def own_app(tmp_path):
    """An app whose data directory is in tmp_path (the self-check creates it)."""
    from bot.app import build_app
    from tests.conftest import make_config

    app = build_app(make_config(tmp_path, data_dir=str(tmp_path / "data")))
    yield app
    app.db.dispose()


def test_a_healthy_setup_logs_no_warning(own_app, caplog):
    caplog.set_level(logging.WARNING, logger="bot.selfcheck")
    assert selfcheck.report_setup(own_app.config, own_app.db) == []
    assert caplog.records == []


def test_an_unwritable_data_dir_and_an_old_database_are_one_warning_each_with_the_fix(
    tmp_path, caplog
):
    from sqlalchemy import text

    from bot.app import build_app
    from tests.conftest import make_config

    blocker = tmp_path / "not-a-dir"
    blocker.write_text("a file where the data directory should be")
    app = build_app(make_config(tmp_path, data_dir=str(blocker)))
    try:
        with app.db.engine.begin() as connection:
            connection.execute(text("UPDATE alembic_version SET version_num = '0005_old'"))
        caplog.set_level(logging.WARNING, logger="bot.selfcheck")
        selfcheck.report_setup(app.config, app.db)
    finally:
        app.db.dispose()
    warnings = records(caplog, logging.WARNING)
    assert len(warnings) == 2
    data_dir, migrations = sorted(warnings)
    assert data_dir.startswith("data_dir:") and "not writable" in data_dir and "fix:" in data_dir
    assert "0005_old" in migrations and "studybot db upgrade" in migrations


def test_a_configured_chat_never_heard_from_while_others_are_is_a_warning(own_app, caplog):
    bot_app = own_app
    from storage.chats import note_chats

    with bot_app.db.session() as session:
        note_chats(session, [("console", "console-other", "group", "Wrong room")], bot_app.clock())
    caplog.set_level(logging.WARNING, logger="bot.selfcheck")
    selfcheck.report_setup(bot_app.config, bot_app.db)
    (warning,) = records(caplog, logging.WARNING)
    assert "console:console-group" in warning and "studybot chats" in warning
    caplog.clear()
    with bot_app.db.session() as session:
        note_chats(session, [("console", "console-group", "group", "ML")], bot_app.clock())
    selfcheck.report_setup(bot_app.config, bot_app.db)
    assert caplog.records == []
