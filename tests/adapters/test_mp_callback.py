"""The 公众号 callback, as WeChat calls it: signed (and in safe mode encrypted) with wechatpy's
own crypto, answered by the real app, customer-service messages sent to the fake 公众号 API."""

from __future__ import annotations

import asyncio
import hashlib
import logging
import re
import time
from typing import Any

import pytest
from aiohttp import web
from aiohttp.test_utils import TestClient, TestServer
from sqlalchemy import func, select
from wechatpy import parse_message
from wechatpy.crypto import WeChatCrypto

from bot.adapters.mp import MpAdapter
from bot.app import build_app, make_mp_adapter
from bot.model import Incoming, Reply
from storage.models import CheckIn, Member, ProcessedMessage
from tests.conftest import make_config
from tests.support.mp_fake import APP_ID, APP_SECRET, FakeMp

TOKEN = "callback-token-123"
AES_KEY = "abcdefghijklmnopqrstuvwxyz0123456789ABCDEFG"
OPENID = "o6_bmjrPTlm6_2sgVt7hMZOPfL2M"
ACCOUNT = "gh_0123456789ab"
QR = b"\x89PNG\r\n\x1a\n fake group QR code"


@pytest.fixture
def fake():
    with FakeMp() as running:
        yield running


@pytest.fixture
def qr_file(tmp_path):
    path = tmp_path / "group-qr.png"
    path.write_bytes(QR)
    return path


def mp_config(tmp_path, fake: FakeMp, qr_file, **mp: Any):
    settings = {
        "app_id": APP_ID,
        "app_secret": APP_SECRET,
        "token": TOKEN,
        "api_base_url": fake.url,
        "qr_image": str(qr_file),
        **mp,
    }
    return make_config(tmp_path, mp=settings)


class Wechat:
    """Posts callbacks like WeChat's servers do."""

    def __init__(self, client: TestClient, crypto: WeChatCrypto | None = None) -> None:
        self.client = client
        self.crypto = crypto
        self.nonce = 1000

    def query(self, *, forged: bool = False) -> dict[str, str]:
        self.nonce += 1
        timestamp, nonce = str(int(time.time())), str(self.nonce)
        parts = sorted([TOKEN, timestamp, nonce])
        signature = hashlib.sha1("".join(parts).encode()).hexdigest()
        if forged:
            signature = "0" * 40
        return {"signature": signature, "timestamp": timestamp, "nonce": nonce}

    async def post(self, xml: str, *, forged: bool = False) -> tuple[int, str]:
        query = self.query(forged=forged)
        body = xml
        if self.crypto is not None:
            sealed = self.crypto.encrypt_message(xml, query["nonce"], query["timestamp"])
            body = f"<xml><ToUserName><![CDATA[{ACCOUNT}]]></ToUserName>{_between(sealed, 'Encrypt')}</xml>"
            query.update(encrypt_type="aes", msg_signature=_text(sealed, "MsgSignature"))
        response = await self.client.post("/mp/callback", params=query, data=body.encode())
        text = await response.text()
        if self.crypto is not None and response.status == 200 and text != "success":
            assert "<Encrypt>" in text  # the reply is encrypted too
            text = self.crypto.decrypt_message(
                text, _text(text, "MsgSignature"), _text(text, "TimeStamp"), _text(text, "Nonce")
            )
        return response.status, text

    async def say(self, content: str, msg_id: int, openid: str = OPENID) -> tuple[int, str]:
        return await self.post(text_xml(content, msg_id, openid))


def _between(xml: str, tag: str) -> str:
    found = re.search(rf"<{tag}>.*?</{tag}>", xml, re.S)
    assert found
    return found.group(0)


def _text(xml: str, tag: str) -> str:
    found = re.search(rf"<{tag}>(?:<!\[CDATA\[)?(.*?)(?:\]\]>)?</{tag}>", xml, re.S)
    assert found
    return found.group(1)


def text_xml(content: str, msg_id: int, openid: str = OPENID) -> str:
    return (
        f"<xml><ToUserName><![CDATA[{ACCOUNT}]]></ToUserName>"
        f"<FromUserName><![CDATA[{openid}]]></FromUserName>"
        f"<CreateTime>{int(time.time())}</CreateTime><MsgType><![CDATA[text]]></MsgType>"
        f"<Content><![CDATA[{content}]]></Content><MsgId>{msg_id}</MsgId></xml>"
    )


def event_xml(event: str, created: int, openid: str = OPENID) -> str:
    return (
        f"<xml><ToUserName><![CDATA[{ACCOUNT}]]></ToUserName>"
        f"<FromUserName><![CDATA[{openid}]]></FromUserName><CreateTime>{created}</CreateTime>"
        f"<MsgType><![CDATA[event]]></MsgType><Event><![CDATA[{event}]]></Event></xml>"
    )


def content_of(reply_xml: str) -> str:
    message = parse_message(reply_xml)
    assert message.source == ACCOUNT and message.target == OPENID
    return str(message.content)


async def serving(adapter: MpAdapter) -> TestClient:
    application = web.Application()
    application.router.add_routes(adapter.routes())
    client = TestClient(TestServer(application))
    await client.start_server()
    return client


async def settle(adapter: MpAdapter) -> None:
    """Wait for the customer-service messages the adapter is sending."""
    for _ in range(200):
        if not adapter._background:
            return
        await asyncio.sleep(0.02)
    raise AssertionError("customer-service messages still pending")


@pytest.fixture
async def world(tmp_path, fake, qr_file, clock):
    app = build_app(mp_config(tmp_path, fake, qr_file), clock=clock)
    adapter = make_mp_adapter(app)
    assert isinstance(adapter, MpAdapter)
    client = await serving(adapter)
    yield app, adapter, Wechat(client)
    await client.close()
    app.db.dispose()


def count(app, model) -> int:
    with app.db.session() as session:
        return int(session.scalar(select(func.count()).select_from(model)) or 0)


# -- verification and signatures -------------------------------------------------------------
async def test_get_echostr_is_echoed_only_with_a_valid_signature(world):
    _app, _adapter, wechat = world
    query = wechat.query()
    response = await wechat.client.get("/mp/callback", params={**query, "echostr": "e123"})
    assert response.status == 200 and await response.text() == "e123"
    forged = wechat.query(forged=True)
    response = await wechat.client.get("/mp/callback", params={**forged, "echostr": "e123"})
    assert response.status == 403 and "e123" not in await response.text()


async def test_forged_signature_is_403_and_nothing_is_stored(world):
    app, adapter, wechat = world
    status, _ = await wechat.post(text_xml("/checkin 学了 CNN", 1), forged=True)
    assert status == 403
    await settle(adapter)
    assert count(app, CheckIn) == 0 and count(app, ProcessedMessage) == 0
    assert count(app, Member) == 0


async def test_malformed_xml_gets_success_and_a_log_line(world, caplog):
    app, _adapter, wechat = world
    with caplog.at_level(logging.WARNING, logger="bot.adapters.mp"):
        status, body = await wechat.post("<xml><FromUserName>oops")
    assert (status, body) == (200, "success")
    assert any("not understood" in r.getMessage() for r in caplog.records)
    assert count(app, ProcessedMessage) == 0


# -- what followers get ------------------------------------------------------------------------
async def test_zixue_gets_the_join_text_passively_and_the_qr_code_uploaded_once(world, fake):
    app, adapter, wechat = world
    status, body = await wechat.say("自学", 101)
    assert status == 200
    assert content_of(body) == app.config.mp.join_text + "\n长按识别下方二维码，加入社群 👇"
    assert "回复「自学」" not in content_of(body)
    await settle(adapter)
    images = [m for m in fake.messages if m["msgtype"] == "image"]
    assert len(images) == 1 and images[0]["touser"] == OPENID
    assert fake.temp_media[images[0]["image"]["media_id"]] == QR
    await wechat.say("自学", 102, openid="o-another-follower")
    await settle(adapter)
    assert len(fake.endpoint_calls("media/upload")) == 1  # the media id is reused
    assert len([m for m in fake.messages if m["msgtype"] == "image"]) == 2


async def test_an_expired_qr_code_is_uploaded_again(world, fake):
    _app, adapter, wechat = world
    await wechat.say("自学", 201)
    await settle(adapter)
    first = fake.messages[-1]["image"]["media_id"]
    fake.expire_media(first)  # WeChat dropped it (3 days): 40007 on send
    await wechat.say("自学", 202)
    await settle(adapter)
    second = fake.messages[-1]["image"]["media_id"]
    assert second != first and fake.temp_media[second] == QR
    assert len(fake.endpoint_calls("media/upload")) == 2


async def test_invite_link_instead_of_a_qr_code(tmp_path, fake, clock):
    app = build_app(
        make_config(
            tmp_path,
            mp={"app_id": APP_ID, "token": TOKEN, "invite_link": "https://example.org/join"},
        ),
        clock=clock,
    )
    adapter = make_mp_adapter(app)
    client = await serving(adapter)
    try:
        _, body = await Wechat(client).say("自学", 301)
        assert content_of(body).endswith("https://example.org/join")
        assert content_of(body).startswith(app.config.mp.join_text)
    finally:
        await client.close()
        app.db.dispose()


async def test_without_qr_code_or_link_the_follower_is_told_an_admin_will_add_them(
    tmp_path, fake, clock, caplog
):
    app = build_app(make_config(tmp_path, mp={"app_id": APP_ID, "token": TOKEN}), clock=clock)
    adapter = make_mp_adapter(app)
    client = await serving(adapter)
    try:
        with caplog.at_level(logging.WARNING, logger="handlers.keywords"):
            _, body = await Wechat(client).say("自学", 351)
        assert "二维码" not in content_of(body) and "管理员会拉你进群" in content_of(body)
        assert any("mp.qr_image" in r.getMessage() for r in caplog.records)
    finally:
        await client.close()
        app.db.dispose()


async def test_subscribe_gets_the_welcome_and_unsubscribe_nothing(world):
    app, _adapter, wechat = world
    _, body = await wechat.post(event_xml("subscribe", 1_700_000_000))
    assert content_of(body) == app.config.mp.welcome
    assert (await wechat.post(event_xml("unsubscribe", 1_700_000_100)))[1] == "success"


async def test_commands_run_the_same_handlers_with_the_openid_as_identity(world):
    app, _adapter, wechat = world
    _, body = await wechat.say("/checkin 本周读完了《动手学深度学习》第三章", 401)
    assert "✅" in content_of(body) or "记录" in content_of(body)
    with app.db.session() as session:
        member = session.scalars(select(Member)).one()
        assert (member.platform, member.platform_user_id) == ("mp", OPENID)
        assert session.scalars(select(CheckIn.text)).one().startswith("本周读完了")
    _, body = await wechat.say("/me", 402)
    assert content_of(body)  # the follower's own record


async def test_a_retry_is_handled_once(world, tmp_path, fake, qr_file, clock):
    app, _adapter, wechat = world
    first = await wechat.say("/checkin 第一条心得", 501)
    again = await wechat.say("/checkin 第一条心得", 501)  # WeChat did not get our answer
    assert again == first
    assert count(app, CheckIn) == 1
    # after a restart (nothing in memory) the database's processed-message record drops it
    restarted = make_mp_adapter(app)
    client = await serving(restarted)
    try:
        status, body = await Wechat(client).say("/checkin 第一条心得", 501)
    finally:
        await client.close()
    assert (status, body) == (200, "success")
    assert count(app, CheckIn) == 1


async def test_a_retried_event_is_handled_once(world):
    app, _adapter, wechat = world
    await wechat.post(event_xml("subscribe", 1_700_000_000))
    restarted = make_mp_adapter(app)
    client = await serving(restarted)
    try:
        _, body = await Wechat(client).post(event_xml("subscribe", 1_700_000_000))
    finally:
        await client.close()
    assert body == "success"
    assert count(app, ProcessedMessage) == 1


async def test_slow_answer_goes_by_customer_service_message(tmp_path, fake, qr_file, clock):
    app = build_app(mp_config(tmp_path, fake, qr_file, reply_timeout_seconds=0.2), clock=clock)
    store_adapter = make_mp_adapter(app)
    assert isinstance(store_adapter, MpAdapter)

    async def slow(incoming: Incoming) -> list[Reply]:
        await asyncio.sleep(0.6)
        return await app.dispatcher.dispatch(incoming)

    adapter = MpAdapter(slow, app.config, store_adapter.client, store_adapter.store)
    client = await serving(adapter)
    try:
        wechat = Wechat(client)
        started = time.monotonic()
        status, body = await wechat.say("/checkin 慢慢写的心得", 601)
        assert (status, body) == (200, "success")
        assert time.monotonic() - started < 1.0
        again = await wechat.say("/checkin 慢慢写的心得", 601)  # WeChat's retry meanwhile
        assert again == (200, "success")
        await settle(adapter)
    finally:
        await client.close()
    texts = [m["text"]["content"] for m in fake.messages if m["msgtype"] == "text"]
    assert len(texts) == 1 and ("✅" in texts[0] or "记录" in texts[0])
    assert count(app, CheckIn) == 1
    app.db.dispose()


async def test_a_follower_outside_the_48_hours_is_logged_not_raised(
    tmp_path, fake, qr_file, clock, caplog
):
    app = build_app(mp_config(tmp_path, fake, qr_file), clock=clock)
    adapter = make_mp_adapter(app)
    assert isinstance(adapter, MpAdapter)
    fake.followers_last_message[OPENID] = time.time() - 49 * 3600
    with caplog.at_level(logging.WARNING, logger="bot.adapters.mp"):
        await adapter._send_all(OPENID, [("text", "迟到的回复")])
    assert any("48-hour" in r.getMessage() for r in caplog.records)
    assert not fake.messages
    app.db.dispose()


# -- safe mode ---------------------------------------------------------------------------------
async def test_safe_mode_decrypts_and_encrypts(tmp_path, fake, qr_file, clock):
    app = build_app(mp_config(tmp_path, fake, qr_file, encoding_aes_key=AES_KEY), clock=clock)
    adapter = make_mp_adapter(app)
    client = await serving(adapter)
    crypto = WeChatCrypto(TOKEN, AES_KEY, APP_ID)
    try:
        wechat = Wechat(client, crypto)
        status, body = await wechat.say("自学", 701)
        assert status == 200 and content_of(body).startswith(app.config.mp.join_text)
        # a body sealed with another key is not ours: success, nothing stored
        other = Wechat(client, WeChatCrypto(TOKEN, "B" * 43, APP_ID))
        status, body = await other.say("/checkin 伪造的", 702)
        assert status in (200, 403) and "伪造" not in body
        assert count(app, CheckIn) == 0
    finally:
        await client.close()
        app.db.dispose()


async def test_a_follower_of_an_english_club_is_named_in_english(tmp_path, fake, clock):
    app = build_app(
        make_config(tmp_path, language="en", mp={"app_id": APP_ID, "token": TOKEN}), clock=clock
    )
    adapter = make_mp_adapter(app)
    client = await serving(adapter)
    try:
        _, body = await Wechat(client).say("/me", 501)
        assert f"Reader {OPENID[-4:]}" in content_of(body)
        assert "公众号读者" not in content_of(body)
    finally:
        await client.close()
        app.db.dispose()
