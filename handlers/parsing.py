"""Pure parsers for the content commands: URLs, arXiv ids, GitHub links, #tags, /paper arguments.

No database, no I/O. On any ``str`` input every function here either returns a value or raises
a :class:`ParseError` (a ``ValueError`` subclass) whose ``code`` names a text in :data:`MSG`:

- :class:`EmptyInput` (``empty``): nothing given;
- :class:`InvalidURL` (``url_scheme``, ``url_host``, ``url_chars``, ``url_too_long``);
- :class:`MissingURL` (``missing_url``): no link found where one is required;
- :class:`FieldTooLong` (``field_too_long``): a /paper field exceeds its limit.
"""

from __future__ import annotations

import hashlib
import ipaddress
import re
from dataclasses import dataclass
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

from bot.i18n import Messages

MAX_URL_LENGTH = 2000
MAX_URL_KEY = 512
MAX_TAGS = 10
MAX_TAG_LENGTH = 30
FIELD_LIMITS = {"title": 300, "summary": 3000, "one_liner": 500}

MSG = Messages(
    {
        "empty": ("内容是空的。", "Nothing was given."),
        "url_scheme": (
            "链接必须以 http:// 或 https:// 开头：{url}",
            "Links must start with http:// or https://: {url}",
        ),
        "url_host": ("链接里没有有效的网址域名：{url}", "That link has no valid host name: {url}"),
        "url_chars": (
            "链接里不能有空格或控制字符：{url}",
            "Links cannot contain spaces or control characters: {url}",
        ),
        "url_too_long": (
            "链接太长了（上限 {limit} 字符）。",
            "That link is too long (limit {limit} characters).",
        ),
        "missing_url": (
            "没有找到链接，请附上以 https:// 开头的网址（论文也可写 arXiv:1903.10258）。",
            "No link found: please include an https:// address (for papers, arXiv:1903.10258 works too).",
        ),
        "field_too_long": (
            "{field}太长了（上限 {limit} 字）。",
            "The {field} is too long (limit {limit} characters).",
        ),
        "field_title": ("标题", "title"),
        "field_summary": ("摘要", "summary"),
        "field_one_liner": ("一句话概括", "one-line summary"),
    }
)


class ParseError(ValueError):
    """Bad input for a parser. ``code`` is a key of :data:`MSG`; ``values`` fill it in."""

    code = "empty"

    def __init__(self, code: str | None = None, **values: object) -> None:
        if code is not None:
            self.code = code
        self.values = values
        super().__init__(f"{self.code}: {values}" if values else self.code)

    def message(self, lang: str) -> str:
        """The user-facing text in ``lang``."""
        values = dict(self.values)
        if "field" in values:
            values["field"] = MSG.get(f"field_{values['field']}", lang)
        return MSG.get(self.code, lang, **values)


class EmptyInput(ParseError):
    """Nothing to parse."""

    code = "empty"


class InvalidURL(ParseError):
    """A link that is not an http(s) URL with a real host."""

    code = "url_host"


class MissingURL(ParseError):
    """No link where one is required."""

    code = "missing_url"


class FieldTooLong(ParseError):
    """A field of /paper is longer than :data:`FIELD_LIMITS` allows."""

    code = "field_too_long"


# -- URLs -----------------------------------------------------------------------------------

_UNSAFE = re.compile(r"[\s\x00-\x1f\x7f-\x9f\u200b-\u200f\u2028-\u202e\u2060\ufeff]")
_URL_CHARS = re.compile(r"[^\s|｜<>\"'，。！？；、（）「」『』【】《》\u3000]+")
_URL_TOKEN = re.compile(r"(?i)(?:https?://|www\.)" + _URL_CHARS.pattern)
_SCHEME = re.compile(r"^([A-Za-z][A-Za-z0-9+.-]*):")
_TRAILING = ".,;:!?"
_SHOWN = 80


def _valid_unicode(text: str) -> str:
    """``text`` with lone surrogates (not encodable, not storable) replaced by '?'."""
    return text.encode("utf-8", "replace").decode("utf-8")


def _shown(url: str) -> str:
    shown = _UNSAFE.sub("", url)
    return shown if len(shown) <= _SHOWN else shown[: _SHOWN - 1] + "…"


def _valid_host(host: str) -> bool:
    if host == "localhost":
        return True
    if host.startswith("["):
        try:
            ipaddress.IPv6Address(host.strip("[]"))
        except ValueError:
            return False
        return True
    labels = host.rstrip(".").split(".")
    if len(labels) < 2 or len(host) > 253:
        return False
    if all(label.isdigit() for label in labels):
        try:
            ipaddress.IPv4Address(host)
        except ValueError:
            return False
        return True
    for label in labels:
        if not 1 <= len(label) <= 63 or label[0] == "-" or label[-1] == "-":
            return False
        if not all(ch.isalnum() or ch == "-" for ch in label):
            return False
    return len(labels[-1]) >= 2 and not labels[-1].isdigit()


def validate_url(text: str) -> str:
    """Return ``text`` as a checked http(s) URL (trimmed; ``www.x.y`` gets ``https://``).

    Raises :class:`InvalidURL` for other schemes, a missing/bogus host, spaces or control
    characters, or more than :data:`MAX_URL_LENGTH` characters.
    """
    url = _valid_unicode(text).strip()
    if not url:
        raise EmptyInput()
    if len(url) > MAX_URL_LENGTH:
        raise InvalidURL("url_too_long", limit=MAX_URL_LENGTH)
    if _UNSAFE.search(url):
        raise InvalidURL("url_chars", url=_shown(url))
    if url.lower().startswith("www."):
        url = "https://" + url
    scheme = _SCHEME.match(url)
    if scheme is None or scheme.group(1).lower() not in ("http", "https"):
        raise InvalidURL("url_scheme", url=_shown(url))
    try:
        parts = urlsplit(url)
        host = parts.hostname or ""
        _ = parts.port
    except ValueError as exc:
        raise InvalidURL("url_host", url=_shown(url)) from exc
    if not url[len(scheme.group(0)) :].startswith("//"):
        raise InvalidURL("url_host", url=_shown(url))
    if parts.netloc.endswith("]") or ":" in host:
        host = f"[{host}]"
    if not _valid_host(host):
        raise InvalidURL("url_host", url=_shown(url))
    return url


def _strip_trailing(token: str) -> str:
    while token and token[-1] in _TRAILING:
        token = token[:-1]
    while token.endswith(")") and token.count("(") < token.count(")"):
        token = token[:-1]
    return token


def find_urls(text: str) -> list[str]:
    """Every ``http(s)://`` or ``www.`` link in ``text`` (trailing punctuation dropped), unchecked."""
    found = []
    for match in _URL_TOKEN.finditer(text):
        start = match.start()
        before = text[start - 1] if start else " "
        if (before.isascii() and before.isalnum()) or before in "/.@:":
            continue  # e.g. the "www." inside a longer word or URL
        token = _strip_trailing(match.group(0))
        if token:
            found.append(token)
    return found


def url_key(url: str) -> str:
    """A key for duplicate detection: https, lower-case host, no default port, fragment,
    ``utm_*`` parameters or trailing slash. Keys longer than 512 characters end in a hash."""
    try:
        parts = urlsplit(_valid_unicode(url).strip())
        host = (parts.hostname or "").lower()
        port = parts.port
    except ValueError:
        host, port, parts = "", None, urlsplit("")
    if host and ":" in host:
        host = f"[{host}]"
    if port is not None and port not in (80, 443):
        host = f"{host}:{port}"
    query = [
        (k, v)
        for k, v in parse_qsl(parts.query, keep_blank_values=True)
        if not k.lower().startswith("utm_")
    ]
    path = parts.path.rstrip("/")
    key = urlunsplit(("https", host, path, urlencode(query), ""))
    if len(key) > MAX_URL_KEY:
        digest = hashlib.sha256(key.encode("utf-8", "replace")).hexdigest()
        key = key[: MAX_URL_KEY - 65] + "#" + digest
    return key


# -- arXiv and GitHub -----------------------------------------------------------------------

_ARXIV_NEW = r"(?P<new>[0-9]{2}(?:0[1-9]|1[0-2])\.[0-9]{4,5})(?:v[0-9]+)?"
_ARXIV_OLD = r"(?P<old>[a-z]+(?:-[a-z]+)*(?:\.[A-Za-z]{2})?/[0-9]{7})(?:v[0-9]+)?"
_ARXIV_ID = rf"(?:{_ARXIV_NEW}|{_ARXIV_OLD})"
_ARXIV_URL = re.compile(
    r"(?i:(?:https?://)?(?:www\.|export\.)?arxiv\.org/(?:abs|pdf|html)/)"
    + _ARXIV_ID
    + r"(?i:\.pdf)?(?![\w.])"
)
_ARXIV_TOKEN = re.compile(r"(?<![\w/])(?i:arxiv)\s*[:：]\s*" + _ARXIV_ID + r"(?![\w.])")


def _arxiv_match(text: str) -> re.Match[str] | None:
    return _ARXIV_URL.search(text) or _ARXIV_TOKEN.search(text)


def arxiv_id(text: str) -> str | None:
    """The arXiv id (without version) in an arxiv.org link or an ``arXiv:ID`` token, if any.

    >>> arxiv_id("https://arxiv.org/pdf/1903.10258v2.pdf")
    '1903.10258'
    """
    match = _arxiv_match(text)
    if match is None:
        return None
    return match.group("new") or match.group("old")


def arxiv_url(identifier: str) -> str:
    """The canonical abstract page of an arXiv id."""
    return f"https://arxiv.org/abs/{identifier}"


_GITHUB_RESERVED = frozenset(
    "about collections contact enterprise events explore features issues login marketplace "
    "new notifications orgs pricing pulls search security settings site sponsors topics "
    "trending users apps".split()
)
_GITHUB = re.compile(
    r"(?i:(?<![\w.])(?:https?://)?(?:www\.)?github\.com/)"
    r"(?P<owner>[A-Za-z0-9](?:[A-Za-z0-9-]{0,38}))/(?P<repo>[A-Za-z0-9._-]{1,100})"
    r"(?P<rest>[^\s|｜<>\"'，。！？；、（）「」『』【】《》]*)"
)


def github_repo(text: str) -> str | None:
    """The first GitHub repository linked in ``text`` as ``https://github.com/owner/repo``."""
    for match in _GITHUB.finditer(text):
        owner, repo = match.group("owner"), match.group("repo")
        if repo.lower().endswith(".git"):
            repo = repo[:-4]
        repo = repo.rstrip(".")
        if owner.lower() in _GITHUB_RESERVED or not repo or repo in (".", ".."):
            continue
        return f"https://github.com/{owner}/{repo}"
    return None


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
    text = _CONTROL.sub("", _valid_unicode(args)).strip()
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
        token = _ARXIV_TOKEN.search(text) or _ARXIV_URL.search(text)
        if token is not None:
            identifier = token.group("new") or token.group("old")
            text = _remove(text, token.group(0))
            url = arxiv_url(identifier)
        elif urls:
            main = urls[0]  # a GitHub repository shared as a paper link
        else:
            first = text.split()[0]
            if "://" in first:
                validate_url(_strip_trailing(first))
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
    text = _CONTROL.sub("", _valid_unicode(args)).strip()
    if not text:
        raise EmptyInput()
    urls = find_urls(text)
    if not urls:
        first = text.split()[0]
        if "://" in first:
            validate_url(_strip_trailing(first))
        raise MissingURL()
    url = validate_url(urls[0])
    rest = _remove(text, urls[0])
    tags = extract_tags(rest, ignore=("分享", "share"))
    return url, tags, strip_tags(rest)
