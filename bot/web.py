"""The web archive (aiohttp): published digest issues, one page each, RSS and Atom feeds.

Routes: ``/`` (index, newest first), ``/issues/<n>`` (also ``.html``; ``.md`` gives the
Markdown), ``/feed.xml`` (RSS 2.0), ``/atom.xml`` (Atom), ``/healthz``. Issue pages are the
HTML stored when the issue was published (:mod:`digest.publish`), so the page matches what
the chats got and costs one query. The archive serves the first configured group; issues are
visible once their publishing has started (the WeChat 阅读原文 link must already work).

Member text is escaped by the renderers and the Jinja2 templates (autoescape); on top of that
every response forbids scripts with a Content-Security-Policy. :class:`Archive` builds every
page and feed without a web server, for ``studybot digest export``.
"""

from __future__ import annotations

import hashlib
import re
import xml.etree.ElementTree as ET
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from email.utils import format_datetime
from typing import TYPE_CHECKING, Any
from zoneinfo import ZoneInfo

from aiohttp import web
from jinja2 import Environment, PackageLoader, select_autoescape
from sqlalchemy import select

from bot.config import Config
from storage.db import Database
from storage.models import DigestIssue, Group

if TYPE_CHECKING:
    from bot.app import App

VISIBLE = ("publishing", "published")
FEED_ITEMS = 20
CSP = (
    "default-src 'none'; style-src 'unsafe-inline'; img-src 'self' https: http: data:; "
    "base-uri 'none'; form-action 'none'; frame-ancestors 'none'"
)
FAVICON = (
    b'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 64 64"><rect width="64" height="64"'
    b' rx="12" fill="#0b63c4"/><text x="32" y="44" font-size="34" text-anchor="middle"'
    b' fill="#fff" font-family="sans-serif">ML</text></svg>'
)
_XML_INVALID = re.compile("[^\t\n\r\u0020-\ud7ff\ue000-\ufffd\U00010000-\U0010ffff]")
_MAIN = re.compile(r"<main>(.*)</main>", re.S)
ATOM = "http://www.w3.org/2005/Atom"

ENV = Environment(
    loader=PackageLoader("digest", "templates"),
    autoescape=select_autoescape(enabled_extensions=("html",), default=False),
    trim_blocks=True,
    lstrip_blocks=True,
)


def _xml_text(value: str) -> str:
    return _XML_INVALID.sub("", value)


@dataclass(frozen=True)
class IssueRow:
    """One published issue as the index and feeds list it."""

    number: int
    period_start: datetime
    period_end: datetime
    published_at: datetime | None

    def period(self, zone: ZoneInfo) -> str:
        start, end = self.period_start.astimezone(zone), self.period_end.astimezone(zone)
        return f"{start:%Y-%m-%d} 至 {end:%Y-%m-%d}"


class Archive:
    """Pages and feeds of one group's published issues, straight from the database."""

    def __init__(self, config: Config, db: Database) -> None:
        self.config = config
        self.db = db
        self.group_config = config.groups[0]
        self.zone = ZoneInfo(self.group_config.timezone)
        self.base_url = config.web.base_url.rstrip("/")

    @property
    def group_name(self) -> str:
        return self.group_config.name

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

    def issue_html(self, number: int) -> str | None:
        issue = self._issue(number)
        return issue.html if issue is not None else None

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
    ) -> str:
        """The index page; ``stats_url`` adds the activity chart (served live, not exported)."""
        rows = [
            {"number": r.number, "period": r.period(self.zone), "link": link(r.number)}
            for r in self.issues()
        ]
        return ENV.get_template("archive_index.html").render(
            group_name=self.group_name,
            issues=rows,
            intro=None,
            root=root,
            stats_url=stats_url,
        )

    def not_found_html(self, message: str, *, root: str = "/") -> str:
        return ENV.get_template("archive_404.html").render(
            group_name=self.group_name, message=message, root=root
        )

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
                row = IssueRow(
                    issue.number, issue.period_start, issue.period_end, issue.published_at
                )
                rows.append((row, body))
        return rows

    def _title(self, row: IssueRow) -> str:
        return f"{self.group_name}周报 · 第{row.number}期（{row.period(self.zone)}）"

    def rss(self) -> bytes:
        """RSS 2.0 of the latest issues (content as escaped HTML in ``description``)."""
        rss = ET.Element("rss", version="2.0")
        channel = ET.SubElement(rss, "channel")
        entries = self._feed_entries()
        for tag, value in (
            ("title", f"{self.group_name}周报"),
            ("link", f"{self.base_url}/"),
            ("description", _xml_text(self.config.digest.default_preface)),
            ("language", "zh-cn"),
        ):
            ET.SubElement(channel, tag).text = value
        if entries:
            ET.SubElement(channel, "lastBuildDate").text = format_datetime(
                _when(entries[0][0]), usegmt=True
            )
        for row, body in entries:
            item = ET.SubElement(channel, "item")
            ET.SubElement(item, "title").text = self._title(row)
            ET.SubElement(item, "link").text = self.issue_url(row.number)
            ET.SubElement(item, "guid", isPermaLink="true").text = self.issue_url(row.number)
            ET.SubElement(item, "pubDate").text = format_datetime(_when(row), usegmt=True)
            ET.SubElement(item, "description").text = _xml_text(body)
        return ET.tostring(rss, encoding="utf-8", xml_declaration=True)

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
        sub(feed, "title", f"{self.group_name}周报")
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
            sub(entry, "title", self._title(row))
            sub(entry, "updated", _when(row).isoformat())
            sub(entry, "link", href=self.issue_url(row.number))
            sub(entry, "content", _xml_text(body), type="html")
        return ET.tostring(feed, encoding="utf-8", xml_declaration=True)


def _when(row: IssueRow) -> datetime:
    return row.published_at or row.period_end


# -- the server --------------------------------------------------------------------------------
def _respond(request: web.Request, body: str | bytes, content_type: str) -> web.Response:
    data = body.encode("utf-8") if isinstance(body, str) else body
    etag = '"' + hashlib.sha256(data).hexdigest()[:32] + '"'
    if request.headers.get("If-None-Match") == etag:
        return web.Response(status=304, headers={"ETag": etag})
    return web.Response(
        body=data, headers={"Content-Type": f"{content_type}; charset=utf-8", "ETag": etag}
    )


def make_web_app(archive: Archive) -> web.Application:
    """The aiohttp application serving ``archive``."""

    def not_found(message: str) -> web.Response:
        return web.Response(
            status=404,
            text=archive.not_found_html(message),
            content_type="text/html",
            charset="utf-8",
        )

    @web.middleware
    async def headers(request: web.Request, handler: Any) -> web.StreamResponse:
        try:
            response = await handler(request)
        except web.HTTPNotFound:
            response = not_found("这个地址不存在。")
        response.headers.setdefault("Content-Security-Policy", CSP)
        response.headers.setdefault("X-Content-Type-Options", "nosniff")
        response.headers.setdefault("Referrer-Policy", "no-referrer")
        return response

    async def index(request: web.Request) -> web.Response:
        return _respond(request, archive.index_html(stats_url="stats.png"), "text/html")

    async def issue(request: web.Request) -> web.Response:
        number = int(request.match_info["number"])
        if request.match_info.get("ext") == ".md":
            text = archive.issue_markdown(number)
            kind = "text/markdown"
        else:
            text = archive.issue_html(number)
            kind = "text/html"
        if text is None:
            return not_found(f"第{number}期还没有发布，或者不存在。")
        return _respond(request, text, kind)

    async def rss(request: web.Request) -> web.Response:
        return _respond(request, archive.rss(), "application/rss+xml")

    async def atom(request: web.Request) -> web.Response:
        return _respond(request, archive.atom(), "application/atom+xml")

    async def healthz(request: web.Request) -> web.Response:
        return web.json_response({"status": "ok"})

    async def favicon(request: web.Request) -> web.Response:
        return web.Response(body=FAVICON, content_type="image/svg+xml")

    async def stats_png(request: web.Request) -> web.Response:
        """The /stats activity chart (members active and check-ins per week)."""
        import asyncio

        from digest.charts import stats_png_for

        slug, lang = archive.group_config.slug, archive.config.language
        now = datetime.now(UTC)
        png = await asyncio.to_thread(stats_png_for, archive.db, slug, now, lang=lang)
        if png is None:
            return not_found("还没有统计数据。")
        return web.Response(
            body=png, content_type="image/png", headers={"Cache-Control": "max-age=600"}
        )

    application = web.Application(middlewares=[headers])
    application.router.add_get("/", index)
    application.router.add_get(r"/issues/{number:\d{1,9}}{ext:(\.html|\.md)?}", issue)
    application.router.add_get("/feed.xml", rss)
    application.router.add_get("/atom.xml", atom)
    application.router.add_get("/healthz", healthz)
    application.router.add_get("/favicon.ico", favicon)
    application.router.add_get("/stats.png", stats_png)
    return application


class WebHandle:
    """What :func:`start_web` returns: ``await handle()`` stops the server; ``port``/``url``."""

    def __init__(self, runner: web.AppRunner, port: int, host: str) -> None:
        self.runner, self.port, self.host = runner, port, host

    @property
    def url(self) -> str:
        return f"http://{self.host}:{self.port}"

    async def __call__(self) -> None:
        await self.runner.cleanup()


async def start_web(app: App, *, port: int | None = None) -> WebHandle:
    """Serve the archive on ``config.web.host:port`` (port 0: any free port)."""
    config = app.config
    runner = web.AppRunner(make_web_app(Archive(config, app.db)), access_log=None)
    await runner.setup()
    site = web.TCPSite(runner, config.web.host, config.web.port if port is None else port)
    await site.start()
    server = site._server
    sockets = getattr(server, "sockets", None) or []
    bound = sockets[0].getsockname()[1] if sockets else config.web.port
    return WebHandle(runner, int(bound), config.web.host)
