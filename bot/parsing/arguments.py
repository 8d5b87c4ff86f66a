"""Pure parsers for the content commands: URLs, arXiv ids, GitHub links, #tags, /paper arguments.

No database, no I/O. On any ``str`` input every function here either returns a value or raises
a :class:`ParseError` (a ``ValueError`` subclass) whose ``code`` names a text in :data:`MSG`:

- :class:`EmptyInput` (``empty``): nothing given;
- :class:`InvalidURL` (``url_scheme``, ``url_host``, ``url_chars``, ``url_too_long``);
- :class:`MissingURL` (``missing_url``): no link found where one is required;
- :class:`FieldTooLong` (``field_too_long``): a /paper field exceeds its limit.

The texts and errors live in :mod:`bot.parsing.errors`, link recognition (URLs, URL keys,
arXiv ids, GitHub repositories) in :mod:`bot.parsing.links`; this module parses #tags and the
``/paper`` and ``/share`` arguments.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from bot.parsing.errors import (
    FIELD_LIMITS,
    EmptyInput,
    FieldTooLong,
    MissingURL,
)
from bot.parsing.links import (
    ARXIV_TOKEN,
    ARXIV_URL,
    arxiv_id,
    arxiv_url,
    find_urls,
    github_repo,
    strip_trailing,
    url_key,
    valid_unicode,
    validate_url,
)

MAX_TAGS = 10
MAX_TAG_LENGTH = 30

# -- #tags ----------------------------------------------------------------------------------

_TAG = re.compile(r"(?:(?<=\s)|^)[#＃](?P<tag>[^\W_][\w+.-]*)")


def _clean_tag(raw: str) -> str:
    return raw.rstrip(".-").lower()[:MAX_TAG_LENGTH].rstrip(".-")


def extract_tags(text: str, *, ignore: tuple[str, ...] = ()) -> list[str]:
    """#tags in ``text``: lower-cased, de-duplicated, at most 10 of at most 30 characters.

    ``#目标检测 #NLP`` -> ``["目标检测", "nlp"]``. Pure numbers (``#3``) are not tags.
    """
    tags: list[str] = []
    for match in _TAG.finditer(text):
        tag = _clean_tag(match.group("tag"))
        if not tag or tag.isdigit() or tag in tags or tag in ignore:
            continue
        tags.append(tag)
        if len(tags) == MAX_TAGS:
            break
    return tags


def strip_tags(text: str) -> str:
    """``text`` without leading/trailing #tags; inline tags keep their word (``#BERT`` -> BERT)."""
    words = text.split()
    while words and _TAG.fullmatch(words[0]):
        words.pop(0)
    while words and _TAG.fullmatch(words[-1]):
        words.pop()
    return " ".join(w[1:] if _TAG.fullmatch(w) else w for w in words)


# -- /paper -----------------------------------------------------------------------------------

_SEPARATORS = re.compile(r"\s*[|｜]\s*")
_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f\u200b\u2028\u2029]")


@dataclass(frozen=True)
class PaperInput:
    """What ``/paper`` was given, checked: link, duplicate key and the optional fields."""

    url: str
    url_key: str
    arxiv_id: str | None
    code_url: str | None  # every code link, one per line (first: the main repository)
    title: str
    summary: str
    one_liner: str

    @property
    def code_urls(self) -> list[str]:
        """The code links, in the order given."""
        return (self.code_url or "").split()


# A word that only announces the link after it (「代码 https://…」, 「Code: https://…」): removed
# with the link so that no stray 「代码」 is left in the title or summary.
_CODE_LABEL = r"(?:代码地址|代码链接|代码|源码|源代码|仓库|项目地址|项目|实现|code|source code|source|repo|github)"
_PAPER_LABEL = r"(?:论文地址|论文链接|论文|原文|链接|地址|paper|pdf|link|arxiv)"
_LABEL_BEFORE = {  # a code link's label anywhere; the paper link's only when it opens the text
    "code": re.compile(
        rf"(?i)(?:^|(?<=\s)|(?<=[|｜]))[(（\[【]?{_CODE_LABEL}[)）\]】]?\s*[:：]?\s*$"
    ),
    "paper": re.compile(rf"(?i)^\s*[(（\[【]?{_PAPER_LABEL}[)）\]】]?\s*[:：]?\s*$"),
}
# A bare arXiv id as the first word: ``/paper 1706.03762`` (or ``1706.03762v5``).
_BARE_ARXIV = re.compile(r"^(?P<new>[0-9]{2}(?:0[1-9]|1[0-2])\.[0-9]{4,5})(?:v[0-9]+)?(?![\w.])")


def _remove(text: str, token: str, label: str | None = None) -> str:
    """``text`` without ``token`` (its first occurrence) and, with ``label``, without the word
    announcing it just before (``代码：``)."""
    at = text.find(token)
    if at < 0:
        return text
    before, after = text[:at], text[at + len(token) :]
    if label is not None:
        before = _LABEL_BEFORE[label].sub("", before)
    return f"{before} {after}"


def parse_paper(args: str) -> PaperInput:
    """Parse ``<url> [title] | summary | 一句话概括``.

    The link may be anywhere and may be ``arXiv:1903.10258`` (or a bare ``1903.10258`` first);
    GitHub repository links become the code links (all of them; a word such as 「代码」 or
    ``Code:`` just before a link goes with it). Fields are separated by ``|`` or ``｜``; extra separators stay in the last one.
    """
    text = _CONTROL.sub("", valid_unicode(args)).strip()
    if not text:
        raise EmptyInput()
    bare = _BARE_ARXIV.match(text)
    if bare is not None:
        text = f"arXiv:{bare.group(0)}{text[bare.end() :]}"
    urls = find_urls(text)
    code_urls: list[str] = []
    main: str | None = None
    for candidate in urls:
        if github_repo(candidate) is None:
            main = candidate
            break
    identifier: str | None = None
    if main is None:
        token = ARXIV_TOKEN.search(text) or ARXIV_URL.search(text)
        if token is not None:
            identifier = token.group("new") or token.group("old")
            text = _remove(text, token.group(0), "paper")
            url = arxiv_url(identifier)
        elif urls:
            main = urls[0]  # a GitHub repository shared as a paper link
        else:
            first = text.split()[0]
            if "://" in first:
                validate_url(strip_trailing(first))
            raise MissingURL()
    if main is not None:
        url = validate_url(main)
        text = _remove(text, main, "paper")
        identifier = arxiv_id(url)
    for candidate in find_urls(text):
        repo = github_repo(candidate)
        if repo is not None:
            if repo not in code_urls:
                code_urls.append(repo)
            text = _remove(text, candidate, "code")
    for candidate in find_urls(text):  # 「代码：https://gitee.com/…」: labelled, not on GitHub
        at = text.find(candidate)
        if at >= 0 and _LABEL_BEFORE["code"].search(text[:at]):
            link = validate_url(candidate)
            if link not in code_urls:
                code_urls.append(link)
            text = _remove(text, candidate, "code")
    if main is not None and not code_urls and github_repo(main) is not None:
        code_urls.append(github_repo(main) or "")
    code_url = "\n".join(code_urls) or None
    title, summary, one_liner = _paper_fields(text.strip())
    for name, value in (("title", title), ("summary", summary), ("one_liner", one_liner)):
        if len(value) > FIELD_LIMITS[name]:
            raise FieldTooLong(field=name, limit=FIELD_LIMITS[name])
    key = f"arxiv:{identifier}" if identifier else url_key(url)
    return PaperInput(url, key, identifier, code_url, title, summary, one_liner)


_FIELD_LABEL = re.compile(
    r"(?:^|(?<=[\s|｜]))(?:(?P<title>标题|题目|title)|(?P<paper_name>论文名称|论文题目|paper title)"
    r"|(?P<summary>摘要|简介|总结|summary|abstract)"
    r"|(?P<one_liner>一句话(?:概括|总结|介绍)?(?:该文献|本文)?|tl;?dr|one[- ]?liner|in one line)"
    r"|(?P<drop>作者(?:们|列表)?|authors?|by|发表(?:于|在)?|会议|期刊|来源|出处|venue|conference"
    r"|journal|published(?: in| at)?|年份|时间|year|date|关键词|关键字|keywords?"
    r"|(?:(?:论文|原文|代码|项目|pdf)?(?:地址|链接)|paper|pdf|links?|urls?|code|repo|github)"
    r"(?=\s*[:：][ \t]*(?:$|\n|[|｜]))))"
    r"\s*[:：]\s*",
    re.IGNORECASE | re.MULTILINE,
)
"""A label a member may put before a /paper field (「一句话：只用注意力」, ``TL;DR:``): at the start,
after a separator or on a new line; the field's text is what follows it, up to the next label.
Labels of what /paper does not store — authors (arXiv's come with the metadata), venue, year,
keywords (``作者：张三``, ``Authors: …``) — are dropped with their text, and so is a link's label
left empty once its link was taken (``论文地址：``, ``代码地址：``): never glued into the title."""

_PAPER_FIELDS = ("title", "summary", "one_liner")


def _paper_fields(text: str) -> tuple[str, str, str]:
    """The (title, summary, one-liner) of a /paper's text without its links.

    Unlabelled, the fields go in order between ``|`` separators (extra separators stay in the
    last). A labelled part goes to the field its label names wherever it stands — on its own
    line or after the title (``/paper 1706.03762 一句话：只用注意力``) — and the unlabelled parts
    fill the remaining fields in order."""
    labels = list(_FIELD_LABEL.finditer(text))
    if labels and (
        _SEPARATORS.sub("", text[: labels[0].start()]).strip()
        or any(label.lastgroup == "title" for label in labels)
    ):
        # 「headline | 论文名称：…」: the paper's name is part of the text under a headline (the
        # digest reads it from there); it names the title only when there is no headline
        labels = [label for label in labels if label.lastgroup != "paper_name"]
    if not labels:
        parts = [f.strip() for f in _SEPARATORS.split(text, maxsplit=2)]
        parts += [""] * (3 - len(parts))
        return " ".join(parts[0].split()), parts[1], parts[2]
    fields: dict[str, list[str]] = {name: [] for name in _PAPER_FIELDS}
    unlabelled = [p.strip() for p in _SEPARATORS.split(text[: labels[0].start()])]
    for at, label in enumerate(labels):
        end = labels[at + 1].start() if at + 1 < len(labels) else len(text)
        first, *rest = _SEPARATORS.split(text[label.end() : end])
        name = label.lastgroup or "title"
        name = "title" if name == "paper_name" else name
        if name != "drop":
            fields[name].append(first.strip())
        unlabelled += [p.strip() for p in rest]
    free = [name for name in _PAPER_FIELDS if not fields[name]]
    for part in filter(None, unlabelled):
        if not free:
            fields["one_liner"].append(part)  # more parts than fields: they stay in the last
        else:
            fields[free.pop(0)].append(part)
    title, summary, one_liner = (" ".join(filter(None, fields[n])) for n in _PAPER_FIELDS)
    return " ".join(title.split()), summary, one_liner


def parse_share(args: str) -> tuple[str, list[str], str]:
    """Parse ``<url> #tag ... text`` into (checked URL, tags, text without the URL and tags)."""
    text = _CONTROL.sub("", valid_unicode(args)).strip()
    if not text:
        raise EmptyInput()
    urls = find_urls(text)
    if not urls:
        first = text.split()[0]
        if "://" in first:
            validate_url(strip_trailing(first))
        raise MissingURL()
    url = validate_url(urls[0])
    rest = _remove(text, urls[0])
    tags = extract_tags(rest, ignore=("分享", "资源", "资料", "share", "resource"))
    return url, tags, strip_tags(rest)
