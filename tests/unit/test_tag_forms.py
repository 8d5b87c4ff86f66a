"""The loose ways members write a hashtag trigger (``#打卡：…``, ``＃打卡``, ``【打卡】…``,
``打卡 day3 …``) are recognised once, in the routing, for every hashtag and every platform."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from bot.app import load_handlers
from bot.routing import match_tag
from storage.models import CheckIn, Paper, Question, Resource

REGISTRY = load_handlers()
TAGS = REGISTRY.hashtags
BARE = REGISTRY.bare_words

LEADING_FORMS = [
    ("#{w} 学习了 CNN", "学习了 CNN"),
    ("#{w}：学习了 CNN", "学习了 CNN"),
    ("#{w}:学习了 CNN", "学习了 CNN"),
    ("#{w}，学习了 CNN", "学习了 CNN"),
    ("#{w}, 学习了 CNN", "学习了 CNN"),
    ("#{w}。学习了 CNN", "学习了 CNN"),
    ("#{w}！学习了 CNN", "学习了 CNN"),
    ("#{w}、学习了 CNN", "学习了 CNN"),
    ("#{w} - 学习了 CNN", "学习了 CNN"),
    ("#{w}学习了 CNN", "学习了 CNN"),
    ("＃{w} 学习了 CNN", "学习了 CNN"),
    ("＃{w}：学习了 CNN", "学习了 CNN"),
    ("#{w}# 学习了 CNN", "学习了 CNN"),
    ("【{w}】学习了 CNN", "学习了 CNN"),
    ("【{w}】 学习了 CNN。", "学习了 CNN。"),
    ("[{w}] 学习了 CNN", "学习了 CNN"),
    ("「{w}」学习了 CNN", "学习了 CNN"),
    ("#{w}\n学习了 CNN\n第二行", "学习了 CNN\n第二行"),
    ("#{w}", ""),
    ("＃{w}", ""),
    ("【{w}】", ""),
]
TRAILING_FORMS = [
    ("学习了 CNN #{w}", "学习了 CNN"),
    ("学习了 CNN。#{w}", "学习了 CNN"),
    ("学习了 CNN ＃{w}", "学习了 CNN"),
    ("学习了 CNN 【{w}】", "学习了 CNN"),
]


@pytest.mark.parametrize("tag", TAGS)
@pytest.mark.parametrize(("form", "rest"), LEADING_FORMS + TRAILING_FORMS)
def test_every_tag_in_every_form(tag, form, rest):
    word = tag.lstrip("#")
    assert match_tag(form.format(w=word), TAGS, BARE) == (tag, rest)


@pytest.mark.parametrize(
    ("text", "rest"),
    [
        ("打卡 day3 学习了 CNN", "day3 学习了 CNN"),
        ("打卡 Day 3：复习 SVM", "Day 3：复习 SVM"),
        ("打卡：复习 SVM", "复习 SVM"),
        ("打卡，复习 SVM", "复习 SVM"),
        ("打卡day3 复习 SVM", "day3 复习 SVM"),
        ("打卡第3天 复习 SVM", "第3天 复习 SVM"),
        ("打卡第十二天：复习", "第十二天：复习"),
    ],
)
def test_bare_checkin_word_before_a_separator_or_a_day(text, rest):
    assert match_tag(text, TAGS, BARE) == ("#打卡", rest)


@pytest.mark.parametrize(
    "text",
    [
        "大家说的 #打卡 是什么意思？",  # inside a sentence: chat
        "打卡",  # the word alone: chat (or a keyword)
        "打卡了吗大家",
        "今天忘了打卡",
        "我们#打卡",  # no space or punctuation before a trailing tag
        "论文 写完了吗",  # only 打卡 triggers without its #
        "心得 写完了",
        "#打 卡",
    ],
)
def test_not_a_trigger(text):
    assert match_tag(text, TAGS, BARE) is None


async def test_loose_forms_check_in_through_the_dispatcher(chat):
    forms = [
        ("#打卡：看完第一讲", "看完第一讲"),
        ("#打卡，看完第二讲", "看完第二讲"),
        ("#打卡。复习了 SVM", "复习了 SVM"),
        ("#打卡学习了反向传播", "学习了反向传播"),
        ("＃打卡 全角井号也行", "全角井号也行"),
        ("【打卡】读了 ResNet", "读了 ResNet"),
        ("打卡 day3 推导了 EM 算法", "day3 推导了 EM 算法"),
        ("#心得：读了 BERT", "读了 BERT"),
    ]
    for i, (form, _) in enumerate(forms, 1):
        reply = await chat.say(form, user=f"u{i}", name="大煌")  # one member each: flood limit
        assert "第 1 条" in reply, form
    with chat.app.db.session() as session:
        texts = [c.text for c in session.query(CheckIn).order_by(CheckIn.id)]
    assert texts == [text for _, text in forms]
    assert await chat.say("今天忘了打卡", user="u1") == ""


async def test_loose_forms_of_other_tags_and_a_full_width_slash(chat):
    assert "#1" in await chat.say("#提问：怎么理解 dropout？", user="u2")
    assert "第 1 条" in await chat.say("／打卡 全角斜杠", user="u3")


# -- questions without their # (#19) -----------------------------------------------------------
@pytest.mark.parametrize(
    ("text", "tag", "rest"),
    [
        ("提问 怎么理解 dropout？", "#提问", "怎么理解 dropout？"),
        ("提问：怎么理解 dropout？", "#提问", "怎么理解 dropout？"),
        ("提问:怎么理解 dropout？", "#提问", "怎么理解 dropout？"),
        ("提问，怎么理解 dropout？", "#提问", "怎么理解 dropout？"),
        ("提问\n怎么理解 dropout？", "#提问", "怎么理解 dropout？"),
        ("【提问】怎么理解 dropout？", "#提问", "怎么理解 dropout？"),
        ("【提问】 怎么理解 dropout？", "#提问", "怎么理解 dropout？"),
        ("#提问怎么理解 dropout？", "#提问", "怎么理解 dropout？"),
        ("＃提问：怎么理解 dropout？", "#提问", "怎么理解 dropout？"),
        ("怎么理解 dropout？ #提问", "#提问", "怎么理解 dropout？"),
        ("求助 CUDA 装不上", "#求助", "CUDA 装不上"),
        ("求助！CUDA 装不上", "#求助", "CUDA 装不上"),
        ("求助：CUDA 装不上", "#求助", "CUDA 装不上"),
        ("【求助】CUDA 装不上", "#求助", "CUDA 装不上"),
        ("#求助 CUDA 装不上", "#求助", "CUDA 装不上"),
        ("问题：为什么要做 batch norm？", "#问题", "为什么要做 batch norm？"),
        ("问题:为什么要做 batch norm？", "#问题", "为什么要做 batch norm？"),
        ("问题 ：为什么要做 batch norm？", "#问题", "为什么要做 batch norm？"),
        ("【问题】为什么要做 batch norm？", "#问题", "为什么要做 batch norm？"),
        ("#问题 为什么要做 batch norm？", "#问题", "为什么要做 batch norm？"),
    ],
)
def test_loose_question_forms(text, tag, rest):
    assert match_tag(text, TAGS, BARE) == (tag, rest)
# -- English hashtags and Chinese synonyms (#19) -------------------------------------------------
@pytest.mark.parametrize(
    ("text", "tag"),
    [
        ("#checkin learned PCA today", "#checkin"),
        ("#CheckIn: learned PCA", "#checkin"),
        ("#check-in learned PCA", "#check-in"),
        ("learned PCA today #checkin", "#checkin"),
        ("#ask how do I pick a learning rate?", "#ask"),
        ("#question: how do I pick a learning rate?", "#question"),
        ("#问题 怎么选择学习率？", "#问题"),
        ("#paper https://arxiv.org/abs/1706.03762", "#paper"),
        ("#share https://d2l.ai #dl great book", "#share"),
        ("#资源 https://d2l.ai 动手学深度学习", "#资源"),
        ("#资料：https://d2l.ai", "#资料"),
    ],
)
def test_english_hashtags_and_chinese_synonyms(text, tag):
    found = match_tag(text, TAGS, BARE)
    assert found is not None and found[0] == tag


@pytest.mark.parametrize(
    "text",
    [
        "提问的人好多",  # the word glued to the next one: chat, as 「打卡了吗大家」
        "我有个问题想请教大家",  # not at the start
        "提问",  # the word alone
        "求助",
        "问题",
        "问题：",  # nothing after the colon
        "问题 解决了，谢谢大家",  # 问题 needs a colon: 「问题 …」 is how people report back
        "问题不大",
        "问题，我搞定了",
        "求助帖在哪里",
        "这个问题：怎么办",
        "有问题：随时问",
    ],
)
def test_question_words_in_ordinary_chat(text):
    assert match_tag(text, TAGS, BARE) is None


async def test_loose_question_forms_ask_through_the_dispatcher(chat):
    forms = [
        "提问 怎么理解 dropout？",
        "求助：CUDA 装不上",
        "问题：batch norm 有什么用？",
        "【提问】学习率怎么选？",
    ]
    for number, form in enumerate(forms, 1):
        reply = await chat.say(form, user=f"q{number}")  # one member each: flood limit
        assert f"#{number}" in reply, form
    for text in ("提问的人好多", "我有个问题想请教大家", "问题 解决了，谢谢大家"):
        assert await chat.say(text, user="q9") == ""
    with chat.app.db.session() as session:
        texts = [q.text for q in session.query(Question).order_by(Question.number)]
    assert texts == ["怎么理解 dropout？", "CUDA 装不上", "batch norm 有什么用？", "学习率怎么选？"]


@pytest.mark.parametrize(
    "text",
    [
        "#asking for a friend",  # an English tag is a whole word
        "#questions are welcome here",
        "#papers from NeurIPS are out",
        "#shared screen is frozen",
        "#checking the logs",
        "this #paper is great, thanks",  # a tag inside a sentence is chat
        "我有个问题想问",
        "大家有什么资料推荐吗",
        "资料：在群公告里",
    ],
)
def test_ordinary_chat_is_not_a_tag(text):
    assert match_tag(text, TAGS, BARE) is None


async def test_english_hashtags_store_what_they_name(chat):
    await chat.say("#checkin learned PCA and SVD today", user="u1")
    await chat.say("#question how do I pick a learning rate?", user="u1")
    await chat.say("#paper https://arxiv.org/abs/1706.03762 Attention", user="u2")
    await chat.say("#资源 https://d2l.ai 动手学深度学习 #dl", user="u2")
    with chat.app.db.session() as session:
        assert [c.text for c in session.scalars(select(CheckIn))] == ["learned PCA and SVD today"]
        assert [q.text for q in session.scalars(select(Question))] == [
            "how do I pick a learning rate?"
        ]
        assert [p.arxiv_id for p in session.scalars(select(Paper))] == ["1706.03762"]
        [resource] = session.scalars(select(Resource)).all()
        assert resource.url.startswith("https://d2l.ai")
        assert [tag.name for tag in resource.tags] == ["dl"]
