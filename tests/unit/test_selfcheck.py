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
