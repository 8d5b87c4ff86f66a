"""A local fake of the 公众号 API (WeChat Official Account), served by aiohttp in a thread.

It answers like ``api.weixin.qq.com/cgi-bin`` for what studybot calls: ``token`` and
``stable_token``, ``media/upload``, ``media/uploadimg``, ``material/add_material``,
``draft/add``, ``draft/update``, ``freepublish/submit`` and ``message/custom/send``, with
WeChat's error codes: 40001 (invalid token), 42001 (expired token), 45009 (quota), 45015
(customer-service message outside the 48-hour window), 40007 (invalid media id). Tests read
what it received (``calls``, ``drafts``, ``messages``) and steer it (``expire_tokens``,
``fail_next``, ``expire_media``, ``followers_last_message``). ``/img/<name>`` serves
``images``, standing in for the sites whose images members link to.
"""

from __future__ import annotations

import asyncio
import itertools
import json
import threading
import time
from dataclasses import dataclass, field
from typing import Any

from aiohttp import web

APP_ID = "wx1234567890abcdef"
APP_SECRET = "fake-app-secret-0123456789"


@dataclass
class FakeMp:
    """The fake's state; ``url`` once started (``with FakeMp() as fake:``)."""

    app_id: str = APP_ID
    secret: str = APP_SECRET
    calls: list[tuple[str, dict[str, Any]]] = field(default_factory=list)
    tokens: dict[str, float] = field(default_factory=dict)  # token -> expires at
    invalidated: set[str] = field(default_factory=set)
    stable: str | None = None
    temp_media: dict[str, bytes] = field(default_factory=dict)
    permanent: dict[str, bytes] = field(default_factory=dict)
    article_images: dict[str, bytes] = field(default_factory=dict)
    drafts: dict[str, list[dict[str, Any]]] = field(default_factory=dict)
    published: list[str] = field(default_factory=list)
    messages: list[dict[str, Any]] = field(default_factory=list)
    followers_last_message: dict[str, float] = field(default_factory=dict)
    failures: dict[str, list[int]] = field(default_factory=dict)
    images: dict[str, bytes] = field(default_factory=dict)  # served at /img/<name>
    url: str = ""
    _ids: itertools.count = field(default_factory=lambda: itertools.count(1))

    # -- steering ---------------------------------------------------------------------------
    def expire_tokens(self) -> None:
        """Every token issued so far answers 42001 from now on."""
        for token in self.tokens:
            self.tokens[token] = 0

    def fail_next(self, endpoint: str, *codes: int) -> None:
        """The next calls of ``endpoint`` (e.g. ``"draft/add"``) fail with ``codes``."""
        self.failures.setdefault(endpoint, []).extend(codes)

    def expire_media(self, media_id: str) -> None:
        self.temp_media.pop(media_id, None)

    def endpoint_calls(self, endpoint: str) -> list[dict[str, Any]]:
        return [body for name, body in self.calls if name == endpoint]

    # -- serving ----------------------------------------------------------------------------
    def _new_token(self) -> str:
        token = f"TOKEN-{next(self._ids)}"
        self.tokens[token] = time.time() + 7200
        return token

    def _check_token(self, request: web.Request) -> dict[str, Any] | None:
        token = request.query.get("access_token", "")
        if token in self.invalidated or token not in self.tokens:
            return {"errcode": 40001, "errmsg": "invalid credential, access_token is invalid"}
        if self.tokens[token] <= time.time():
            return {"errcode": 42001, "errmsg": "access_token expired"}
        return None

    def _failure(self, endpoint: str) -> dict[str, Any] | None:
        queued = self.failures.get(endpoint)
        if queued:
            code = queued.pop(0)
            return {"errcode": code, "errmsg": f"fake error {code}"}
        return None

    async def _handle(self, request: web.Request) -> web.Response:
        endpoint = request.match_info["endpoint"]
        body: dict[str, Any] = {}
        files: dict[str, bytes] = {}
        if request.content_type.startswith("multipart/"):
            async for part in await request.multipart():
                files[part.name or ""] = await part.read()  # type: ignore[union-attr]
        elif request.can_read_body:
            raw = await request.read()
            body = json.loads(raw.decode("utf-8")) if raw else {}
        record = dict(body)
        record["_query"] = dict(request.query)
        record["_files"] = files
        self.calls.append((endpoint, record))
        answer = self._answer(endpoint, request, body, files)
        return web.json_response(answer, dumps=lambda o: json.dumps(o, ensure_ascii=False))

    def _answer(
        self, endpoint: str, request: web.Request, body: dict[str, Any], files: dict[str, bytes]
    ) -> dict[str, Any]:
        if endpoint == "token":
            q = request.query
            if q.get("appid") != self.app_id or q.get("secret") != self.secret:
                return {"errcode": 40125, "errmsg": "invalid appsecret"}
            for token in self.tokens:  # the classic endpoint invalidates the previous token
                self.invalidated.add(token)
            return {"access_token": self._new_token(), "expires_in": 7200}
        if endpoint == "stable_token":
            if body.get("appid") != self.app_id or body.get("secret") != self.secret:
                return {"errcode": 40125, "errmsg": "invalid appsecret"}
            current = self.stable
            valid = current is not None and self.tokens.get(current, 0) > time.time()
            if body.get("force_refresh") or not valid:
                if current is not None:
                    self.invalidated.add(current)
                self.stable = current = self._new_token()
            assert current is not None
            return {"access_token": current, "expires_in": int(self.tokens[current] - time.time())}
        refused = self._check_token(request) or self._failure(endpoint)
        if refused:
            return refused
        if endpoint == "media/upload":
            media_id = f"TEMP-{next(self._ids)}"
            self.temp_media[media_id] = files.get("media", b"")
            return {"type": request.query.get("type"), "media_id": media_id, "created_at": 1}
        if endpoint == "media/uploadimg":
            key = f"img{next(self._ids)}"
            self.article_images[key] = files.get("media", b"")
            return {"url": f"http://mmbiz.qpic.cn/mmbiz_png/{key}/0?wx_fmt=png"}
        if endpoint == "material/add_material":
            media_id = f"PERM-{next(self._ids)}"
            self.permanent[media_id] = files.get("media", b"")
            return {"media_id": media_id, "url": f"http://mmbiz.qpic.cn/mmbiz_png/{media_id}/0"}
        if endpoint == "draft/add":
            articles = body.get("articles") or []
            for article in articles:
                if article.get("thumb_media_id") not in self.permanent:
                    return {"errcode": 40007, "errmsg": "invalid media_id"}
            media_id = f"DRAFT-{next(self._ids)}"
            self.drafts[media_id] = articles
            return {"media_id": media_id}
        if endpoint == "draft/update":
            media_id = body.get("media_id", "")
            if media_id not in self.drafts:
                return {"errcode": 40007, "errmsg": "invalid media_id"}
            self.drafts[media_id][int(body.get("index", 0))] = body["articles"]
            return {"errcode": 0, "errmsg": "ok"}
        if endpoint == "freepublish/submit":
            if body.get("media_id") not in self.drafts:
                return {"errcode": 40007, "errmsg": "invalid media_id"}
            self.published.append(body["media_id"])
            return {"errcode": 0, "errmsg": "ok", "publish_id": f"PUB-{next(self._ids)}"}
        if endpoint == "message/custom/send":
            openid = body.get("touser", "")
            last = self.followers_last_message.get(openid, time.time())
            if time.time() - last > 48 * 3600:
                return {"errcode": 45015, "errmsg": "response out of time limit"}
            if body.get("msgtype") == "image":
                if body.get("image", {}).get("media_id") not in self.temp_media:
                    return {"errcode": 40007, "errmsg": "invalid media_id"}
            self.messages.append(body)
            return {"errcode": 0, "errmsg": "ok"}
        return {"errcode": 40066, "errmsg": f"invalid url {endpoint}"}

    async def _image(self, request: web.Request) -> web.Response:
        """Images members link to (a stand-in for the sites they come from)."""
        name = request.match_info["name"]
        self.calls.append(("img", {"name": name}))
        if name not in self.images:
            return web.Response(status=404)
        return web.Response(body=self.images[name], content_type="image/png")

    # -- life cycle -------------------------------------------------------------------------
    def __enter__(self) -> FakeMp:
        started = threading.Event()
        self._loop = asyncio.new_event_loop()

        async def serve() -> None:
            app = web.Application(client_max_size=20 * 1024 * 1024)
            app.router.add_route("*", "/cgi-bin/{endpoint:.+}", self._handle)
            app.router.add_get("/img/{name}", self._image)
            self._runner = web.AppRunner(app, access_log=None)
            await self._runner.setup()
            site = web.TCPSite(self._runner, "127.0.0.1", 0)
            await site.start()
            port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]
            self.url = f"http://127.0.0.1:{port}/"
            started.set()

        def run() -> None:
            asyncio.set_event_loop(self._loop)
            self._loop.run_until_complete(serve())
            self._loop.run_forever()

        self._thread = threading.Thread(target=run, daemon=True)
        self._thread.start()
        assert started.wait(10), "fake 公众号 API did not start"
        return self

    def __exit__(self, *exc: object) -> None:
        async def stop() -> None:
            await self._runner.cleanup()

        asyncio.run_coroutine_threadsafe(stop(), self._loop).result(10)
        self._loop.call_soon_threadsafe(self._loop.stop)
        self._thread.join(10)
