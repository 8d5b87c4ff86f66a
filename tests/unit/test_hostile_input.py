"""Hostile input through the real dispatcher: arbitrary text, huge messages, invalid UTF-8,
template-injection and SQL metacharacters, floods. Nothing crashes, nothing leaks."""

from __future__ import annotations

import asyncio
import itertools

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import func, select

from bot.app import build_app
from bot.config import ConfigError, parse_config
from bot.dispatch import clean_text
from bot.model import ChatRef, Incoming, Reply, UserRef
from storage.models import ProcessedMessage
from tests.conftest import GROUP_CHAT, make_config

PRIVATE = ChatRef("console", "dm-alice", "private", "")
COMMAND_PREFIXES = st.sampled_from(
    [
        "",
        "/",
        "/checkin ",
        "/ask ",
        "/answer ",
        "/paper ",
        "/share ",
        "/search ",
        "/keyword add ",
        "/digest ",
        "#打卡 ",
        "#心得",
        "/me",
        "/rank ",
        "/away ",
        "自学",
        "/help@",
        "/x@y ",
    ]
)
NASTY = st.sampled_from(
    [
        "{{ 7*7 }}",
        "{% for x in y %}",
        "<script>alert(1)</script>",
        "'; DROP TABLE members;--",
        "\x00\x01\x1b[31m",
        "\ud800",
        "*_[]`~>#+-=|{}.!",
        "&amp;&lt;",
        "👩‍💻🧠",
        "\u202e",
        " " * 50,
    ]
)
TEXTS = st.one_of(
    st.text(max_size=300),
    st.builds(lambda p, n, t: p + n + t, COMMAND_PREFIXES, NASTY, st.text(max_size=80)),
)


@pytest.fixture(scope="module")
def hostile_app(tmp_path_factory):
    app = build_app(
        make_config(
            tmp_path_factory.mktemp("hostile"),
            limits={"burst": 10**6, "messages_per_minute": 10**6},
        )
    )
    yield app
    app.db.dispose()


_ids = itertools.count()


@settings(
    max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(text=TEXTS, private=st.booleans(), admin=st.booleans())
def test_dispatch_never_crashes_and_always_answers_in_text(hostile_app, text, private, admin):
    incoming = Incoming(
        chat=PRIVATE if private else GROUP_CHAT,
        sender=UserRef("console", "admin" if admin else "alice", "Alice"),
        text=text,
        message_id=f"h{next(_ids)}",
    )
    replies = asyncio.run(hostile_app.dispatcher.dispatch(incoming))
    assert isinstance(replies, list)
    for reply in replies:
        assert isinstance(reply, Reply)
        assert isinstance(reply.text, str) and reply.text.strip()
        reply.text.encode("utf-8")  # never a lone surrogate
        assert "Traceback" not in reply.text
        # the generic failure reply means a handler crashed on this input
        assert "出错了" not in reply.text, f"handler crashed on {text!r}"


@given(st.text())
def test_clean_text_is_idempotent_and_valid_utf8(text):
    cleaned = clean_text(text)
    assert clean_text(cleaned) == cleaned
    cleaned.encode("utf-8")
    assert "\x00" not in cleaned and "\x1b" not in cleaned


async def test_100kb_message_is_refused_and_nothing_stored(chat):
    before = _count_processed(chat)
    text = await chat.say("/checkin " + "长" * 100_000)
    assert "太长" in text
    assert _count_processed(chat) == before


async def test_invalid_utf8_bytes_decoded_by_adapter_are_handled(chat):
    raw = b"/checkin \xff\xfe\xed \xe5\xad\xa6\xe4\xb9\xa0".decode("utf-8", "surrogateescape")
    text = await chat.say(raw)
    assert text and "出错了" not in text


async def test_flood_gets_one_polite_reply_then_silence(tmp_path, clock):
    app = build_app(
        make_config(tmp_path, limits={"messages_per_minute": 6, "burst": 3}), clock=clock
    )
    try:
        replies = []
        for i in range(10):
            incoming = Incoming(GROUP_CHAT, UserRef("console", "flooder", "F"), "/help", f"f{i}")
            replies.append(await app.dispatcher.dispatch(incoming))
        polite = [r for r in replies if r and ("太快" in r[0].text)]
        assert len(polite) == 1
        assert sum(1 for r in replies if r and "太快" not in r[0].text) == 3
        assert sum(1 for r in replies if not r) == 6
        other = Incoming(GROUP_CHAT, UserRef("console", "calm", "C"), "/help", "c1")
        assert await app.dispatcher.dispatch(other), "one member's flood must not silence others"
    finally:
        app.db.dispose()


def _count_processed(chat) -> int:
    with chat.app.db.session() as session:
        return session.scalar(select(func.count()).select_from(ProcessedMessage)) or 0


CONFIG_VALUES = st.recursive(
    st.one_of(
        st.none(), st.booleans(), st.integers(), st.floats(allow_nan=True), st.text(max_size=20)
    ),
    lambda children: st.one_of(
        st.lists(children, max_size=3), st.dictionaries(st.text(max_size=10), children, max_size=3)
    ),
    max_leaves=10,
)
CONFIG_KEYS = st.sampled_from(
    [
        "language",
        "admins",
        "database",
        "groups",
        "join",
        "digest",
        "reminders",
        "limits",
        "web",
        "telegram",
        "wechat",
        "nonsense",
    ]
)


@given(st.dictionaries(CONFIG_KEYS, CONFIG_VALUES, max_size=4))
def test_any_config_tree_is_valid_or_a_clear_config_error(tree):
    try:
        parse_config(tree, env={})
    except ConfigError as error:
        assert str(error).startswith(("invalid configuration", "environment variable"))


@given(CONFIG_VALUES)
def test_non_mapping_config_is_a_clear_error(value):
    if isinstance(value, dict):
        return
    with pytest.raises(ConfigError):
        parse_config(value if value is not None else [], env={})
