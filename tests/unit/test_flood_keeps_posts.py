"""The per-member flood limit guards commands, never what a member posts (#19 item 11).

A member pasting a week of notes, questions and links in a row has every one stored and
answered; only commands such as /rank, /search and /stats wait for the limit."""

from __future__ import annotations

import pytest
from sqlalchemy import func, select

from bot.app import build_app
from bot.model import ChatRef, Incoming, UserRef
from storage.models import Answer, CheckIn, Paper, Question, Resource
from tests.conftest import GROUP_CHAT, make_config

PRIVATE = ChatRef("console", "dm-flooder", "private", "")


def _count(app, model) -> int:  # type: ignore[no-untyped-def]
    with app.db.session() as session:
        return session.scalar(select(func.count()).select_from(model)) or 0


@pytest.mark.parametrize(
    ("lang", "chat"), [("zh", GROUP_CHAT), ("en", GROUP_CHAT), ("zh", PRIVATE)]
)
async def test_posts_beyond_the_burst_are_all_stored_and_answered(tmp_path, clock, lang, chat):
    app = build_app(
        make_config(tmp_path, language=lang, limits={"messages_per_minute": 6, "burst": 3}),
        clock=clock,
    )
    flooder = UserRef("console", "flooder", "F")
    posts = [f"#打卡 第{i}天 学了第{i}章的反向传播和梯度裁剪" for i in range(1, 7)]
    posts += [f"#提问 第{i}个问题：学习率怎么选才合适（情况{i}）？" for i in range(1, 4)]
    posts += ["/paper https://arxiv.org/abs/1706.03762 Attention Is All You Need"]
    posts += ["/share https://example.com/notes 一份学习笔记"]
    posts += ["/answer 1 用 lr finder 试一下"]
    try:
        replies = []
        for number, text in enumerate(posts):
            incoming = Incoming(chat, flooder, text, f"m{number}")
            replies.append(await app.dispatcher.dispatch(incoming))
        texts = [" ".join(r.text for r in answer) for answer in replies]
        assert all(texts), f"every post is answered: {texts}"
        assert not any("太快" in t or "too quickly" in t for t in texts), texts
        assert _count(app, CheckIn) == 6
        assert _count(app, Question) == 3
        assert _count(app, Paper) == 1
        assert _count(app, Resource) == 1
        assert _count(app, Answer) == 1
        # commands still wait for the limit: one polite line, naming what is not limited
        slow = [
            await app.dispatcher.dispatch(Incoming(chat, flooder, "/rank", f"r{i}"))
            for i in range(5)
        ]
        polite = [
            r[0].text for r in slow if r and ("太快" in r[0].text or "too quickly" in r[0].text)
        ]
        assert len(polite) == 1
        assert ("照常记录" in polite[0]) if lang == "zh" else ("recorded" in polite[0])
    finally:
        app.db.dispose()
