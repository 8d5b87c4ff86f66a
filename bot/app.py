"""The one place that wires everything: config -> database -> handlers -> dispatcher -> adapters.

Only this module imports adapters, storage and handlers together (see DESIGN.md).
"""

from __future__ import annotations

import asyncio
import importlib
import logging
import pkgutil
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from typing import TYPE_CHECKING

from aiohttp import web
from apscheduler.schedulers.base import BaseScheduler

import handlers
from bot.config import Config
from bot.context import Services
from bot.dispatch import Dispatcher
from bot.log_redaction import protect_config
from bot.model import utcnow
from bot.paper_metadata import PaperMetadata
from bot.platform import Adapter, Sender
from bot.registry import REGISTRY, Registry
from bot.sent import BotNames, SentLog
from bot.tasks import BackgroundTasks
from digest.mp_draft import MpDrafts
from digest.service import DigestService
from storage.db import Database
from storage.search.worker import IndexWorker

if TYPE_CHECKING:
    from bot.adapters.telegram import TelegramAdapter

log = logging.getLogger(__name__)


def load_handlers() -> Registry:
    """Import every module in ``handlers/`` so that its decorators register it."""
    for module in pkgutil.iter_modules(handlers.__path__):
        importlib.import_module(f"handlers.{module.name}")
    return REGISTRY


@dataclass
class App:
    """A wired bot: config, database, dispatcher, services and (once started) adapters."""

    config: Config
    db: Database
    dispatcher: Dispatcher
    sent: SentLog  # what adapters record about the bot's own messages
    services: Services
    digest: DigestService
    clock: Callable[[], datetime] = utcnow
    senders: dict[str, Sender] = field(default_factory=dict)
    scheduler: BaseScheduler | None = None  # while this process runs the jobs (digest.schedule)
    background: list[asyncio.Task[None]] = field(default_factory=list)
    indexer: IndexWorker | None = None
    # routes adapters serve on the web server (the 公众号 callback), added by make_adapter
    web_routes: list[web.RouteDef] = field(default_factory=list)
    mp_drafts: MpDrafts | None = None  # 公众号 drafts of published digests, when configured
    paper_metadata: PaperMetadata | None = None  # arXiv/GitHub metadata, fetched in the background

    def add_sender(self, sender: Sender) -> None:
        self.senders[sender.platform] = sender


def build_app(
    config: Config,
    *,
    clock: Callable[[], datetime] = utcnow,
    db: Database | None = None,
    bot_usernames: tuple[str, ...] = (),
) -> App:
    """Create the database (migrated), load handlers, build the digest service and the
    dispatcher; adapters add their senders to ``app.senders`` when they are made."""
    protect_config(config)  # the config's secrets never reach the logs
    registry = load_handlers()
    database = db or Database(
        config.database.url,
        echo=config.database.echo,
        worker_thread=config.database.worker_thread,
    )
    senders: dict[str, Sender] = {}
    mp_drafts = _mp_drafts(config, database, clock)
    digest = DigestService(database, config, senders, clock, mp_drafts=mp_drafts)
    tasks = BackgroundTasks(report=digest.notify_admins)  # failures reach the admins
    metadata = PaperMetadata(database, config.papers, tasks)
    services = Services(
        publish_digest=digest.publish_digest,
        push_mp_draft=digest.push_mp_draft,
        paper_metadata=metadata.schedule,
    )
    names = BotNames(bot_usernames)  # Telegram adds its own once getMe answers
    dispatcher = Dispatcher(
        config,
        database,
        registry=registry,
        services=services,
        clock=clock,
        bot_names=names,
        tasks=tasks,
    )
    indexer = IndexWorker(database)  # search indexing after the reply, not before it
    database.on_index_queued = indexer.notify
    return App(
        config=config,
        db=database,
        dispatcher=dispatcher,
        sent=SentLog(database, names),
        services=services,
        digest=digest,
        clock=clock,
        senders=senders,
        indexer=indexer,
        mp_drafts=mp_drafts,
        paper_metadata=metadata,
    )


def _mp_drafts(config: Config, db: Database, clock: Callable[[], datetime]) -> MpDrafts | None:
    """With the 公众号's AppID and AppSecret (and ``mp.draft``), published digests become
    drafts (:class:`digest.mp_draft.MpDrafts`); None otherwise."""
    mp = config.mp
    if not (mp.app_id and mp.app_secret and mp.draft):
        return None
    from bot.adapters.mp_client import MpClient
    from storage.mp_state import SharedState

    state = SharedState(db)
    client = MpClient(
        mp.app_id, mp.app_secret, state, base_url=mp.api_base_url, stable_token=mp.stable_token
    )
    return MpDrafts(db, config, client, state, clock=clock)


def make_adapter(name: str, app: App) -> Adapter:
    """Create the adapter for platform ``name``."""
    if name == "console":
        from bot.adapters.console import ConsoleAdapter

        return ConsoleAdapter(app.dispatcher, app.config, sent=app.sent)
    if name == "telegram":
        TelegramAdapter = telegram_adapter_class(app.config.telegram.mode)
        return TelegramAdapter(app.dispatcher, app.config, sent=app.sent)
    if name == "wechat":
        from bot.adapters.wechat import WechatAdapter

        return WechatAdapter(app.dispatcher, app.config, sent=app.sent)
    if name == "mp":
        return make_mp_adapter(app)
    raise ValueError(f"unknown platform {name!r}")


def telegram_adapter_class(mode: str = "polling") -> type[TelegramAdapter]:
    """Import the Telegram adapter, and PTB with it, without the optional extras PTB and httpx
    import when installed but the bot never uses (~15 MB of RSS): Telegram Passport's
    cryptography, httpx's command-line client (rich, pygments, click) and, when polling, the
    webhook server's tornado."""
    from bot.memory import without_optional

    unused = ["cryptography", "httpx._main", *(["tornado"] if mode == "polling" else [])]
    with without_optional(*unused):
        from bot.adapters.telegram import TelegramAdapter

    return TelegramAdapter


def make_mp_adapter(app: App) -> Adapter:
    """The 公众号 adapter: its callback route joins the web server's, its API client keeps the
    access token in the database (shared by every process)."""
    from bot.adapters.mp import MpAdapter
    from bot.adapters.mp_client import MpClient
    from bot.ingest import Ingest
    from storage.mp_state import SharedState

    mp = app.config.mp
    if not app.config.web.enabled:
        log.error("the 公众号 callback is served by the web server: set web.enabled: true")
    store = SharedState(app.db)
    client = None
    if mp.app_id and mp.app_secret:
        client = MpClient(
            mp.app_id,
            mp.app_secret,
            store,
            base_url=mp.api_base_url,
            stable_token=mp.stable_token,
        )
    adapter = MpAdapter(Ingest(app.dispatcher).handle, app.config, client, store)
    app.web_routes.extend(adapter.routes())
    return adapter
