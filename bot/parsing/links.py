"""Recognising links in message text: checked http(s) URLs, duplicate keys, arXiv ids, GitHub repos.

Pure, no I/O. :func:`validate_url` raises :class:`~bot.parsing.errors.InvalidURL` (or
:class:`~bot.parsing.errors.EmptyInput`); the other functions never raise on a ``str``.
:mod:`bot.parsing.arguments` builds the ``/paper`` and ``/share`` argument parsers on these.
"""

from __future__ import annotations

import hashlib
import ipaddress
import re
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

from bot.parsing.errors import MAX_URL_LENGTH, EmptyInput, InvalidURL

MAX_URL_KEY = 512

# -- URLs -----------------------------------------------------------------------------------

_UNSAFE = re.compile(r"[\s\x00-\x1f\x7f-\x9f\u200b-\u200f\u2028-\u202e\u2060\ufeff]")
_URL_CHARS = re.compile(r"[^\s|｜<>\"'，。！？；、（）「」『』【】《》\u3000]+")
_URL_TOKEN = re.compile(r"(?i)(?:https?://|www\.)" + _URL_CHARS.pattern)
_SCHEME = re.compile(r"^([A-Za-z][A-Za-z0-9+.-]*):")
_TRAILING = ".,;:!?"
_SHOWN = 80


def valid_unicode(text: str) -> str:
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

    Raises :class:`InvalidURL` for other schemes, a missing/bogus host, a user name before the
    host (``https://evil.com@good.com``), spaces or control characters, or more than :data:`MAX_URL_LENGTH` characters.
    """
    url = valid_unicode(text).strip()
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
    if "@" in parts.netloc:  # https://evil.com@good.com goes to good.com, not what it shows
        raise InvalidURL("url_userinfo", url=_shown(url))
    if parts.netloc.endswith("]") or ":" in host:
        host = f"[{host}]"
    if not _valid_host(host):
        raise InvalidURL("url_host", url=_shown(url))
    return url


def strip_trailing(token: str) -> str:
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
        token = strip_trailing(match.group(0))
        if token:
            found.append(token)
    return found


def url_key(url: str) -> str:
    """A key for duplicate detection: https, lower-case host, no default port, fragment,
    ``utm_*`` parameters or trailing slash. Keys longer than 512 characters end in a hash."""
    try:
        parts = urlsplit(valid_unicode(url).strip())
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
ARXIV_URL = re.compile(
    r"(?i:(?:https?://)?(?:www\.|export\.)?arxiv\.org/(?:abs|pdf|html)/)"
    + _ARXIV_ID
    + r"(?i:\.pdf)?(?![\w.])"
)
ARXIV_TOKEN = re.compile(r"(?<![\w/])(?i:arxiv)\s*[:：]\s*" + _ARXIV_ID + r"(?![\w.])")


def _arxiv_match(text: str) -> re.Match[str] | None:
    return ARXIV_URL.search(text) or ARXIV_TOKEN.search(text)


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
