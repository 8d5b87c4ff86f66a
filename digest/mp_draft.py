"""A published digest → a 公众号 draft, exactly once per issue (``mp_drafts`` is the ledger).

:meth:`MpDrafts.push` renders the issue (:func:`digest.render_mp.render_mp_article`), uploads
its images (``media/uploadimg``; the WeChat address of each is remembered, so a rebuild uploads
nothing again), draws the cover (:func:`digest.cover.draw_cover`) and uploads it once as
permanent material for ``thumb_media_id``, then:

* no draft yet: the ledger row is written (``adding``) *before* ``draft/add`` is called and
  gets the draft's media id after it, so a second process or a retry never adds a second draft.
  If WeChat refused the call (an error code), nothing was added: the next push tries again. If
  the process died or the network failed in between, nobody knows whether the draft exists:
  the ledger stays ``adding`` and a push reports it (``uncertain``) instead of adding another;
  an admin checks the 草稿箱 and sends ``/digest mp retry`` (``force``) when it is not there;
* a draft exists and the issue changed (a rebuild): ``draft/update`` of that draft (a draft an
  editor deleted, 40007, is added anew); unchanged: nothing is called;
* ``mp.publish: true``: ``freepublish/submit`` once (default: the draft waits for an editor).

The API is :class:`DraftApi` (``bot.adapters.mp_client.MpClient`` in the app): blocking calls,
run in a worker thread. No database session is open across an ``await``.
"""

from __future__ import annotations

import asyncio
import hashlib
import io
import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Protocol

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from bot.config import Config
from bot.i18n import Messages
from bot.model import utcnow
from digest.cover import draw_cover
from digest.model import Digest
from digest.render_mp import article_summary, image_urls, is_wechat_image, render_mp_article
from storage.db import Database
from storage.identity import ensure_group
from storage.models import DigestIssue, MpDraft

log = logging.getLogger(__name__)

BAD_MEDIA_ID = 40007
MAX_TITLE = 64  # WeChat: an article title is at most 64 characters
MAX_IMAGE_BYTES = 1_000_000  # media/uploadimg takes JPG/PNG under 1 MB

MSG = Messages(
    {
        "added": (
            "第{n}期已存入公众号草稿箱 ✅（草稿 {media_id}）",
            "Issue {n} is in the 公众号 drafts ✅ (draft {media_id})",
        ),
        "updated": ("第{n}期的公众号草稿已更新 ✅", "Issue {n}'s 公众号 draft was updated ✅"),
        "unchanged": (
            "第{n}期的公众号草稿已是最新，没有改动。",
            "Issue {n}'s 公众号 draft is up to date; nothing changed.",
        ),
        "submitted": (
            "第{n}期已提交公众号发布 ✅（publish_id {publish_id}）",
            "Issue {n} was submitted for publishing on the 公众号 ✅ (publish_id {publish_id})",
        ),
        "already_published": (
            "第{n}期已在公众号发布过，不再修改草稿。",
            "Issue {n} was already published on the 公众号; its draft is not changed.",
        ),
        "uncertain": (
            "第{n}期上次创建公众号草稿时中断，不确定是否已创建。请检查公众号草稿箱；"
            "没有的话发送 /digest mp retry 重新创建。",
            "Creating issue {n}'s 公众号 draft was interrupted; it may or may not exist. Check "
            "the drafts; if it is not there, send /digest mp retry.",
        ),
        "busy": (
            "第{n}期的公众号草稿正在由另一个进程创建。",
            "Another process is creating issue {n}'s 公众号 draft.",
        ),
        "failed": (
            "第{n}期的公众号草稿没有创建成功：{error}。稍后会再试，也可以发送 /digest mp。",
            "Issue {n}'s 公众号 draft failed: {error}. It is retried later; or send /digest mp.",
        ),
        "none": (
            "还没有已发布的周报，无法生成公众号草稿。",
            "No digest has been published yet: there is nothing to make a 公众号 draft of.",
        ),
        "quota": (
            "公众号接口今日调用次数已用完（45009）",
            "the 公众号 API quota is used up (45009)",
        ),
    }
)


class DraftApi(Protocol):
    """The 公众号 calls a draft needs (blocking)."""

    def upload_article_image(self, data: bytes, name: str) -> str: ...

    def add_permanent_image(self, data: bytes, name: str) -> str: ...

    def add_draft(self, article: dict[str, Any]) -> str: ...

    def update_draft(self, media_id: str, article: dict[str, Any]) -> None: ...

    def submit_publish(self, media_id: str) -> str: ...


class KeyValue(Protocol):
    def get(self, key: str, default: str | None = None) -> str | None: ...

    def set(self, key: str, value: str, ttl: float | None = None) -> None: ...


@dataclass(frozen=True)
class DraftResult:
    """What a push did: ``status`` is a key of :data:`MSG`."""

    status: str
    number: int = 0
    media_id: str | None = None
    publish_id: str | None = None
    error: str = ""

    def summary(self, lang: str) -> str:
        error = self.error
        if self.status == "failed" and error.startswith("45009"):
            error = MSG.get("quota", lang)
        return MSG.get(
            self.status,
            lang,
            n=self.number,
            media_id=self.media_id or "",
            publish_id=self.publish_id or "",
            error=error,
        )


def _error_text(error: Exception) -> str:
    code = getattr(error, "errcode", None)
    return f"{code} {getattr(error, 'errmsg', '')}".strip() if code else str(error)[:300]


async def fetch_image(url: str) -> bytes | None:
    """Download an image a member linked (10 s, 5 MB at most); None when it cannot be had."""
    import aiohttp

    timeout = aiohttp.ClientTimeout(total=10)
    try:
        async with aiohttp.ClientSession(timeout=timeout) as http:
            async with http.get(url) as response:
                if response.status != 200 or not response.content_type.startswith("image/"):
                    return None
                data = await response.content.read(5_000_001)
                return data if len(data) <= 5_000_000 else None
    except (aiohttp.ClientError, TimeoutError, ValueError):
        return None


def shrink_image(data: bytes) -> tuple[bytes, str] | None:
    """``data`` as a PNG or JPEG under WeChat's 1 MB (re-encoded when needed), with a name."""
    from PIL import Image, UnidentifiedImageError

    try:
        opened = Image.open(io.BytesIO(data))
        kind = (opened.format or "").upper()
        if kind in ("PNG", "JPEG") and len(data) <= MAX_IMAGE_BYTES:
            return data, "image.png" if kind == "PNG" else "image.jpg"
        image: Image.Image = opened.convert("RGB")
        for width in (1600, 1080, 720):
            if image.width > width:
                image = image.resize((width, round(image.height * width / image.width)))
            out = io.BytesIO()
            image.save(out, format="JPEG", quality=82)
            if out.tell() <= MAX_IMAGE_BYTES:
                return out.getvalue(), "image.jpg"
    except (UnidentifiedImageError, OSError, ValueError):
        return None
    return None


class MpDrafts:
    """Makes and keeps the 公众号 draft of each published issue (see the module docstring)."""

    def __init__(
        self,
        db: Database,
        config: Config,
        api: DraftApi,
        state: KeyValue,
        *,
        clock: Callable[[], datetime] = utcnow,
        fetch: Callable[[str], Awaitable[bytes | None]] = fetch_image,
    ) -> None:
        self.db = db
        self.config = config
        self.api = api
        self.state = state
        self.clock = clock
        self.fetch = fetch

    @property
    def slug(self) -> str:
        """The group whose digest goes to the 公众号: ``mp.group``, else the first."""
        return self.config.mp.group or self.config.groups[0].slug

    # -- reading the issue ----------------------------------------------------------------
    def _load(self, number: int | None) -> tuple[int, Digest] | None:
        from digest.preview import digest_of

        group_config = next(g for g in self.config.groups if g.slug == self.slug)
        with self.db.session() as session:
            group = ensure_group(
                session, group_config.slug, group_config.name, group_config.timezone
            )
            query = select(DigestIssue).where(DigestIssue.group_id == group.id)
            if number is None:
                query = query.where(DigestIssue.status == "published")
            else:
                query = query.where(DigestIssue.number == number)
            issue = session.scalars(query.order_by(DigestIssue.number.desc()).limit(1)).first()
            if issue is None:
                return None
            return group.id, digest_of(session, issue, self.config)

    async def _hosted(self, url: str) -> str | None:
        """The WeChat address of an image in the article, uploaded once."""
        key = "mp:img:" + hashlib.sha256(url.encode("utf-8")).hexdigest()
        known = await asyncio.to_thread(self.state.get, key)
        if known:
            return known
        data = await self.fetch(url)
        shrunk = shrink_image(data) if data else None
        if shrunk is None:
            log.warning("image %s not put in the 公众号 article (cannot fetch or read it)", url)
            return None
        hosted = await asyncio.to_thread(self.api.upload_article_image, *shrunk)
        await asyncio.to_thread(self.state.set, key, hosted, None)
        return hosted

    # -- the ledger -----------------------------------------------------------------------
    def _row(self, group_id: int, number: int) -> MpDraft | None:
        with self.db.session() as session:
            row = session.scalars(
                select(MpDraft).where(MpDraft.group_id == group_id, MpDraft.issue_number == number)
            ).one_or_none()
            if row is not None:
                session.expunge(row)
            return row

    def _save(self, group_id: int, number: int, **values: Any) -> None:
        with self.db.session() as session:
            row = session.scalars(
                select(MpDraft).where(MpDraft.group_id == group_id, MpDraft.issue_number == number)
            ).one()
            for name, value in values.items():
                setattr(row, name, value)

    def _claim(self, group_id: int, number: int, *, force: bool) -> str | None:
        """Own the draft/add of this issue: None when we may call it, else a status."""
        try:
            with self.db.session() as session:
                row = session.scalars(
                    select(MpDraft).where(
                        MpDraft.group_id == group_id, MpDraft.issue_number == number
                    )
                ).one_or_none()
                if row is None:
                    session.add(MpDraft(group_id=group_id, issue_number=number, state="adding"))
                    return None
                if row.media_id is not None:
                    return "exists"
                if row.state == "adding" and not force:
                    return "uncertain" if row.last_error is None else "busy"
                row.state, row.last_error = "adding", None
                return None
        except IntegrityError:
            return "busy"  # another process inserted the row first

    # -- the push -------------------------------------------------------------------------
    async def push(self, number: int | None = None, *, force: bool = False) -> DraftResult:
        """Make or update the draft of issue ``number`` (default: the latest published)."""
        loaded = await asyncio.to_thread(self._load, number)
        if loaded is None:
            return DraftResult("none")
        group_id, digest = loaded
        number = digest.number
        try:
            return await self._push(group_id, digest, force=force)
        except Exception as error:
            log.exception("公众号 draft of issue %s failed", number)
            return DraftResult("failed", number, error=_error_text(error))

    async def _push(self, group_id: int, digest: Digest, *, force: bool) -> DraftResult:
        number = digest.number
        hosted = {}
        for url in image_urls(digest):
            if not is_wechat_image(url):
                hosted[url] = await self._hosted(url)
        content = render_mp_article(digest, image_url=hosted.get)
        title = digest.title[:MAX_TITLE]
        digest_hash = hashlib.sha256(f"{title}\n{content}".encode()).hexdigest()
        row = await asyncio.to_thread(self._row, group_id, number)
        if row is not None and row.state == "submitted":
            return DraftResult("already_published", number, row.media_id, row.publish_id)
        if row is not None and row.media_id and row.content_hash == digest_hash:
            return await self._maybe_publish(group_id, number, row.media_id, "unchanged")
        thumb = row.thumb_media_id if row is not None else None
        article = {
            "title": title,
            "author": self.config.mp.author,
            "digest": article_summary(digest),
            "content": content,
            "content_source_url": digest.web_url or "",
            "need_open_comment": 0,
            "only_fans_can_comment": 0,
        }
        if row is not None and row.media_id:
            assert thumb is not None
            article["thumb_media_id"] = thumb
            try:
                await asyncio.to_thread(self.api.update_draft, row.media_id, article)
            except Exception as error:
                if getattr(error, "errcode", None) != BAD_MEDIA_ID:
                    raise
                log.warning(
                    "公众号 draft %s is gone (deleted in the editor?): adding it anew", row.media_id
                )
                await asyncio.to_thread(
                    self._save, group_id, number, media_id=None, state="failed", last_error="40007"
                )
                return await self._push(group_id, digest, force=force)
            await asyncio.to_thread(self._save, group_id, number, content_hash=digest_hash)
            return await self._maybe_publish(group_id, number, row.media_id, "updated")
        claim = await asyncio.to_thread(self._claim, group_id, number, force=force)
        if claim == "exists":
            return await self._push(group_id, digest, force=False)  # another process added it
        if claim is not None:
            return DraftResult(claim, number)
        try:
            if thumb is None:
                cover = draw_cover(
                    digest.group_name, number, digest.period_label, slug=self.slug, lang=digest.lang
                )
                thumb = await asyncio.to_thread(self.api.add_permanent_image, cover, "cover.png")
                await asyncio.to_thread(self._save, group_id, number, thumb_media_id=thumb)
            article["thumb_media_id"] = thumb
            media_id = await asyncio.to_thread(self.api.add_draft, article)
        except Exception as error:
            if getattr(error, "errcode", None) is None:
                raise  # no answer from WeChat: the ledger stays "adding" (uncertain)
            text = _error_text(error)
            await asyncio.to_thread(self._save, group_id, number, state="failed", last_error=text)
            return DraftResult("failed", number, error=text)
        await asyncio.to_thread(
            self._save, group_id, number, media_id=media_id, state="added", content_hash=digest_hash
        )
        return await self._maybe_publish(group_id, number, media_id, "added")

    async def _maybe_publish(
        self, group_id: int, number: int, media_id: str, status: str
    ) -> DraftResult:
        if not self.config.mp.publish:
            return DraftResult(status, number, media_id)
        try:
            publish_id = await asyncio.to_thread(self.api.submit_publish, media_id)
        except Exception as error:
            if getattr(error, "errcode", None) is None:
                raise
            return DraftResult("failed", number, media_id, error=_error_text(error))
        await asyncio.to_thread(
            self._save, group_id, number, state="submitted", publish_id=publish_id
        )
        return DraftResult("submitted", number, media_id, publish_id)
