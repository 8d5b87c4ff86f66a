"""The errors of the content parsers and their zh/en texts.

Owns :class:`ParseError` (a ``ValueError`` whose ``code`` names a text in :data:`MSG`) and its
subclasses, the field limits of ``/paper`` and the URL length limit those texts quote.
:mod:`bot.parsing.links` and :mod:`bot.parsing.arguments` raise them; handlers turn them into a
reply with :meth:`ParseError.message`.
"""

from __future__ import annotations

from bot.i18n import Messages

MAX_URL_LENGTH = 2000
FIELD_LIMITS = {"title": 300, "summary": 3000, "one_liner": 500}

MSG = Messages(
    {
        "empty": ("内容是空的。", "Nothing was given."),
        "url_scheme": (
            "链接必须以 http:// 或 https:// 开头：{url}",
            "Links must start with http:// or https://: {url}",
        ),
        "url_host": ("链接里没有有效的网址域名：{url}", "That link has no valid host name: {url}"),
        "url_userinfo": (
            "链接的域名前不能有「@」（看起来像一个网站，实际打开的是另一个）：{url}",
            "Links cannot have an '@' before the host (they show one site and open another): {url}",
        ),
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
