"""The pure parsers: URLs, arXiv ids, GitHub links, URL keys, #tags, /paper and /share arguments."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from bot.parsing.arguments import extract_tags, parse_paper, parse_share, strip_tags
from bot.parsing.errors import EmptyInput, FieldTooLong, InvalidURL, MissingURL, ParseError
from bot.parsing.links import MAX_URL_KEY, arxiv_id, github_repo, url_key, validate_url

# -- URL validation -------------------------------------------------------------------------


@pytest.mark.parametrize(
    "url",
    [
        "https://arxiv.org/abs/1903.10258",
        "http://openaccess.thecvf.com/content_CVPR_2019/papers/Chen_DCL.pdf",
        "https://zhuanlan.zhihu.com/p/123?utm_source=wechat#ref",
        "http://localhost:8080/notes",
        "https://127.0.0.1/x",
        "https://[::1]:8443/x",
        "https://例子.中国/路径",
    ],
)
def test_valid_urls_are_accepted_unchanged(url):
    assert validate_url(url) == url


def test_www_link_without_scheme_gets_https():
    assert validate_url("www.example.com/a") == "https://www.example.com/a"


@pytest.mark.parametrize(
    ("url", "code"),
    [
        ("ftp://example.com/file", "url_scheme"),
        ("javascript:alert(1)", "url_scheme"),
        ("example.com/no-scheme", "url_scheme"),
        ("https://nohost/", "url_host"),
        ("https://exa_mple.com/", "url_host"),
        ("https://-bad.com/", "url_host"),
        ("https://999.1.1.1/", "url_host"),
        ("https://example.com:99999/", "url_host"),
        ("https://[not-ipv6/", "url_host"),
        ("https:example.com", "url_host"),
        ("https://exa mple.com/", "url_chars"),
        ("https://example.com/\x00x", "url_chars"),
        ("https://example.com/\u202ex", "url_chars"),
        ("https://example.com/" + "a" * 2000, "url_too_long"),
    ],
)
def test_invalid_urls_raise_invalid_url_with_a_reason(url, code):
    with pytest.raises(InvalidURL) as caught:
        validate_url(url)
    assert caught.value.code == code
    assert caught.value.message("zh") and caught.value.message("en")


def test_empty_url_is_empty_input():
    with pytest.raises(EmptyInput):
        validate_url("   ")


# -- URL keys -------------------------------------------------------------------------------


def test_url_key_treats_trivial_variants_as_the_same_link():
    variants = [
        "https://zhuanlan.zhihu.com/p/123",
        "http://zhuanlan.zhihu.com/p/123/",
        "HTTPS://Zhuanlan.Zhihu.COM/p/123#comments",
        "https://zhuanlan.zhihu.com:443/p/123?utm_source=wechat&utm_medium=social",
    ]
    assert len({url_key(v) for v in variants}) == 1


def test_url_key_keeps_what_matters():
    assert url_key("https://x.com/p/123") != url_key("https://x.com/p/124")
    assert url_key("https://x.com/a?id=1") != url_key("https://x.com/a?id=2")
    assert url_key("https://x.com/a?id=1&utm_campaign=z") == url_key("https://x.com/a?id=1")
    assert url_key("https://x.com/Path") != url_key(
        "https://x.com/path"
    )  # paths are case-sensitive


def test_url_key_of_a_huge_url_fits_the_column_and_stays_distinct():
    first = url_key("https://x.com/" + "a" * 1500 + "1")
    second = url_key("https://x.com/" + "a" * 1500 + "2")
    assert len(first) <= MAX_URL_KEY and len(second) <= MAX_URL_KEY
    assert first != second


# -- arXiv and GitHub -----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("https://arxiv.org/abs/1903.10258", "1903.10258"),
        ("https://arxiv.org/abs/1903.10258v3", "1903.10258"),
        ("http://arxiv.org/pdf/1903.10258v2.pdf", "1903.10258"),
        ("https://arxiv.org/pdf/2401.01234", "2401.01234"),
        ("https://www.arxiv.org/abs/1903.10258", "1903.10258"),
        ("https://export.arxiv.org/abs/2312.00752v1", "2312.00752"),
        ("arxiv.org/abs/1903.10258", "1903.10258"),
        ("arXiv:1903.10258", "1903.10258"),
        ("见 ARXIV: 1903.10258v2 的第三节", "1903.10258"),
        ("https://arxiv.org/abs/hep-th/9901001v2", "hep-th/9901001"),
        ("arXiv:math.GT/0309136", "math.GT/0309136"),
        ("https://example.com/1903.10258", None),
        ("https://arxiv.org/abs/1913.10258", None),  # month 13 is no arXiv id
        ("arXiv", None),
        ("", None),
    ],
)
def test_arxiv_ids_are_recognised_without_version(text, expected):
    assert arxiv_id(text) == expected


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("https://github.com/JDAI-CV/DCL", "https://github.com/JDAI-CV/DCL"),
        (
            "code: https://github.com/rusty1s/pytorch_geometric.",
            "https://github.com/rusty1s/pytorch_geometric",
        ),
        ("https://github.com/owner/repo.git", "https://github.com/owner/repo"),
        ("http://www.github.com/a/b/tree/main/src?x=1#L3", "https://github.com/a/b"),
        (
            "github.com/facebookresearch/detectron2 不错",
            "https://github.com/facebookresearch/detectron2",
        ),
        ("https://github.com/topics/nlp", None),
        ("https://github.com/justowner", None),
        ("https://gitlab.com/a/b", None),
        ("https://notgithub.com/a/b", None),
    ],
)
def test_github_repository_links_are_canonicalised(text, expected):
    assert github_repo(text) == expected


# -- tags -----------------------------------------------------------------------------------


def test_tags_chinese_and_ascii_lower_cased_and_deduplicated():
    text = "#目标检测 #NLP 好文 #nlp #C++ ＃深度学习。"
    assert extract_tags(text) == ["目标检测", "nlp", "c++", "深度学习"]


def test_things_that_are_not_tags():
    text = "see question #3, https://x.com/page#section and a#b"
    assert extract_tags(text) == []


def test_tags_are_capped_in_number_and_length():
    many = " ".join(f"#tag{i}" for i in range(15))
    assert extract_tags(many) == [f"tag{i}" for i in range(10)]
    long_tag = extract_tags("#" + "x" * 50)
    assert long_tag == ["x" * 30]


def test_strip_tags_drops_leading_and_trailing_tags_but_keeps_inline_words():
    assert strip_tags("#nlp #bert 很好的 #BERT 讲解 #x") == "很好的 BERT 讲解"


# -- /paper ---------------------------------------------------------------------------------


def test_paper_with_all_fields_and_code_link():
    parsed = parse_paper(
        "https://arxiv.org/abs/1903.10258v2 DCL 细粒度识别 | 拆解与建构学习… ｜ 一句话：拆解再建构"
        " https://github.com/JDAI-CV/DCL"
    )
    assert parsed.url == "https://arxiv.org/abs/1903.10258v2"
    assert parsed.arxiv_id == "1903.10258"
    assert parsed.url_key == "arxiv:1903.10258"
    assert parsed.code_url == "https://github.com/JDAI-CV/DCL"
    assert parsed.title == "DCL 细粒度识别"
    assert parsed.summary == "拆解与建构学习…"
    assert parsed.one_liner == "拆解再建构"  # the label is not kept (the digest adds its own)


def test_paper_given_as_arxiv_token_gets_the_abstract_url():
    parsed = parse_paper("arXiv:1903.10258 Destruction and Construction Learning")
    assert parsed.url == "https://arxiv.org/abs/1903.10258"
    assert parsed.title == "Destruction and Construction Learning"


def test_paper_without_arxiv_uses_the_normalised_url_as_key():
    parsed = parse_paper("http://openaccess.thecvf.com/paper.pdf/ | 摘要")
    assert parsed.arxiv_id is None
    assert parsed.url_key == "https://openaccess.thecvf.com/paper.pdf"
    assert (parsed.title, parsed.summary, parsed.one_liner) == ("", "摘要", "")


def test_paper_extra_separators_stay_in_the_last_field():
    parsed = parse_paper("https://x.com/p T | S | a | b")
    assert parsed.one_liner == "a | b"


def test_paper_with_only_a_github_link_keeps_it_as_url_and_code():
    parsed = parse_paper("https://github.com/rusty1s/pytorch_geometric PyG")
    assert parsed.code_url == "https://github.com/rusty1s/pytorch_geometric"
    assert parsed.title == "PyG"


@pytest.mark.parametrize(
    "args",
    [
        "1706.03762",
        "1706.03762v5",
        "arXiv:1706.03762",
        "arxiv：1706.03762v2",
        "https://arxiv.org/abs/1706.03762",
        "http://arxiv.org/abs/1706.03762v7",
        "https://arxiv.org/pdf/1706.03762",
        "https://arxiv.org/pdf/1706.03762v5.pdf",
        "https://www.arxiv.org/abs/1706.03762v1",
    ],
)
def test_every_form_of_an_arxiv_reference_is_accepted(args):
    parsed = parse_paper(f"{args} 注意力机制 | 摘要")
    assert parsed.arxiv_id == "1706.03762"
    assert parsed.url_key == "arxiv:1706.03762"
    assert (parsed.title, parsed.summary) == ("注意力机制", "摘要")


def test_a_bare_arxiv_id_alone_becomes_the_abstract_page():
    parsed = parse_paper("1706.03762")
    assert parsed.url == "https://arxiv.org/abs/1706.03762"
    assert parsed.title == ""


def test_a_number_later_in_the_text_is_not_taken_for_an_arxiv_id():
    with pytest.raises(MissingURL):
        parse_paper("好文 1706.03762")


def test_two_github_links_are_both_kept_in_order():
    parsed = parse_paper(
        "https://arxiv.org/abs/1706.03762 Transformer https://github.com/tensorflow/tensor2tensor"
        " | 摘要 https://github.com/harvardnlp/annotated-transformer"
    )
    assert parsed.code_urls == [
        "https://github.com/tensorflow/tensor2tensor",
        "https://github.com/harvardnlp/annotated-transformer",
    ]
    assert (parsed.title, parsed.summary) == ("Transformer", "摘要")


@pytest.mark.parametrize(
    "label", ["代码", "代码：", "代码地址:", "源码", "仓库", "Code:", "code", "(代码)"]
)
def test_the_word_announcing_a_code_link_goes_with_it(label):
    parsed = parse_paper(
        f"https://arxiv.org/abs/1706.03762 注意力就是全部 {label} https://github.com/a/b | 讲得好"
    )
    assert parsed.title == "注意力就是全部"
    assert parsed.summary == "讲得好"
    assert parsed.code_urls == ["https://github.com/a/b"]


def test_a_label_before_the_paper_link_is_not_left_in_the_title():
    parsed = parse_paper("论文地址：https://x.com/p 一篇好文")
    assert parsed.title == "一篇好文"


@pytest.mark.parametrize(
    ("args", "error", "code"),
    [
        ("", EmptyInput, "empty"),
        ("   \x00 ", EmptyInput, "empty"),
        ("一篇很好的论文", MissingURL, "missing_url"),
        ("ftp://example.com/paper.pdf", InvalidURL, "url_scheme"),
        ("https://nohost/paper", InvalidURL, "url_host"),
    ],
)
def test_paper_bad_input(args, error, code):
    with pytest.raises(error) as caught:
        parse_paper(args)
    assert caught.value.code == code


def test_paper_overlong_title_is_refused_naming_the_field():
    with pytest.raises(FieldTooLong) as caught:
        parse_paper("https://x.com/p " + "长" * 400)
    assert "标题" in caught.value.message("zh")
    assert "title" in caught.value.message("en")


# -- /share ---------------------------------------------------------------------------------


def test_share_splits_url_tags_and_text():
    url, tags, text = parse_share("https://zhuanlan.zhihu.com/p/1 #NLP #目标检测 很好的讲解")
    assert (url, tags, text) == (
        "https://zhuanlan.zhihu.com/p/1",
        ["nlp", "目标检测"],
        "很好的讲解",
    )


def test_share_needs_a_link():
    with pytest.raises(MissingURL):
        parse_share("#NLP 没有链接")
    with pytest.raises(InvalidURL):
        parse_share("mailto://someone")


# -- robustness: only documented errors, whatever the input ----------------------------------

PARSERS = [
    validate_url,
    url_key,
    arxiv_id,
    github_repo,
    extract_tags,
    strip_tags,
    parse_paper,
    parse_share,
]
TRICKY = st.sampled_from(
    [
        "https://",
        "http://[",
        "www.",
        "arXiv:",
        "github.com/",
        "#",
        "｜",
        "|",
        ":",
        "/",
        "%",
        "\x00",
        "\ud800",
        "?",
        "=",
        " ",
    ]
)


@settings(max_examples=500, deadline=None)
@given(st.lists(st.one_of(st.text(max_size=30), TRICKY), max_size=8).map("".join))
def test_parsers_raise_only_parse_errors(text):
    for parser in PARSERS:
        try:
            parser(text)
        except ParseError as error:
            assert isinstance(error, ValueError)
            assert error.message("zh") and error.message("en")


@pytest.mark.parametrize(
    ("text", "fields"),
    [
        (
            "1706.03762 注意力就是一切 | 提出 Transformer | 一句话：只用注意力",
            ("注意力就是一切", "提出 Transformer", "只用注意力"),
        ),
        (
            "1706.03762 标题：注意力 | 摘要: 提出 Transformer | TL;DR: attention only",
            ("注意力", "提出 Transformer", "attention only"),
        ),
        (
            "1706.03762 注意力 | 简介：新架构 | 一句话概括该文献：只用注意力",
            ("注意力", "新架构", "只用注意力"),
        ),
        # a word that merely starts like a label stays
        ("1706.03762 注意力 | 一句话能说清吗 | 概要", ("注意力", "一句话能说清吗", "概要")),
        # a labelled field goes where its label says, wherever it stands
        ("1706.03762 一句话：注意力就是全部", ("", "", "注意力就是全部")),
        (
            "1706.03762 Attention Is All You Need 一句话：只用注意力",
            ("Attention Is All You Need", "", "只用注意力"),
        ),
        ("1706.03762 注意力 摘要：提出 Transformer", ("注意力", "提出 Transformer", "")),
        (
            "https://arxiv.org/abs/1706.03762\n标题：Attention Is All You Need\n摘要：提出 Transformer\n一句话：只用注意力",
            ("Attention Is All You Need", "提出 Transformer", "只用注意力"),
        ),
        (
            "1706.03762\n一句话：只用注意力\n标题：注意力就是一切",
            ("注意力就是一切", "", "只用注意力"),
        ),
        (
            "1706.03762 注意力 | TL;DR: attention only | 新架构",
            ("注意力", "新架构", "attention only"),
        ),
        # a colon inside a sentence is not a label
        ("1706.03762 注意力，总结得很好：推荐", ("注意力，总结得很好：推荐", "", "")),
    ],
)
def test_a_label_the_member_puts_before_a_paper_field_is_not_kept_in_it(text, fields):
    paper = parse_paper(text)
    assert (paper.title, paper.summary, paper.one_liner) == fields


# -- labels /paper does not store, and link labels left empty (#19) ----------------------------
@pytest.mark.parametrize(
    ("text", "title", "summary", "one_liner"),
    [
        (
            "https://openreview.net/forum?id=xyz\n标题：某论文\n作者：张三\n摘要：一种新方法",
            "某论文",
            "一种新方法",
            "",
        ),
        ("https://openreview.net/forum?id=xyz\n标题：某论文\n作者:张三, 李四", "某论文", "", ""),
        ("https://openreview.net/forum?id=xyz 某论文\n作者：张三", "某论文", "", ""),
        (
            "1706.03762 Attention Is All You Need\nAuthors: Vaswani et al.",
            "Attention Is All You Need",
            "",
            "",
        ),
        (
            "1706.03762 Attention\nAuthor: Vaswani\nTL;DR: attention only",
            "Attention",
            "",
            "attention only",
        ),
        ("1706.03762 Attention\n会议：NeurIPS 2017\n关键词：transformer", "Attention", "", ""),
        ("1706.03762 Attention\nVenue: NeurIPS | 摘要", "Attention", "摘要", ""),
        (  # the real digest's fields
            "论文名称：Destruction and Construction Learning\n"
            "论文地址：https://arxiv.org/abs/1903.10258\n"
            "代码地址：https://github.com/JDAI-CV/DCL\n"
            "一句话概括该文献：引入拆解与建构学习",
            "Destruction and Construction Learning",
            "",
            "引入拆解与建构学习",
        ),
        (
            "标题：某论文\n论文链接：https://openreview.net/forum?id=abc\n发表于：ICLR",
            "某论文",
            "",
            "",
        ),
        (
            "https://arxiv.org/abs/1706.03762 Attention | this paper: says so",
            "Attention",
            "this paper: says so",
            "",
        ),
    ],
)
def test_paper_labels_never_glue_into_the_title(text, title, summary, one_liner):
    parsed = parse_paper(text)
    assert (parsed.title, parsed.summary, parsed.one_liner) == (title, summary, one_liner)


def test_a_labelled_code_link_off_github_is_the_code_link():
    parsed = parse_paper(
        "https://openreview.net/forum?id=abc 某论文\n代码地址：https://gitee.com/a/b"
    )
    assert parsed.title == "某论文"
    assert parsed.code_urls == ["https://gitee.com/a/b"]


async def test_paper_with_an_authors_line_is_stored_and_listed_without_it(chat):
    reply = await chat.say(
        "/paper https://openreview.net/forum?id=xyz\n标题：某论文\n作者：张三\n摘要：一种新方法"
    )
    assert "某论文" in reply and "作者" not in reply
    listing = await chat.say("/papers")
    assert "某论文" in listing and "张三" not in listing
