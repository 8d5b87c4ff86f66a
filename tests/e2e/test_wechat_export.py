"""/export over a real puppet-service gateway: the file reaches the admin's chat as a FileBox."""

from __future__ import annotations

from typing import Any

import pytest

from tests.e2e.test_wechat_gateway import ROOM, Gateway, adapter, gateway, sent_text, wechat_app

__all__ = ["adapter", "gateway", "wechat_app"]  # the fixtures

pytestmark = pytest.mark.node


async def test_admin_export_arrives_privately_as_a_file(gateway: Gateway, adapter: Any) -> None:
    await gateway.say("bob", "/checkin 读完了 CS231n 第三讲", room=ROOM)
    since = gateway.mark()
    await gateway.say("alice", "/导出", room=ROOM)  # wechat:alice is a config admin
    sent = await gateway.wait(lambda e: e["event"] == "file", since)
    assert sent["to"] == "alice" and not sent["room"]
    assert sent["name"].startswith("studybot-ml-club-") and sent["name"].endswith(".json")
    text = await gateway.wait(sent_text("alice"), since)
    assert "已导出「ML自学者俱乐部」" in text["text"] and "打卡 1" in text["text"]
    assert "微信未能发送文件" not in text["text"]


async def test_refused_file_is_explained(gateway: Gateway, adapter: Any) -> None:
    await gateway.command(cmd="fail", what="messageSendFile", on=True)
    since = gateway.mark()
    await gateway.say("alice", "/export", room=ROOM)
    await gateway.wait(sent_text("alice"), since, within=15)
    events = await gateway.settle(since)
    text = "".join(e["text"] for e in events if e["event"] == "text" and e["to"] == "alice")
    assert "已导出" in text and "微信未能发送文件" in text and "Telegram" in text
    assert not [e for e in events if e["event"] == "file"]
