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
    code_url: str | None
    title: str
    summary: str
    one_liner: str


def _remove(text: str, token: str) -> str:
    return text.replace(token, " ", 1)


def parse_paper(args: str) -> PaperInput:
    """Parse ``<url> [title] | summary | 一句话概括``.

    The link may be anywhere and may be ``arXiv:1903.10258``; a GitHub repository link becomes
    ``code_url``. Fields are separated by ``|`` or ``｜``; extra separators stay in the last one.
    """
    text = _CONTROL.sub("", valid_unicode(args)).strip()
    if not text:
        raise EmptyInput()
    urls = find_urls(text)
    code_url = None
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
            text = _remove(text, token.group(0))
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
        text = _remove(text, main)
        identifier = arxiv_id(url)
    for candidate in find_urls(text):
        repo = github_repo(candidate)
        if repo is not None:
            code_url = code_url or repo
            text = _remove(text, candidate)
    if main is not None and code_url is None:
        code_url = github_repo(main)
    fields = [f.strip() for f in _SEPARATORS.split(text.strip(), maxsplit=2)]
    fields += [""] * (3 - len(fields))
    title, summary, one_liner = " ".join(fields[0].split()), fields[1], fields[2]
    for name, value in (("title", title), ("summary", summary), ("one_liner", one_liner)):
        if len(value) > FIELD_LIMITS[name]:
            raise FieldTooLong(field=name, limit=FIELD_LIMITS[name])
    key = f"arxiv:{identifier}" if identifier else url_key(url)
    return PaperInput(url, key, identifier, code_url, title, summary, one_liner)


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
    tags = extract_tags(rest, ignore=("分享", "share"))
    return url, tags, strip_tags(rest)
