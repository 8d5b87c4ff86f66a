"""/stats: correct figures, a real PNG chart, admins only, and never tofu boxes."""

from __future__ import annotations

import io
import struct
import warnings

import pytest
from matplotlib.image import imread

from digest import charts
from storage.identity import get_group
from storage.stats import weekly_activity

PNG_MAGIC = b"\x89PNG\r\n\x1a\n"


def png_size(data: bytes) -> tuple[int, int]:
    assert data[:8] == PNG_MAGIC and data[12:16] == b"IHDR"
    width, height = struct.unpack(">II", data[16:24])
    return width, height


async def fill(chat, clock) -> None:
    """Last week: 3 check-ins by 2 members. This week: 1 check-in, 2 questions, 1 answer,
    1 paper, 1 resource by 4 members in all (a fifth person only said /start)."""
    await chat.say("/checkin 上周一", user="a", name="阿一")
    await chat.say("/checkin 上周二", user="a", name="阿一")
    await chat.say("/checkin 上周三", user="b", name="阿二")
    clock.advance(days=7)
    await chat.say("/checkin 本周", user="a", name="阿一")
    await chat.say("/ask 什么是 dropout？", user="c", name="阿三")
    await chat.say("/ask 为什么要归一化？", user="c", name="阿三")
    await chat.say("/answer 1 随机丢弃神经元，防止过拟合", user="d", name="阿四")
    await chat.say("/paper https://arxiv.org/abs/1706.03762 Attention Is All You Need", user="d")
    await chat.say("/share https://example.com/cv #cv 目标检测入门", user="b", name="阿二")
    await chat.say("/start", user="lurker")


async def test_stats_text_figures(chat, clock):
    await fill(chat, clock)
    text = await chat.say("/stats", user="admin")
    assert "成员 6 人，其中 4 人发过内容" in text  # a, b, c, d (+ lurker and admin)
    assert "本周活跃 4 人 · 本周打卡 1 次（上周 3 次）" in text
    assert "累计：打卡 4 · 提问 2（待解答 1 · 已解答 1） · 回答 1 · 论文 1 · 资料 1" in text


async def test_stats_chart_is_a_valid_png(chat, clock):
    await fill(chat, clock)
    # the figures at once (with 「生成中」), the chart after (#19 item 12: one slow reply before)
    [figures, reply] = await chat.send("/统计", user="admin")
    assert "生成中" in figures.text and figures.image is None
    assert reply.image is not None and reply.image_name.endswith(".png")
    assert png_size(reply.image) == (900, 600)
    assert 10_000 < len(reply.image) < 500_000
    pixels = imread(io.BytesIO(reply.image))
    assert pixels.shape[:2] == (600, 900)
    assert pixels.std() > 0.05  # not a blank canvas


async def test_weekly_activity_counts_members_and_checkins(chat, clock, bot_app):
    await fill(chat, clock)
    with bot_app.db.session() as session:
        group = get_group(session, "ml-club")
        weeks = weekly_activity(session, group, clock(), 3)
    assert [(w.active_members, w.checkins) for w in weeks] == [(0, 0), (2, 3), (4, 1)]


async def test_stats_is_for_admins_only(chat, clock):
    await fill(chat, clock)
    [reply] = await chat.send("/stats", user="a")
    assert "仅限管理员" in reply.text and reply.image is None


def render_without_warnings(*args) -> bytes:
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # "Glyph ... missing from font(s)" would be raised
        return charts.render_activity_chart(*args)


async def test_no_cjk_font_falls_back_to_english_without_tofu(chat, clock, bot_app, monkeypatch):
    await fill(chat, clock)
    monkeypatch.setattr(charts, "cjk_font", lambda: None)
    with bot_app.db.session() as session:
        weeks = weekly_activity(session, get_group(session, "ml-club"), clock(), 12)
    png = render_without_warnings(weeks, "ML自学者俱乐部", "zh")
    assert png_size(png) == (900, 600)
    [_, reply] = await chat.send("/stats", user="admin")
    assert reply.image is not None


def test_missing_glyphs_would_be_noticed():
    """The warning check above is real: DejaVu Sans has no Chinese glyphs."""
    from matplotlib.figure import Figure

    figure = Figure()
    figure.suptitle("每周活跃", family="DejaVu Sans")
    with pytest.warns(UserWarning, match="missing from font"):
        figure.savefig(io.BytesIO(), format="png")


def test_chinese_labels_when_a_cjk_font_is_installed():
    if charts.cjk_font() is None:
        pytest.skip("no CJK font installed (fc-list :lang=zh is empty): English labels are used")
    png = render_without_warnings([], "ML自学者俱乐部", "zh")
    assert png[:8] == PNG_MAGIC


async def test_charts_are_drawn_in_a_child_process(chat, clock, bot_app, monkeypatch):
    """The default: matplotlib works in a fresh child, never in the bot's own process."""
    await fill(chat, clock)
    with bot_app.db.session() as session:
        group = get_group(session, "ml-club")
        weeks = weekly_activity(session, group, clock(), 12)

    def not_here(*_args: object) -> bytes:
        raise AssertionError("rendered in the bot's own process")

    monkeypatch.setattr(charts, "render_activity_chart", not_here)  # the child is unpatched
    png = await charts.render_chart(weeks, group.name, group.slug, "en", separate_process=True)
    assert png[:8] == PNG_MAGIC and png_size(png) == (900, 600)
    with pytest.raises(AssertionError, match="own process"):
        await charts.render_chart(weeks, group.name, group.slug, "en", separate_process=False)


async def test_chart_for_the_web_archive(chat, clock, bot_app):
    await fill(chat, clock)
    png = charts.stats_png_for(bot_app.db, "ml-club", clock(), lang="en")
    assert png is not None and png_size(png) == (900, 600)
    assert charts.stats_png_for(bot_app.db, "no-such-group", clock()) is None


async def test_web_archive_serves_the_chart(chat, clock, bot_app):
    from aiohttp.test_utils import TestClient, TestServer

    from bot.web import make_web_app
    from bot.web_archive import Archive

    client = TestClient(TestServer(make_web_app(Archive(bot_app.config, bot_app.db))))
    await client.start_server()
    try:
        empty = await client.get("/stats.png")
        assert empty.status == 404  # no group row yet: nobody has talked to the bot
        await fill(chat, clock)
        response = await client.get("/stats.png")
        assert response.status == 200 and response.content_type == "image/png"
        assert png_size(await response.read()) == (900, 600)
    finally:
        await client.close()
