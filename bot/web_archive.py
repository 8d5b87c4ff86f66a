"""The web archive's content: one group's published issues as pages and RSS/Atom feeds.

:class:`Archive` reads straight from the database and needs no web server (``studybot digest
export`` writes its pages to files; :mod:`bot.web` serves them). The first configured group's
archive lives at the site root, the others under ``/g/<slug>/``
(:func:`digest.publish_parts.archive_path`), so links and feeds name the right group. Issue
pages are the HTML stored when the issue was published; issues are visible once their
publishing has started (the WeChat 阅读原文 link must already work). Member text is escaped
by the renderers and the autoescaping Jinja2 templates.
"""

from __future__ import annotations

import html
import re
import xml.etree.ElementTree as ET
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from email.utils import format_datetime
from typing import Any
from urllib.parse import urljoin
from zoneinfo import ZoneInfo

from jinja2 import Environment, PackageLoader, select_autoescape
from sqlalchemy import func, select

from bot.config import Config, GroupConfig
from bot.i18n import Messages
from digest.publish_parts import archive_path
from storage.db import Database
from storage.models import DigestIssue, Group

VISIBLE = ("publishing", "published")
FEED_ITEMS = 20
_XML_INVALID = re.compile("[^\t\n\r\u0020-\ud7ff\ue000-\ufffd\U00010000-\U0010ffff]")
_MAIN = re.compile(r"<main>(.*)</main>", re.S)
_HEADING = re.compile(r"<h3>(.*?)</h3>", re.S)
_RELATIVE = re.compile(r'(\s(?:href|src)=")([^"]*)(")')


def absolute_links(body: str, page_url: str) -> str:
    """``href``/``src`` of an issue page made absolute against the page's address, so feed
    readers (which show the body away from the page) follow ``#paper-1`` and ``../``."""

    def fix(match: re.Match[str]) -> str:
        target = html.unescape(match.group(2))
        if re.match(r"^[a-zA-Z][a-zA-Z0-9+.-]*:", target):
            return match.group(0)  # already absolute (http, https, mailto)
        return match.group(1) + html.escape(urljoin(page_url, target)) + match.group(3)

    return _RELATIVE.sub(fix, body)


ATOM = "http://www.w3.org/2005/Atom"

ENV = Environment(
    loader=PackageLoader("digest", "templates"),
    autoescape=select_autoescape(enabled_extensions=("html",), default=False),
    trim_blocks=True,
    lstrip_blocks=True,
)


MSG = Messages(
    {
        "html_lang": ("zh-CN", "en"),
        "feed_lang": ("zh-cn", "en"),
        "digest": ("{group}周报", "{group} weekly digest"),
        "archive": ("往期", "Archive"),
        "issue": ("第{n}期", "Issue {n}"),
        "issue_title": (
            "{group}周报 · 第{n}期（{period}）",
            "{group} weekly digest · Issue {n} ({period})",
        ),
        "period": ("{start} 至 {end}", "{start} to {end}"),
        "count": (
            "共 {n} 期 · 每周学习心得、论文速递与疑问解答",
            "{n} issues · weekly learning notes, papers and questions",
        ),
        "groups": ("小组", "Groups"),
        "none_yet": ("还没有发布过周报。", "No digest has been published yet."),
        "chart_alt": ("每周活跃成员与打卡数", "Members active and check-ins per week"),
        "chart_caption": (
            "近几个月每周的活跃成员与打卡数",
            "Members active and check-ins per week, recent months",
        ),
        "subscribe": ("订阅：", "Subscribe: "),
        "not_found_title": ("没有找到", "Not found"),
        "not_found_heading": ("没有找到这一页", "This page does not exist"),
        "back": ("返回往期列表", "Back to the archive"),
        "no_page": ("这个地址不存在。", "There is no page at this address."),
        "no_issue": (
            "第{n}期还没有发布，或者不存在。",
            "Issue {n} is not published, or does not exist.",
        ),
        "no_stats": ("还没有统计数据。", "No statistics yet."),
        "site_title": ("学习小组周报", "Study group digests"),
        "group_count": ("共 {n} 个小组", "{n} groups"),
        "issues_n": ("{n} 期", "{n} issues"),
        "prev": ("← 上一期：第{n}期", "← Previous: issue {n}"),
        "next": ("下一期：第{n}期 →", "Next: issue {n} →"),
        "nav_label": ("往期导航", "Issues"),
        "n_papers": ("论文 {n} 篇", "{n} papers"),
        "n_notes": ("心得 {n} 人", "notes from {n} members"),
        "n_resources": ("资料 {n} 条", "{n} resources"),
        "n_questions": ("问答 {n} 个", "{n} questions"),
    }
)


PAGE_KEYS = (
    "archive", "groups", "none_yet", "chart_alt", "chart_caption", "subscribe",
    "not_found_title", "not_found_heading", "back",
)  # fmt: skip


def page_text(lang: str, group: str) -> dict[str, str]:
    """The archive templates' fixed strings in ``lang`` (``t.archive``, ``t.digest``...)."""
    text = {key: MSG.get(key, lang) for key in PAGE_KEYS}
    text["digest"] = MSG.get("digest", lang, group=group)
    return text


_SECTION = re.compile(r'<section id="(papers|notes|resources|questions)">(.*?)</section>', re.S)
_ENTRY = {
    "papers": '<article id="paper-',
    "notes": '<article id="member-',
    "resources": '<li id="resource-',
    "questions": '<article id="question-',
}
_COUNT_KEYS = {
    "papers": "n_papers",
    "notes": "n_notes",
    "resources": "n_resources",
    "questions": "n_questions",
}
HIGHLIGHTS = 3


@dataclass(frozen=True)
class Highlights:
    """What an issue holds, read from its published page: entries per section, in page order,
    and its first headlines (papers first, then questions)."""

    counts: tuple[tuple[str, int], ...]
    headlines: tuple[str, ...]

    def summary(self, lang: str) -> str:
        """``论文 2 篇 · 心得 7 人 · 问答 1 个``."""
        return " · ".join(MSG.get(_COUNT_KEYS[s], lang, n=n) for s, n in self.counts if n)


def _plain(fragment: str) -> str:
    return " ".join(html.unescape(re.sub(r"<[^>]+>", "", fragment)).split())


def issue_highlights(page: str) -> Highlights:
    """The :class:`Highlights` of a published issue page (``digest.html``)."""
    sections = {name: body for name, body in _SECTION.findall(page)}
    counts = tuple(
        (name, sections[name].count(_ENTRY[name])) for name in _ENTRY if name in sections
    )
    headlines: list[str] = []
    for name in ("papers", "questions"):
        for heading in _HEADING.findall(sections.get(name, "")):
            if _plain(heading) and len(headlines) < HIGHLIGHTS:
                headlines.append(_plain(heading))
    return Highlights(counts, tuple(headlines))


# (group slug, issue number, published_at) -> highlights: a published page does not change
_HIGHLIGHTS_CACHE: dict[tuple[str, int, str], Highlights] = {}
_CACHE_LIMIT = 4096


def _xml_text(value: str) -> str:
    return _XML_INVALID.sub("", value)


@dataclass(frozen=True)
class IssueRow:
    """One published issue as the index and feeds list it."""

    number: int
    period_start: datetime
    period_end: datetime
    published_at: datetime | None

    def period(self, zone: ZoneInfo, lang: str = "zh") -> str:
        start, end = self.period_start.astimezone(zone), self.period_end.astimezone(zone)
        return MSG.get("period", lang, start=f"{start:%Y-%m-%d}", end=f"{end:%Y-%m-%d}")


class Archive:
    """Pages and feeds of one group's published issues (default: the first configured group).

    ``base_url`` is where this group's archive lives: the site root for the first group,
    ``<site>/g/<slug>`` for the others; feeds and issue links use it.
    """

    def __init__(self, config: Config, db: Database, group: GroupConfig | None = None) -> None:
        self.config = config
        self.db = db
        self.group_config = group or config.groups[0]
        self.zone = ZoneInfo(self.group_config.timezone)
        site = config.web.base_url.rstrip("/")
        self.base_url = site + archive_path(config, self.group_config.slug)

    @property
    def group_name(self) -> str:
        return self.group_config.name

    @property
    def lang(self) -> str:
        """The group's language: its pages, navigation and feeds are written in it."""
        return self.group_config.language or self.config.language

    def text(self, key: str, **values: object) -> str:
        return MSG.get(key, self.lang, **values)

    def _page(self, **values: Any) -> dict[str, Any]:
        return {
            "group_name": self.group_name,
            "html_lang": self.text("html_lang"),
            "t": page_text(self.lang, self.group_name),
            **values,
        }

    def issue_url(self, number: int) -> str:
        return f"{self.base_url}/issues/{number}"

    def _visible(self) -> Any:
        return (
            select(DigestIssue)
            .join(Group, Group.id == DigestIssue.group_id)
            .where(Group.slug == self.group_config.slug, DigestIssue.status.in_(VISIBLE))
        )

    def issues(self) -> list[IssueRow]:
        """Published issues, newest first (only the light columns are read)."""
        stmt = (
            select(
                DigestIssue.number,
                DigestIssue.period_start,
                DigestIssue.period_end,
                DigestIssue.published_at,
            )
            .join(Group, Group.id == DigestIssue.group_id)
            .where(Group.slug == self.group_config.slug, DigestIssue.status.in_(VISIBLE))
            .where(DigestIssue.html.is_not(None))
            .order_by(DigestIssue.number.desc())
        )
        with self.db.session() as s:
            return [IssueRow(*row) for row in s.execute(stmt)]

    def _issue(self, number: int) -> DigestIssue | None:
        with self.db.session() as s:
            return s.scalars(self._visible().where(DigestIssue.number == number)).first()

    def issue_html(self, number: int, *, link: Callable[[int], str] = str) -> str | None:
        """The stored page of issue ``number`` with links to the previous and next published
        issues (``link(n)``: their address relative to this page; added when served, as the
        next issue does not exist when a page is stored)."""
        issue = self._issue(number)
        if issue is None or issue.html is None:
            return None
        nav = self._issue_nav(*self._neighbours(number), link)
        return issue.html.replace("</main>", nav + "</main>", 1)

    def _neighbours(self, number: int) -> tuple[int | None, int | None]:
        shown = (
            select(DigestIssue.number)
            .join(Group, Group.id == DigestIssue.group_id)
            .where(Group.slug == self.group_config.slug, DigestIssue.status.in_(VISIBLE))
            .where(DigestIssue.html.is_not(None))
        ).subquery()
        with self.db.session() as s:
            before = s.scalar(select(func.max(shown.c.number)).where(shown.c.number < number))
            after = s.scalar(select(func.min(shown.c.number)).where(shown.c.number > number))
        return before, after

    def _issue_nav(self, before: int | None, after: int | None, link: Callable[[int], str]) -> str:
        if before is None and after is None:
            return ""
        parts = []
        for n, rel, key in ((before, "prev", "prev"), (after, "next", "next")):
            if n is None:
                parts.append("<span></span>")
            else:
                href, text = html.escape(link(n)), html.escape(self.text(key, n=n))
                parts.append(f'<a rel="{rel}" href="{href}">{text}</a>')
        label = html.escape(self.text("nav_label"))
        style = "display:flex;justify-content:space-between;gap:1em;margin:2em 0 0"
        return (
            f'<nav class="issue-nav meta" aria-label="{label}" style="{style}">'
            + "".join(parts)
            + "</nav>\n"
        )

    def highlights(self, numbers: Sequence[tuple[int, datetime | None]]) -> dict[int, Highlights]:
        """The highlights of the given published issues (number, published_at), each page
        read once per process."""
        slug = self.group_config.slug

        def key(number: int, published: datetime | None) -> tuple[str, int, str]:
            return (slug, number, published.isoformat() if published else "")

        found = {n: _HIGHLIGHTS_CACHE.get(key(n, at)) for n, at in numbers}
        missing = [n for n, value in found.items() if value is None]
        if missing:
            stmt = (
                select(DigestIssue.number, DigestIssue.published_at, DigestIssue.html)
                .join(Group, Group.id == DigestIssue.group_id)
                .where(Group.slug == slug, DigestIssue.number.in_(missing))
            )
            with self.db.session() as s:
                rows = list(s.execute(stmt))
            if len(_HIGHLIGHTS_CACHE) > _CACHE_LIMIT:
                _HIGHLIGHTS_CACHE.clear()
            for number, published, page in rows:
                value = issue_highlights(page or "")
                _HIGHLIGHTS_CACHE[key(number, published)] = value
                found[number] = value
        return {n: value for n, value in found.items() if value is not None}

    def issue_mp_article(self, number: int) -> tuple[str, str, str] | None:
        """A published issue as the 公众号 article: (title, inline-styled HTML, the 阅读原文
        address). Images stay at their own addresses (the editor copies them on paste)."""
        from digest.preview import digest_of
        from digest.render_mp import render_mp_article

        issue = self._issue(number)
        if issue is None:
            return None
        with self.db.session() as session:
            d = digest_of(session, issue, self.config)
        article = render_mp_article(d, image_url=lambda url: url)
        return d.title, article, d.web_url or ""

    def issue_markdown(self, number: int) -> str | None:
        issue = self._issue(number)
        return issue.markdown if issue is not None else None

    # -- pages -------------------------------------------------------------------------------
    def index_html(
        self,
        *,
        link: Callable[[int], str] = lambda n: f"issues/{n}",
        root: str = "",
        stats_url: str | None = None,
        groups: Sequence[tuple[str, str, bool]] = (),
    ) -> str:
        """The index page; ``stats_url`` adds the activity chart (served live, not exported);
        ``groups`` lists the site's groups when there are several: (name, link, is this one)."""
        issues = self.issues()
        highlights = self.highlights([(r.number, r.published_at) for r in issues])
        empty = Highlights((), ())
        rows = [
            {
                "number": r.number,
                "label": self.text("issue", n=r.number),
                "period": r.period(self.zone, self.lang),
                "link": link(r.number),
                "summary": highlights.get(r.number, empty).summary(self.lang),
                "headlines": highlights.get(r.number, empty).headlines,
            }
            for r in issues
        ]
        return ENV.get_template("archive_index.html").render(
            self._page(
                issues=rows,
                count=self.text("count", n=len(rows)),
                intro=None,
                root=root,
                stats_url=stats_url,
                groups=[{"name": n, "link": href, "current": here} for n, href, here in groups],
            )
        )

    def not_found_html(self, message: str, *, root: str = "/") -> str:
        return ENV.get_template("archive_404.html").render(self._page(message=message, root=root))

    # -- feeds -------------------------------------------------------------------------------
    def _feed_entries(self) -> list[tuple[IssueRow, str]]:
        with self.db.session() as s:
            found = s.scalars(
                self._visible()
                .where(DigestIssue.html.is_not(None))
                .order_by(DigestIssue.number.desc())
                .limit(FEED_ITEMS)
            ).all()
            rows = []
            for issue in found:
                match = _MAIN.search(issue.html or "")
                body = match.group(1) if match else (issue.html or "")
                body = absolute_links(body, self.issue_url(issue.number))
                row = IssueRow(
                    issue.number, issue.period_start, issue.period_end, issue.published_at
                )
                rows.append((row, body))
        return rows

    def _title(self, row: IssueRow, body: str = "") -> str:
        """The issue's title in the group's language (``…周报 · 第N期（dates）``), then the
        issue's first entry titles (featured entries come first), so a feed reader shows what
        is inside."""
        title = self.text(
            "issue_title",
            group=self.group_name,
            n=row.number,
            period=row.period(self.zone, self.lang),
        )
        found = [html.unescape(re.sub(r"<[^>]+>", "", h)) for h in _HEADING.findall(body)]
        highlights = [h.strip() for h in found if h.strip()][:3]
        if not highlights:
            return title
        if self.lang == "zh":
            return f"{title}：{'、'.join(highlights)}"
        return f"{title}: {', '.join(highlights)}"

    def rss(self) -> bytes:
        """RSS 2.0 of the latest issues (content as escaped HTML in ``description``)."""
        rss = ET.Element("rss", version="2.0")
        channel = ET.SubElement(rss, "channel")
        entries = self._feed_entries()
        for tag, value in (
            ("title", self.text("digest", group=self.group_name)),
            ("link", f"{self.base_url}/"),
            ("description", _xml_text(self.config.digest.default_preface)),
            ("language", self.text("feed_lang")),
        ):
            ET.SubElement(channel, tag).text = value
        if entries:
            ET.SubElement(channel, "lastBuildDate").text = format_datetime(
                _when(entries[0][0]), usegmt=True
            )
        for row, body in entries:
            item = ET.SubElement(channel, "item")
            ET.SubElement(item, "title").text = self._title(row, body)
            ET.SubElement(item, "link").text = self.issue_url(row.number)
            ET.SubElement(item, "guid", isPermaLink="true").text = self.issue_url(row.number)
            ET.SubElement(item, "pubDate").text = format_datetime(_when(row), usegmt=True)
            ET.SubElement(item, "description").text = _xml_text(body)
        data: bytes = ET.tostring(rss, encoding="utf-8", xml_declaration=True)
        return data

    def atom(self) -> bytes:
        """An Atom feed of the latest issues (content type html)."""
        ET.register_namespace("", ATOM)

        def sub(parent: ET.Element, tag: str, text: str | None = None, **attrs: str) -> ET.Element:
            element = ET.SubElement(parent, f"{{{ATOM}}}{tag}", attrs)
            element.text = text
            return element

        feed = ET.Element(f"{{{ATOM}}}feed")
        entries = self._feed_entries()
        sub(feed, "id", f"{self.base_url}/")
        feed.set("{http://www.w3.org/XML/1998/namespace}lang", self.text("feed_lang"))
        sub(feed, "title", self.text("digest", group=self.group_name))
        sub(feed, "subtitle", _xml_text(self.config.digest.default_preface))
        updated = _when(entries[0][0]) if entries else datetime(2000, 1, 1, tzinfo=UTC)
        sub(feed, "updated", updated.isoformat())
        sub(feed, "link", href=f"{self.base_url}/atom.xml", rel="self")
        sub(feed, "link", href=f"{self.base_url}/")
        author = sub(feed, "author")
        sub(author, "name", self.group_name)
        for row, body in entries:
            entry = sub(feed, "entry")
            sub(entry, "id", self.issue_url(row.number))
            sub(entry, "title", self._title(row, body))
            sub(entry, "updated", _when(row).isoformat())
            sub(entry, "link", href=self.issue_url(row.number))
            sub(entry, "content", _xml_text(body), type="html")
        data: bytes = ET.tostring(feed, encoding="utf-8", xml_declaration=True)
        return data


def _when(row: IssueRow) -> datetime:
    return row.published_at or row.period_end


def archive_version(db: Database) -> tuple[int, int | None, datetime | None]:
    """What the archive's pages depend on, in one small query: the number of visible issues,
    the newest one's id and the latest publish time (a publish, import or removal changes it)."""
    stmt = select(
        func.count(DigestIssue.id), func.max(DigestIssue.id), func.max(DigestIssue.published_at)
    ).where(DigestIssue.status.in_(VISIBLE), DigestIssue.html.is_not(None))
    with db.session() as s:
        count, newest, published = s.execute(stmt).one()
    return int(count), newest, published


def issue_counts(db: Database) -> dict[str, int]:
    """Visible issues per group slug (one query, for the list of groups)."""
    stmt = (
        select(Group.slug, func.count(DigestIssue.id))
        .join(DigestIssue, Group.id == DigestIssue.group_id)
        .where(DigestIssue.status.in_(VISIBLE), DigestIssue.html.is_not(None))
        .group_by(Group.slug)
    )
    with db.session() as s:
        return {slug: count for slug, count in s.execute(stmt)}


def groups_html(groups: Sequence[tuple[str, str, int]], lang: str = "zh") -> str:
    """The list of groups at ``/g/``: (name, link, number of issues) each."""
    rows = [
        {"name": name, "link": link, "count": MSG.get("issues_n", lang, n=count)}
        for name, link, count in groups
    ]
    return ENV.get_template("archive_groups.html").render(
        group_name="",
        html_lang=MSG.get("html_lang", lang),
        t=page_text(lang, ""),
        title=MSG.get("site_title", lang),
        count=MSG.get("group_count", lang, n=len(rows)),
        groups=rows,
        root="",
        no_feeds=True,
    )
