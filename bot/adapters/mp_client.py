"""The 公众号 API client: wechatpy's ``WeChatClient`` with a shared token and one retry.

wechatpy 1.8.18 (the released version) covers the access token, customer-service messages
(``message.send_text``/``send_image``), temporary media (``media.upload``), article images
(``media.upload_image`` = ``media/uploadimg``) and permanent material (``material.add``). It
predates ``stable_token``, ``draft/*`` and ``freepublish/*``: those go through the client's
generic ``post``, so they share its token handling and error decoding.

What :class:`MpClient` changes:

* The token lives in a store shared by every process (``storage.mp_state.SharedState``, passed
  in by ``bot.app``), fetched with ``stable_token`` (a fetch returns the token still valid
  instead of invalidating it; ``mp.stable_token: false`` uses the classic ``token``).
* An expired/invalid token (40001, 42001, 40014) is refreshed **once** and the call retried
  once (wechatpy's own retry loops without a bound). When another process already stored a
  newer token, that one is used instead of fetching; 40001 asks ``stable_token`` for a forced
  refresh (the stored token was invalidated), 42001 for the current one.
* Errors raise :class:`MpApiError` with WeChat's ``errcode`` (45009 quota, 45015 outside the
  48-hour window, 40007 bad media id...), for callers to decide.

Every method is blocking (``requests``): the adapter and the draft publisher call them in a
worker thread (``asyncio.to_thread``), never on the event loop.
"""

from __future__ import annotations

import io
import json
import logging
from collections.abc import Callable
from typing import Any, Protocol, TypeVar

from wechatpy.client import WeChatClient
from wechatpy.exceptions import WeChatClientException

log = logging.getLogger(__name__)

TOKEN_ERRORS = frozenset({40001, 40014, 42001})
QUOTA_EXCEEDED = 45009
OUT_OF_WINDOW = 45015  # customer-service message more than 48 hours after the follower's
BAD_MEDIA_ID = 40007
TOKEN_MARGIN = 300  # seconds before WeChat's expiry that a token counts as expired

T = TypeVar("T")


class TokenStore(Protocol):
    """Where the access token is kept (wechatpy's ``SessionStorage`` interface)."""

    def get(self, key: str, default: str | None = None) -> str | None: ...

    def set(self, key: str, value: str, ttl: float | None = None) -> None: ...

    def delete(self, key: str) -> None: ...


class MpApiError(Exception):
    """The 公众号 API refused a call: ``errcode`` and ``errmsg`` as WeChat sent them."""

    def __init__(self, errcode: int | None, errmsg: str) -> None:
        super().__init__(f"公众号 API error {errcode}: {errmsg}")
        self.errcode = errcode
        self.errmsg = errmsg


class _WeChatClient(WeChatClient):  # type: ignore[misc]
    """wechatpy's client pointed at ``base_url``, its token in ``store``, fetched our way."""

    def __init__(
        self, app_id: str, secret: str, *, base_url: str, store: TokenStore, stable: bool
    ) -> None:
        super().__init__(app_id, secret, session=store, timeout=15, auto_retry=False)
        self.API_BASE_URL = base_url.rstrip("/") + "/cgi-bin/"
        self.stable = stable

    @property
    def access_token(self) -> str:
        token = self.session.get(self.access_token_key)
        if token:
            return str(token)
        self.fetch_access_token()
        return str(self.session.get(self.access_token_key))

    def fetch_access_token(self, force: bool = False) -> dict[str, Any]:
        """A token from ``stable_token`` (or ``token``), stored for every process."""
        if self.stable:
            body = {
                "grant_type": "client_credential",
                "appid": self.appid,
                "secret": self.secret,
                "force_refresh": force,
            }
            response = self._http.post(
                self.API_BASE_URL + "stable_token",
                data=json.dumps(body).encode("utf-8"),
                timeout=self.timeout,
            )
        else:
            params = {"grant_type": "client_credential", "appid": self.appid}
            params["secret"] = self.secret
            response = self._http.get(
                self.API_BASE_URL + "token", params=params, timeout=self.timeout
            )
        try:
            result = response.json()
        except ValueError:
            raise MpApiError(None, f"token endpoint answered HTTP {response.status_code}") from None
        if result.get("errcode"):
            raise MpApiError(int(result["errcode"]), str(result.get("errmsg", "")))
        ttl = max(60, int(result.get("expires_in", 7200)) - TOKEN_MARGIN)
        self.session.set(self.access_token_key, result["access_token"], ttl)
        log.info(
            "公众号 access token fetched (%s, valid %d s)",
            "stable" if self.stable else "token",
            ttl,
        )
        return dict(result)


class MpClient:
    """The calls studybot makes to the 公众号 API (blocking; run them in a thread)."""

    def __init__(
        self,
        app_id: str,
        secret: str,
        store: TokenStore,
        *,
        base_url: str = "https://api.weixin.qq.com/",
        stable_token: bool = True,
    ) -> None:
        self.client = _WeChatClient(
            app_id, secret, base_url=base_url, store=store, stable=stable_token
        )

    # -- token handling --------------------------------------------------------------------
    def _call(self, action: Callable[[], T]) -> T:
        """Run ``action``; on an expired token refresh once and run it once more."""
        client = self.client
        used = client.access_token
        try:
            return action()
        except WeChatClientException as error:
            if error.errcode not in TOKEN_ERRORS:
                raise MpApiError(error.errcode, str(error.errmsg)) from None
            code = error.errcode
        stored = client.session.get(client.access_token_key)
        if not stored or stored == used:  # nobody refreshed it yet: we do
            client.session.delete(client.access_token_key)
            client.fetch_access_token(force=code == 40001)
        log.info("公众号 access token %s rejected (%s); retrying once", "refreshed", code)
        try:
            return action()
        except WeChatClientException as error:
            raise MpApiError(error.errcode, str(error.errmsg)) from None

    def _post(self, endpoint: str, data: dict[str, Any]) -> dict[str, Any]:
        return dict(self._call(lambda: self.client.post(endpoint, data=data)))

    # -- messages ---------------------------------------------------------------------------
    def send_text(self, openid: str, text: str) -> None:
        """A customer-service text message (within 48 hours of the follower's message)."""
        self._call(lambda: self.client.message.send_text(openid, text))

    def send_image(self, openid: str, media_id: str) -> None:
        self._call(lambda: self.client.message.send_image(openid, media_id))

    # -- media ------------------------------------------------------------------------------
    def upload_temporary_image(self, data: bytes, name: str) -> str:
        """Temporary media (3 days) for messages; returns its ``media_id``."""
        result = self._call(lambda: self.client.media.upload("image", (name, io.BytesIO(data))))
        return str(result["media_id"])

    def upload_article_image(self, data: bytes, name: str) -> str:
        """An image inside an article (``media/uploadimg``); returns its mmbiz URL."""
        return str(self._call(lambda: self.client.media.upload_image((name, io.BytesIO(data)))))

    def add_permanent_image(self, data: bytes, name: str) -> str:
        """Permanent image material (a cover's ``thumb_media_id``); returns its media id."""
        result = self._call(lambda: self.client.material.add("image", (name, io.BytesIO(data))))
        return str(result["media_id"])

    # -- drafts and publishing (not in wechatpy 1.8: its generic post) ----------------------
    def add_draft(self, article: dict[str, Any]) -> str:
        """``draft/add`` of one article; returns the draft's media id."""
        return str(self._post("draft/add", {"articles": [article]})["media_id"])

    def update_draft(self, media_id: str, article: dict[str, Any]) -> None:
        self._post("draft/update", {"media_id": media_id, "index": 0, "articles": article})

    def submit_publish(self, media_id: str) -> str:
        """``freepublish/submit`` of a draft; returns the ``publish_id``."""
        return str(self._post("freepublish/submit", {"media_id": media_id})["publish_id"])
