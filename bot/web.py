"""The web archive server (aiohttp): every configured group's published digests and feeds.

The first configured group keeps the site root: ``/`` (index, newest first), ``/issues/<n>``
(also ``.html``; ``.md`` gives the Markdown), ``/feed.xml`` (RSS 2.0, also ``/rss.xml``),
``/atom.xml``, ``/stats.png``. Every group, the first included, is also served under
``/g/<slug>/`` with the same paths (``/g/<slug>/issues/<n>``, ``/g/<slug>/atom.xml``...);
``/g/`` lists the groups, and with several groups each index links the others. An unknown
slug is a 404 page; the old slug of a renamed group (``studybot db rename-group``) redirects
(308) to the same page under the new one. ``/healthz`` answers ``{"status": "ok"}`` while the process runs;
``/readyz`` reports the platforms, database, scheduler and last digests, 503 when something
is down (:mod:`bot.readiness`).

Pages and feeds come from :class:`bot.web_archive.Archive` (also used without a server by
``studybot digest export``). Member text is escaped by the renderers and the autoescaping
templates; on top of that every response forbids scripts with a Content-Security-Policy.
"""

from __future__ import annotations

import asyncio
import base64
import functools
import hashlib
from collections.abc import Awaitable, Callable, Sequence
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from aiohttp import web
from aiohttp.typedefs import Handler
from markupsafe import Markup

from bot.page_cache import PageCache
from bot.routing import RateLimiter
from bot.web_archive import Archive, archive_version, groups_html, issue_counts
from digest.labels import labels
from digest.render_filters import ENV

if TYPE_CHECKING:
    from bot.app import App


CSP = (
    "default-src 'none'; style-src 'unsafe-inline'; img-src 'self' https: http: data:; "
    "base-uri 'none'; form-action 'none'; frame-ancestors 'none'"
)
# 「复制到公众号」: copies the article as rich text (the editor keeps its inline styles); the
# page allows this one script by its hash and nothing else
COPY_SCRIPT = """document.getElementById('copy').addEventListener('click', async () => {
  const article = document.getElementById('article');
  const status = document.getElementById('status');
  try {
    const html = new Blob([article.innerHTML], {type: 'text/html'});
    const text = new Blob([article.innerText], {type: 'text/plain'});
    await navigator.clipboard.write([new ClipboardItem({'text/html': html, 'text/plain': text})]);
  } catch (error) {
    const range = document.createRange();
    range.selectNodeContents(article);
    const selection = window.getSelection();
    selection.removeAllRanges();
    selection.addRange(range);
    document.execCommand('copy');
    selection.removeAllRanges();
  }
  status.textContent = status.dataset.done;
});"""
MP_COPY_CSP = CSP + "; script-src 'sha256-{}'".format(
    base64.b64encode(hashlib.sha256(COPY_SCRIPT.encode("utf-8")).digest()).decode("ascii")
)
COPY_LINK = '<p class="meta"><a href="{number}/mp" rel="nofollow">{copy}</a>{note}</p></header>'
FAVICON = (
    b'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 64 64"><rect width="64" height="64"'
    b' rx="12" fill="#0b63c4"/><text x="32" y="44" font-size="34" text-anchor="middle"'
    b' fill="#fff" font-family="sans-serif">ML</text></svg>'
)


# -- the server --------------------------------------------------------------------------------
def secure(response: web.StreamResponse) -> None:
    """The security headers every response carries, and no aiohttp/Python version banner."""
    response.headers.setdefault("Content-Security-Policy", CSP)
    response.headers.setdefault("X-Content-Type-Options", "nosniff")
    response.headers.setdefault("Referrer-Policy", "no-referrer")
    response.headers["Server"] = "studybot"


class SecureRequest(web.Request):
    """Every request the server makes: its response gets :func:`secure`'s headers as it is
    prepared, also the 400 aiohttp's parser answers to a malformed request line or header
    (that one passes no middleware and no ``on_response_prepare`` signal)."""

    async def _prepare_hook(self, response: web.StreamResponse) -> None:
        await super()._prepare_hook(response)
        secure(response)


def _respond(request: web.Request, body: str | bytes, content_type: str) -> web.Response:
    data = body.encode("utf-8") if isinstance(body, str) else body
    etag = '"' + hashlib.sha256(data).hexdigest()[:32] + '"'
    if request.headers.get("If-None-Match") == etag:
        return web.Response(status=304, headers={"ETag": etag})
    return web.Response(
        body=data, headers={"Content-Type": f"{content_type}; charset=utf-8", "ETag": etag}
    )


CHART_WORKERS = 1  # charts drawn at once (each may be a ~110 MB matplotlib process)
SLUG = r"{slug:[a-z0-9][a-z0-9_-]{0,40}}"


def _renamed_to(db: Any, slug: str) -> str | None:
    """The current slug of a group renamed from ``slug`` (None if it never was)."""
    from storage.chats import redirects

    with db.session() as session:
        return redirects(session).get(slug)


def make_web_app(
    archive: Archive,
    extra_routes: Sequence[web.RouteDef] = (),
    readiness: Callable[[], Awaitable[tuple[bool, dict[str, Any]]]] | None = None,
) -> web.Application:
    """``archive``'s group (the first configured one) at the root; every group under /g/;
    ``extra_routes`` are adapters' (the 公众号 callback); ``/readyz`` when the running bot's
    ``readiness`` check is given."""
    config, db = archive.config, archive.db
    archives = {
        g.slug: archive if g.slug == archive.group_config.slug else Archive(config, db, g)
        for g in config.groups
    }

    pages = PageCache(functools.partial(archive_version, db), config.web.page_cache_seconds)

    async def cached(key: tuple[object, ...], render: Callable[[], Any]) -> Any:
        """``render()``'s page, kept while valid (:class:`bot.page_cache.PageCache`); the
        database reads and template rendering run in a worker thread, off the event loop."""
        return await asyncio.to_thread(pages.get, key, render)

    def target(request: web.Request) -> tuple[Archive, str]:
        """The archive a request is for and its index path; 404 for an unknown slug."""
        slug = request.match_info.get("slug")
        if slug is None:
            return archive, "/"
        if slug not in archives:
            renamed = _renamed_to(db, slug)
            if renamed is not None and renamed in archives:  # studybot db rename-group
                moved = request.path.replace(f"/g/{slug}", f"/g/{renamed}", 1)
                raise web.HTTPPermanentRedirect(
                    moved + (f"?{request.query_string}" if request.query_string else "")
                )
            raise web.HTTPNotFound()
        return archives[slug], f"/g/{slug}/"

    def not_found(message: str, which: Archive = archive, root: str = "/") -> web.Response:
        return web.Response(
            status=404,
            text=which.not_found_html(message, root=root),
            content_type="text/html",
            charset="utf-8",
        )

    @web.middleware
    async def not_found_page(request: web.Request, handler: Handler) -> web.StreamResponse:
        try:
            return await handler(request)
        except web.HTTPNotFound:
            return not_found(archive.text("no_page"))

    limiter = RateLimiter(config.web.requests_per_minute, config.web.burst)

    @web.middleware
    async def rate_limit(request: web.Request, handler: Handler) -> web.StreamResponse:
        """Per client (remote address): a token bucket; beyond it 429 with Retry-After."""
        allowed, _, wait = limiter.check(request.remote or "?")
        if not allowed:
            return web.Response(
                status=429, text="Too Many Requests", headers={"Retry-After": str(wait)}
            )
        return await handler(request)

    async def security_headers(request: web.Request, response: web.StreamResponse) -> None:
        """On every response the application makes, errors (404, 405, 429) included."""
        secure(response)

    async def index(request: web.Request) -> web.Response:
        which, root = target(request)
        nav = []
        if len(archives) > 1:  # relative links, as everywhere in the archive
            for slug, other in archives.items():
                at_root = "./" if other is archive else f"g/{slug}/"
                nav.append(
                    (other.group_name, at_root if root == "/" else f"../{slug}/", other is which)
                )
        page = await cached(
            ("index", root),
            functools.partial(which.index_html, stats_url="stats.png", groups=nav),
        )
        return _respond(request, page, "text/html")

    async def group_list(request: web.Request) -> web.Response:
        counts = await cached(("counts",), functools.partial(issue_counts, db))
        rows = [(a.group_name, f"{slug}/", counts.get(slug, 0)) for slug, a in archives.items()]
        return _respond(request, groups_html(rows, config.language), "text/html")

    async def add_slash(request: web.Request) -> web.Response:
        target(request)
        return web.Response(status=308, headers={"Location": request.path + "/"})

    async def issue(request: web.Request) -> web.Response:
        which, root = target(request)
        number = int(request.match_info["number"])
        if request.match_info.get("ext") == ".md":
            text = await cached(("md", root, number), functools.partial(which.issue_markdown, number))
            kind = "text/markdown"
        else:
            text = await cached(("html", root, number), functools.partial(which.issue_html, number))
            kind = "text/html"
        if text is None:
            return not_found(which.text("no_issue", n=number), which, root)
        if kind == "text/html":
            t = labels(which.lang)
            link = COPY_LINK.format(number=number, copy=t["mp_copy"], note=t["mp_copy_note"])
            text = text.replace("</header>", link, 1)
        return _respond(request, text, kind)

    async def mp_copy(request: web.Request) -> web.Response:
        """The issue as the 公众号 article, with a 「复制到公众号」 button (for admins who paste
        it into the editor by hand: accounts without API access)."""
        which, root = target(request)
        number = int(request.match_info["number"])
        found = await cached(("mp", root, number), functools.partial(which.issue_mp_article, number))
        if found is None:
            return not_found(which.text("no_issue", n=number), which, root)
        title, article, source_url = found
        page = ENV.get_template("mp_copy.html").render(
            lang=which.lang,
            t=labels(which.lang),
            title=title,
            article=Markup(article),
            source_url=source_url,
            number=number,
            script=Markup(COPY_SCRIPT),
        )
        response = _respond(request, page, "text/html")
        response.headers["Content-Security-Policy"] = MP_COPY_CSP
        return response

    async def rss(request: web.Request) -> web.Response:
        which, root = target(request)
        feed = await cached(("rss", root), which.rss)
        return _respond(request, feed, "application/rss+xml")

    async def atom(request: web.Request) -> web.Response:
        which, root = target(request)
        feed = await cached(("atom", root), which.atom)
        return _respond(request, feed, "application/atom+xml")

    async def healthz(request: web.Request) -> web.Response:
        return web.json_response({"status": "ok"})

    async def readyz(request: web.Request) -> web.Response:
        if readiness is None:  # ``studybot web``: only the archive runs here
            return web.json_response({"status": "ready", "platforms": {}})
        ready, report = await readiness()
        return web.json_response(report, status=200 if ready else 503)

    async def favicon(request: web.Request) -> web.Response:
        return web.Response(body=FAVICON, content_type="image/svg+xml")

    chart_pool = asyncio.Semaphore(CHART_WORKERS)
    chart_locks: dict[str, asyncio.Lock] = {}
    charts_drawn: dict[str, tuple[object, bytes]] = {}  # slug -> (data key, PNG)

    async def stats_png(request: web.Request) -> web.Response:
        """The /stats activity chart (members active and check-ins per week), drawn again
        only when its data changed: a flood of requests costs one database read each."""
        from digest.charts import group_activity, render_chart

        which, root = target(request)
        slug, lang = which.group_config.slug, config.group_language(which.group_config.slug)
        found = await asyncio.to_thread(group_activity, db, slug, datetime.now(UTC))
        if found is None:
            return not_found(which.text("no_stats"), which, root)
        weeks, name = found
        key = (slug, lang, name, repr(weeks))  # the chart changes only when its data does
        async with chart_locks.setdefault(slug, asyncio.Lock()):  # one drawing per group
            png = charts_drawn.get(slug, (None, b""))[1]
            if charts_drawn.get(slug, (None, b""))[0] != key:
                async with chart_pool:  # at most CHART_WORKERS charts drawn at once
                    separate = config.charts.separate_process
                    png = await render_chart(weeks, name, slug, lang, separate_process=separate)
                charts_drawn[slug] = (key, png)
        return web.Response(
            body=png, content_type="image/png", headers={"Cache-Control": "max-age=600"}
        )

    application = web.Application(middlewares=[rate_limit, not_found_page])
    application.on_response_prepare.append(security_headers)
    router = application.router
    for prefix in ("", f"/g/{SLUG}"):
        router.add_get(f"{prefix}/", index)
        router.add_get(prefix + r"/issues/{number:\d{1,9}}{ext:(\.html|\.md)?}", issue)
        router.add_get(prefix + r"/issues/{number:\d{1,9}}/mp", mp_copy)
        router.add_get(f"{prefix}/feed.xml", rss)
        router.add_get(f"{prefix}/rss.xml", rss)
        router.add_get(f"{prefix}/atom.xml", atom)
        router.add_get(f"{prefix}/stats.png", stats_png)
    router.add_get("/g", add_slash)
    router.add_get(f"/g/{SLUG}", add_slash)
    router.add_get("/g/", group_list)
    router.add_get("/healthz", healthz)
    router.add_get("/readyz", readyz)
    router.add_get("/favicon.ico", favicon)
    router.add_routes(extra_routes)
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
    from bot.readiness import readiness

    site_app = make_web_app(Archive(config, app.db), app.web_routes, lambda: readiness(app))
    runner = web.AppRunner(site_app, access_log=None)
    await runner.setup()
    assert runner.server is not None
    runner.server.request_factory = functools.partial(
        site_app._make_request, _cls=SecureRequest
    )
    site = web.TCPSite(runner, config.web.host, config.web.port if port is None else port)
    await site.start()
    server = site._server
    sockets = getattr(server, "sockets", None) or []
    bound = sockets[0].getsockname()[1] if sockets else config.web.port
    return WebHandle(runner, int(bound), config.web.host)
