"""Configuration: YAML validated with pydantic, ``${ENV}`` substitution, clear errors.

:func:`load_config` reads a YAML file (or none: the defaults run the console adapter on SQLite),
substitutes ``${VAR}`` / ``${VAR:-default}`` from the environment and validates the result.
Errors name the bad key, e.g. ``digest.cron: invalid crontab '...'``.
"""

from __future__ import annotations

import logging
import os
import re
from collections.abc import Mapping
from pathlib import Path
from typing import Any, Literal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import yaml
from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    PrivateAttr,
    ValidationError,
    field_validator,
    model_validator,
)

from bot.clubtime import clock_change_warnings
from bot.crontab import standard_crontab
from bot.log_redaction import protect_config

log = logging.getLogger(__name__)

MAX_CONFIG_BYTES = 1_000_000
MAX_ALIASES = 50  # YAML anchors reused more often than this: refused (an "alias bomb")
ENV_PATTERN = re.compile(r"\$\{([A-Za-z_][A-Za-z0-9_]*)(?::-([^}]*))?\}")
QUALIFIED_ID = re.compile(r"^(console|telegram|wechat|mp):\S+$")


class ConfigError(ValueError):
    """The configuration is invalid; the message names the key and the problem."""


class _Section(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


def _check_timezone(value: str) -> str:
    try:
        ZoneInfo(value)
    except (ZoneInfoNotFoundError, ValueError) as exc:
        raise ValueError(f"unknown timezone {value!r}") from exc
    return value


def _check_crontab(value: str) -> str:
    """A valid crontab, its weekdays as names (crontab(5) numbering; see bot.crontab)."""
    from apscheduler.triggers.cron import CronTrigger

    try:
        normalised = standard_crontab(value)
        CronTrigger.from_crontab(normalised)
    except ValueError as exc:
        raise ValueError(f"invalid crontab {value!r}: {exc}") from exc
    return normalised


class DatabaseConfig(_Section):
    url: str = "sqlite:///data/studybot.db"
    echo: bool = False
    # how long the ids of handled messages are kept to refuse a re-delivered one (platforms
    # re-deliver within a day); older ids are pruned at start-up and daily
    processed_retention_days: int = Field(default=30, ge=2, le=3650)
    # run the message transactions, outbox bookkeeping and indexing in one worker thread
    # instead of on the event loop (storage.db); off: measured slower on SQLite and on a local
    # PostgreSQL (docs/architecture.md says why); worth measuring for a remote PostgreSQL
    worker_thread: bool = False


class ChatConfig(_Section):
    """One chat the group lives in, e.g. ``{platform: telegram, chat_id: "-1001234"}``."""

    platform: Literal["console", "telegram", "wechat"]
    chat_id: str
    digest: bool = True
    reminders: bool = True
    # check-in acknowledgments here (bot.acks): react | batch | reply; unset: the platform's
    ack: Literal["react", "batch", "reply"] | None = None

    @field_validator("chat_id", mode="before")
    @classmethod
    def _chat_id_as_text(cls, value: Any) -> Any:
        return str(value) if isinstance(value, int) else value


class GroupConfig(_Section):
    """A study group (one club); it may span several chats on several platforms."""

    slug: str = Field(default="ml-club", pattern=r"^[a-z0-9][a-z0-9_-]{0,40}$")
    name: str = "ML自学者俱乐部"
    # what members and readers of this group see: replies, digest, archive (default: global)
    language: Literal["zh", "en"] | None = None
    timezone: str = "Asia/Shanghai"
    chats: list[ChatConfig] = Field(
        default_factory=lambda: [ChatConfig(platform="console", chat_id="console-group")]
    )

    @field_validator("timezone")
    @classmethod
    def _valid_timezone(cls, value: str) -> str:
        return _check_timezone(value)


JOIN_LOOP = re.compile(r"回复\s*[「“\"']?\**自学")


def _no_join_loop(value: str | None) -> str | None:
    """A chat's 「自学」 reply must not tell the member to send 自学 again."""
    if value and JOIN_LOOP.search(value):
        raise ValueError(
            "this is the reply to 「自学」 in a chat: it must not say 回复「自学」 again "
            "(that sentence belongs to join.text, the digest's 加入我们 for the 公众号)"
        )
    return value


class JoinChannelConfig(_Section):
    """The 「自学」 reply on one chat platform: its own text, invite link (the room for WeChat
    DMs is ``wechat.study_room_id``). Unset keys fall back to ``join.chat_text``/``invite_link``.
    ``digest_text``/``digest_text_en`` are the 加入我们 of the digest posted in that platform's
    chats (unset: :data:`CHAT_DIGEST_JOIN`, written for where the digest is read)."""

    text: str | None = None
    text_en: str | None = None
    invite_link: str | None = None
    digest_text: str | None = None
    digest_text_en: str | None = None

    @field_validator("text", "text_en")
    @classmethod
    def _not_a_loop(cls, value: str | None) -> str | None:
        return _no_join_loop(value)


_CONTRIBUTE = "欢迎投稿每周学习心得或者优质学习资料，助力团体共同学习进步。"
_CONTRIBUTE_EN = (
    "Share your weekly notes and good learning resources to help everyone learn together."
)

#: The digest's 加入我们 in each chat platform's group (zh, en) when ``join.<platform>.
#: digest_text`` is unset: how to join from where the digest is read (never the 公众号's
#: 「公众号内回复」, which only the 公众号 article says). Telegram's falls back to
#: ``digest.join_text_telegram``.
CHAT_DIGEST_JOIN: dict[str, tuple[str, str]] = {
    "wechat": (
        "想拉朋友一起学？让 TA 加机器人为好友并私聊发送「自学」，即可收到入群邀请。" + _CONTRIBUTE,
        "Bringing a friend? Have them add the bot as a contact and send it 「自学」 for an "
        "invitation to the group. " + _CONTRIBUTE_EN,
    ),
    "console": (
        "私聊机器人发送「自学」，即可获取加入方式。" + _CONTRIBUTE,
        "Send 「自学」 privately to the bot to learn how to join. " + _CONTRIBUTE_EN,
    ),
}


class JoinConfig(_Section):
    """The 「自学」 keyword and 加入我们.

    ``text``/``text_en`` are the digest's 加入我们 (the article is read on the 公众号, where
    replying 「自学」 is how to join). In Telegram/WeChat private chats 「自学」 is answered with
    ``chat_text`` (``{group}`` is the group's name), or the platform's own ``telegram``/
    ``wechat``/``console`` text, plus the invite link (in the club's own group chats, one line
    saying the member is in already); 公众号 followers get ``mp.join_text``.
    """

    keywords: list[str] = Field(default_factory=lambda: ["自学"])
    chat_text: str = (
        "欢迎加入{group}！每周用 /checkin（或 #打卡）分享学习心得，用 /share 投稿优质学习资料，"
        "/ask 提问，一起学习进步。"
    )
    chat_text_en: str = (
        "Welcome to {group}! Share your weekly notes with /checkin (or #打卡), good resources "
        "with /share, questions with /ask, and let's learn together."
    )
    telegram: JoinChannelConfig = JoinChannelConfig()
    wechat: JoinChannelConfig = JoinChannelConfig()
    console: JoinChannelConfig = JoinChannelConfig()
    text: str = (
        "公众号内回复「自学」，即可加入ML自学者俱乐部社群。"
        "可以投稿每周学习心得或者优质学习资料，助力团体共同学习进步。"
    )
    text_en: str = (
        "Reply 「自学」 to join the ML self-study club. Share your weekly notes "
        "and good learning resources to help everyone learn together."
    )
    invite_link: str | None = None
    welcome: str = (
        "欢迎 {names} 加入「{group}」🎉\n"
        "这里大家每周一起自学机器学习：发「#打卡 今天学了什么」记录学习心得（一天一次计分），"
        "/ask 提问，/help 查看全部命令。\n想拉朋友一起学？让 TA 私聊我发「自学」。"
    )
    welcome_en: str = (
        "Welcome {names} to “{group}” 🎉\n"
        "We study machine learning together every week: send “#打卡 what you learned” to check "
        "in (one scored check-in a day), /ask to ask, /help for every command.\n"
        "Bringing a friend? Have them message me 「自学」."
    )
    """The welcome for people who join a configured chat ({names}, {group}); empty: none."""
    accept_friends: bool = True
    """WeChat: accept friend requests whose greeting contains a join keyword, then invite."""

    @field_validator("welcome", "welcome_en")
    @classmethod
    def _welcome_placeholders(cls, value: str) -> str:
        try:
            value.format(names="", group="")
        except (KeyError, IndexError, ValueError) as error:
            raise ValueError(f"only {{names}} and {{group}} may be used ({error})") from None
        return value

    @field_validator("chat_text", "chat_text_en")
    @classmethod
    def _not_a_loop(cls, value: str) -> str:
        _no_join_loop(value)
        return value


class DigestBudgetConfig(_Section):
    """How long each target of the digest may be; past it, sections collapse to highlights."""

    markdown_chars: int = Field(default=20_000, ge=1000)  # the 公众号 article limit
    telegram_messages: int = Field(default=4, ge=1, le=50)
    wechat_messages: int = Field(default=3, ge=1, le=50)
    toc_names_max: int = Field(default=12, ge=1)  # 本期内容 names per section, else a count


class DigestConfig(_Section):
    cron: str = "0 20 * * sun"
    preview_lead_minutes: int = Field(default=120, ge=0, le=7 * 24 * 60)
    default_preface: str = (
        "这里记录ML自学者群体，每周分享优秀的学习心得与资料。由于微信不允许外部链接，"
        "需要点击文末的「阅读原文」，才能访问文中的链接。"
    )
    #: The default 刊首语 and 加入我们 on Telegram, where links work and there is no 公众号 to
    #: reply in (the defaults above speak of WeChat).
    default_preface_telegram: str = (
        "这里记录ML自学者群体，每周分享优秀的学习心得与资料。文中链接可直接点开，"
        "完整版与往期见文末的「阅读原文」。"
    )
    join_text_telegram: str = (
        "私聊机器人发送「自学」，即可获取加入方式。"
        "欢迎投稿每周学习心得或者优质学习资料，助力团体共同学习进步。"
    )
    #: 加入我们 on Telegram for an English group (join.text_en speaks of the 公众号)
    join_text_telegram_en: str = (
        "Send 「自学」 privately to the bot to learn how to join. Share your weekly notes "
        "and good learning resources to help everyone learn together."
    )
    # the default 刊首语 of a group whose language is English
    default_preface_en: str = (
        "The weekly notes and resources of our machine-learning self-study club. "
        "Links are in the full issue on the web archive."
    )
    enabled: bool = True
    budget: DigestBudgetConfig = Field(default_factory=DigestBudgetConfig)
    #: Order of the content sections; sections left out follow in the default order.
    sections: list[str] = Field(
        default_factory=lambda: ["papers", "notes", "resources", "questions"]
    )

    @field_validator("cron")
    @classmethod
    def _valid_cron(cls, value: str) -> str:
        return _check_crontab(value)

    @field_validator("sections")
    @classmethod
    def _valid_sections(cls, value: list[str]) -> list[str]:
        known = ("papers", "notes", "resources", "questions")
        unknown = [s for s in value if s not in known]
        if unknown:
            raise ValueError(f"unknown digest section(s) {unknown}; known: {', '.join(known)}")
        if len(set(value)) != len(value):
            raise ValueError("a digest section is listed twice")
        return value


class ReminderConfig(_Section):
    enabled: bool = True
    cron: str = "0 20 * * fri"
    quiet_hours: str = Field(default="23:00-08:00", pattern=r"^\d{2}:\d{2}-\d{2}:\d{2}$")
    dm: bool = True
    mentions: Literal["compact", "none"] = "compact"

    @field_validator("cron")
    @classmethod
    def _valid_cron(cls, value: str) -> str:
        return _check_crontab(value)


class BackupConfig(_Section):
    """In-process scheduled backups (``studybot db backup`` run by the scheduler leader).

    ``cron`` (in the first group's timezone; unset = off, e.g. when the systemd timer of
    docs/deploy.md does it) writes ``<data_dir>/backups/studybot-<time>.db`` (``.dump`` on
    PostgreSQL) and keeps the ``keep`` newest.
    """

    cron: str | None = None
    keep: int = Field(default=14, ge=1)

    @field_validator("cron")
    @classmethod
    def _valid_cron(cls, value: str | None) -> str | None:
        return None if value is None or not value.strip() else _check_crontab(value)


class LimitsConfig(_Section):
    max_message_chars: int = Field(default=4000, ge=100, le=100_000)
    messages_per_minute: int = Field(default=20, ge=1)
    burst: int = Field(default=10, ge=1)


class AccessConfig(_Section):
    """Where the bot answers (see docs/security.md).

    ``unconfigured_chats``: what a group chat that is in no ``groups[].chats`` hears when
    someone addresses the bot there: ``reply`` (once, how to configure the chat) or ``silent``.
    Nothing from such a chat is ever stored, and its administrators administer nothing.
    """

    unconfigured_chats: Literal["reply", "silent"] = "reply"


class PrivacyConfig(_Section):
    """What members send in a private chat (see docs/security.md).

    ``dm_entries_public``: whether check-ins, papers, resources and questions sent in a
    private chat are public (the digest, archive, feeds, ``/search``, lists, a question's
    group announcement) for members who have not chosen with ``/public``. Private check-ins
    still count for streaks, ``/rank`` and ``/me``.
    """

    dm_entries_public: bool = False


class WebConfig(_Section):
    enabled: bool = True
    host: str = "127.0.0.1"
    port: int = Field(default=8080, ge=0, le=65535)
    base_url: str = "http://127.0.0.1:8080"
    # per client address: requests a minute and the burst allowed (beyond: 429 Retry-After)
    requests_per_minute: int = Field(default=120, ge=1)
    burst: int = Field(default=60, ge=1)
    # rendered pages are kept this many seconds while no issue is published or removed (an
    # edited issue shows within it); 0: render every request
    page_cache_seconds: float = Field(default=5.0, ge=0)


class ChartsConfig(_Section):
    """Charts (/stats, the web archive's stats.png) are drawn with matplotlib."""

    # in a short-lived child process (~1 s more per chart): matplotlib, numpy and the font cache
    # (~50 MB) leave with it instead of staying in the bot's memory
    separate_process: bool = True


class TelegramWebhookConfig(_Section):
    url: str
    listen: str = "0.0.0.0"
    port: int = Field(default=8443, ge=1, le=65535)
    secret_token: str | None = None


class TelegramConfig(_Section):
    token: str | None = None
    mode: Literal["polling", "webhook"] = "polling"
    webhook: TelegramWebhookConfig | None = None
    base_url: str | None = None
    admin_cache_seconds: int = Field(default=300, ge=0)
    #: how long an unreachable Bot API at start is retried (with backoff) before the bot exits
    #: naming the cause, for a supervisor to restart it; 0 = give up at once
    start_retry_seconds: int = Field(default=300, ge=0)
    rate_limiter: bool = True  # the send stage keeps Telegram's limits; off only for benchmarks
    # group commit during bursts: a batch waits this long for more messages (0: never waits)
    batch_window_ms: int = Field(default=30, ge=0, le=1000)
    ack: Literal["react", "batch", "reply"] = "react"  # check-in acknowledgments in groups
    ack_reaction: str = "✍"  # from Telegram's standard reaction set


class WechatConfig(_Section):
    token: str | None = None
    endpoint: str | None = None
    study_room_id: str | None = None
    invite_cooldown_seconds: float = Field(default=86_400, ge=0)
    send_interval_seconds: float = Field(default=1.5, ge=0)
    max_text_chars: int = Field(default=1800, ge=100)
    login_timeout_seconds: float = Field(default=30, gt=0)
    ack: Literal["batch", "reply"] = "batch"  # check-in acknowledgments in rooms (no reactions)
    ack_batch_seconds: float = Field(default=5, ge=0)  # a room's batch gathers this long


class SendingConfig(_Section):
    """The send stage (bot.sending): how long a reply may wait, retries, shutdown."""

    max_age_seconds: float = Field(default=900, gt=0)  # older replies are dropped, not sent late
    retry_seconds: float = Field(default=30, gt=0)  # a reply that failed to send is retried after
    shutdown_seconds: float = Field(default=3, ge=0)  # sends under way get this long on SIGTERM
    ack_batch_seconds: float = Field(default=3, ge=0)  # acknowledgments gathered this long
    ack_window_seconds: float = Field(default=60, ge=0)  # a batch message is edited this long


class MpConfig(_Section):
    """The WeChat Official Account (公众号): callbacks from followers and digest drafts.

    ``app_id``/``app_secret`` call the API (write them as ``${ENV}``); ``token`` signs the
    callbacks and ``encoding_aes_key`` switches on safe mode (encrypted callbacks). Followers
    belong to ``group`` (default: the first configured group), whose digest becomes a draft.
    """

    app_id: str | None = None
    app_secret: str | None = None
    token: str | None = None
    encoding_aes_key: str | None = Field(default=None, pattern=r"^[A-Za-z0-9]{43}$")
    callback_path: str = Field(default="/mp/callback", pattern=r"^/[A-Za-z0-9/_.-]*$")
    api_base_url: str = "https://api.weixin.qq.com/"
    stable_token: bool = True  # /cgi-bin/stable_token: a refresh never invalidates other users
    reply_timeout_seconds: float = Field(default=4.0, gt=0, le=4.5)  # WeChat waits 5 s
    group: str | None = None
    # 「自学」 for followers: the text, then the group's QR code (a PNG/JPEG file) or a link
    join_text: str = "欢迎加入ML自学者俱乐部！每周分享学习心得与优质资料，一起学习进步。"
    join_text_en: str = (
        "Welcome to the ML self-study club! Share your weekly notes and good resources and "
        "learn together."
    )
    qr_image: str | None = None
    invite_link: str | None = None
    welcome: str = "感谢关注ML自学者俱乐部！回复「自学」加入社群，发送 /help 查看全部命令。"
    welcome_en: str = (
        "Thanks for following the ML self-study club! Reply 「自学」 to join the group, "
        "/help for every command."
    )
    # the digest: a draft (an editor presses publish) unless publish is on
    draft: bool = True
    publish: bool = False
    author: str = ""

    @field_validator("app_id", "app_secret", "token", "encoding_aes_key", "qr_image", mode="before")
    @classmethod
    def _empty_is_unset(cls, value: Any) -> Any:
        return None if value == "" else value

    @property
    def enabled(self) -> bool:
        """Callbacks are served once the token and the AppID are set."""
        return bool(self.token and self.app_id)


class PapersConfig(_Section):
    """Paper metadata: a shared arXiv paper's title, authors, abstract and date (the arXiv
    API), a GitHub code link's description and stars (the GitHub REST API), fetched in the
    background after the member's reply (see docs/digest.md)."""

    fetch_metadata: bool = True
    arxiv_api_url: str = "https://export.arxiv.org/api/query"
    github_api_url: str = "https://api.github.com"
    timeout_seconds: float = Field(default=15, gt=0)
    # a failed fetch (network down, timeout, 5xx) is tried again after this, doubling each
    # time, up to max_attempts; what is still missing is tried again at the next start
    retry_seconds: float = Field(default=300, gt=0)
    max_attempts: int = Field(default=6, ge=1)


class Config(_Section):
    """The whole configuration. Every key has a default: an empty file is valid."""

    language: Literal["zh", "en"] = "zh"
    # where the bot keeps its files (SQLite database by default, exports, backups, console
    # images); relative paths here and in database.url resolve against the config file's folder
    data_dir: str = "data"
    admins: list[str] = Field(default_factory=lambda: ["console:admin"])
    database: DatabaseConfig = DatabaseConfig()
    groups: list[GroupConfig] = Field(default_factory=lambda: [GroupConfig()], min_length=1)
    join: JoinConfig = JoinConfig()
    digest: DigestConfig = DigestConfig()
    reminders: ReminderConfig = ReminderConfig()
    backup: BackupConfig = BackupConfig()
    limits: LimitsConfig = LimitsConfig()
    access: AccessConfig = AccessConfig()
    privacy: PrivacyConfig = PrivacyConfig()
    web: WebConfig = WebConfig()
    charts: ChartsConfig = ChartsConfig()
    telegram: TelegramConfig = TelegramConfig()
    wechat: WechatConfig = WechatConfig()
    sending: SendingConfig = SendingConfig()
    mp: MpConfig = MpConfig()
    papers: PapersConfig = PapersConfig()

    # which ${VARS} each dotted key read (set by parse_config; for error messages)
    _env_sources: dict[str, list[str]] = PrivateAttr(default_factory=dict)

    def env_names(self, key: str) -> list[str]:
        """The environment variables the config file used for ``key`` (e.g. telegram.token)."""
        return list(self._env_sources.get(key, []))

    def missing_secrets(self) -> list[str]:
        """Platforms that chats name but whose secret is empty, as one sentence each."""
        problems = []
        for platform in ("telegram", "wechat"):
            if getattr(self, platform).token:
                continue
            chats = [
                f"groups[{g}].chats[{c}]"
                for g, group in enumerate(self.groups)
                for c, chat in enumerate(group.chats)
                if chat.platform == platform
            ]
            if not chats:
                continue
            names = self.env_names(f"{platform}.token")
            source = (
                f"set {' or '.join(names)} in the environment (e.g. the systemd EnvironmentFile)"
                if names
                else f"set {platform}.token"
            )
            problems.append(
                f"{platform}.token is empty but {chats[0]} is a {platform} chat; fix: {source}, "
                f"or remove the {platform} chats"
            )
        return problems

    @field_validator("admins")
    @classmethod
    def _admins_are_qualified(cls, admins: list[str]) -> list[str]:
        for admin in admins:
            if not QUALIFIED_ID.match(admin):
                raise ValueError(
                    f"admin {admin!r} must be platform-qualified, e.g. 'telegram:123456'"
                )
        return admins

    def clock_change_warnings(self) -> list[str]:
        """The digest and reminder crons that fall in an hour a group's timezone skips or
        repeats in the next two years, each saying what the bot will do then."""
        crons = [("digest.cron", self.digest.cron)] if self.digest.enabled else []
        if self.reminders.enabled:
            crons.append(("reminders.cron", self.reminders.cron))
        zones = dict.fromkeys(group.timezone for group in self.groups)
        return [
            line
            for what, cron in crons
            for zone in zones
            for line in clock_change_warnings(cron, zone, what=what)
        ]

    @model_validator(mode="after")
    def _mp_group_is_configured(self) -> Config:
        slugs = [group.slug for group in self.groups]
        if self.mp.group is not None and self.mp.group not in slugs:
            raise ValueError(f"mp.group {self.mp.group!r} is not one of the groups {slugs}")
        return self

    @model_validator(mode="after")
    def _groups_and_chats_unique(self) -> Config:
        """One group per slug, one group per chat: a message must belong to one group."""
        seen_slugs: set[str] = set()
        owner: dict[tuple[str, str], str] = {}
        for group in self.groups:
            if group.slug in seen_slugs:
                raise ValueError(f"groups: slug {group.slug!r} is used by two groups")
            seen_slugs.add(group.slug)
            if "chats" not in group.model_fields_set:
                continue  # the default console chat (groups without chats of their own share it)
            for chat in group.chats:
                key = (chat.platform, chat.chat_id)
                if key in owner and owner[key] != group.slug:
                    raise ValueError(
                        f"groups: {chat.platform} chat {chat.chat_id!r} is configured in two "
                        f"groups ({owner[key]!r} and {group.slug!r}); a chat belongs to one group"
                    )
                owner[key] = group.slug
        return self

    @property
    def data_path(self) -> Path:
        """The data directory (absolute once loaded from a file, see :meth:`resolved_against`)."""
        return Path(self.data_dir).expanduser()

    def resolved_against(self, base: Path) -> Config:
        """This config with relative paths made absolute: ``data_dir`` against ``base`` (the
        config file's folder) and a relative SQLite path against ``base`` too; the default
        database lives in ``data_dir``. The working directory never matters."""
        data = Path(self.data_dir).expanduser()
        data = data if data.is_absolute() else base / data
        url = self.database.url
        parsed = _sqlite_relative_path(url)
        if parsed is not None:
            default = url == DatabaseConfig.model_fields["url"].default
            target = data / "studybot.db" if default else base / parsed
            url = f"sqlite:///{target}"
        resolved = self.model_copy(
            update={
                "data_dir": str(data),
                "database": self.database.model_copy(update={"url": url}),
            }
        )
        resolved._env_sources = self._env_sources
        return resolved

    def group_language(self, slug: str) -> Literal["zh", "en"]:
        """The language of group ``slug`` (its own ``language``, else the global one)."""
        for group in self.groups:
            if group.slug == slug:
                return group.language or self.language
        return self.language

    def digest_join_text(self, platform: str, english: bool) -> str | None:
        """The digest's 加入我们 in a chat on ``platform`` (``join.<platform>.digest_text``,
        else the platform's default); None for the 公众号 article's own ``join.text``."""
        channel = getattr(self.join, platform, None)
        if isinstance(channel, JoinChannelConfig):
            own = channel.digest_text_en if english else channel.digest_text
            if own:
                return own
        if platform == "telegram":
            return (
                self.digest.join_text_telegram_en if english else self.digest.join_text_telegram
            ) or None
        default = CHAT_DIGEST_JOIN.get(platform)
        return None if default is None else default[1 if english else 0]

    @property
    def platforms(self) -> list[str]:
        """Platforms with credentials configured; the console when there are none."""
        found = [name for name in ("telegram", "wechat") if getattr(self, name).token]
        if self.mp.enabled:
            found.append("mp")
        return found or ["console"]


def _sqlite_relative_path(url: str) -> str | None:
    """The relative file path of a ``sqlite:///relative/path.db`` URL, else None."""
    for prefix in ("sqlite:///", "sqlite+pysqlite:///"):
        if url.startswith(prefix):
            path = url[len(prefix) :].split("?", 1)[0]
            if path and path != ":memory:" and not path.startswith(("/", "file:", "~")):
                return path
    return None


def substitute_env(
    value: Any,
    env: Mapping[str, str] | None = None,
    *,
    sources: dict[str, list[str]] | None = None,
    key: str = "",
) -> Any:
    """Replace ``${VAR}`` and ``${VAR:-default}`` in every string of a parsed YAML tree.

    ``sources``, when given, collects which variables each dotted key read (e.g.
    ``{"telegram.token": ["TELEGRAM_BOT_TOKEN"]}``), so errors can name the variable to set.
    """
    environ = os.environ if env is None else env
    if isinstance(value, str):

        def one(match: re.Match[str]) -> str:
            name, default = match.group(1), match.group(2)
            if sources is not None:
                sources.setdefault(key, []).append(name)
            if name in environ:
                return environ[name]
            if default is not None:
                return default
            raise ConfigError(f"environment variable {name} is not set (used as ${{{name}}})")

        return ENV_PATTERN.sub(one, value)
    if isinstance(value, dict):
        return {
            k: substitute_env(v, environ, sources=sources, key=f"{key}.{k}" if key else str(k))
            for k, v in value.items()
        }
    if isinstance(value, list):
        return [
            substitute_env(v, environ, sources=sources, key=f"{key}[{i}]")
            for i, v in enumerate(value)
        ]
    return value


def _format_errors(error: ValidationError) -> str:
    lines = []
    for item in error.errors():
        key = ".".join(str(part) for part in item["loc"]) or "(top level)"
        value = item.get("input")
        shown = repr(value) if isinstance(value, str | int | float) else ""
        got = f" (got {shown})" if shown and shown not in item["msg"] else ""
        lines.append(f"{key}: {item['msg']}{got}")
    return "invalid configuration:\n  " + "\n  ".join(lines)


def parse_config(data: Any, env: dict[str, str] | None = None) -> Config:
    """Validate an already-parsed YAML tree (``None`` means all defaults)."""
    if data is None:
        data = {}
    if not isinstance(data, dict):
        raise ConfigError(f"configuration must be a mapping of keys, not {type(data).__name__}")
    sources: dict[str, list[str]] = {}
    try:
        config = Config.model_validate(substitute_env(data, env, sources=sources))
    except ValidationError as exc:
        raise ConfigError(_format_errors(exc)) from None
    config._env_sources = sources
    for line in config.clock_change_warnings():
        log.warning("config: %s", line)
    return config


class _BoundedLoader(yaml.SafeLoader):
    """``yaml.SafeLoader`` that refuses more than :data:`MAX_ALIASES` alias uses: a 1 KB
    "billion laughs" file expands to gigabytes once the tree is walked."""

    aliases = 0

    def compose_node(self, parent: Any, index: Any) -> Any:
        if self.check_event(yaml.AliasEvent):
            self.aliases += 1
            if self.aliases > MAX_ALIASES:
                mark = self.peek_event().start_mark  # type: ignore[no-untyped-call]  # untyped in types-PyYAML
                raise yaml.YAMLError(
                    f"more than {MAX_ALIASES} YAML aliases (*name) at {mark}; refusing "
                    "what looks like an alias bomb"
                )
        return super().compose_node(parent, index)


def _yaml_error(file: Path, exc: yaml.YAMLError) -> str:
    """One line: where the YAML breaks (the line the parser stopped at), what, and the usual
    fix (indentation, since a mis-indented key is the common mistake)."""
    mark = getattr(exc, "problem_mark", None)
    problem = getattr(exc, "problem", None) or str(exc).splitlines()[0]
    if mark is None:
        return f"{file}: not valid YAML: {problem}"
    return (
        f"{file}, line {mark.line + 1}, column {mark.column + 1}: not valid YAML ({problem}); "
        "fix: check the indentation there (keys of one item line up under each other, list "
        "items start with '- ') and that brackets and quotes are closed"
    )


def load_config(path: str | Path | None, env: dict[str, str] | None = None) -> Config:
    """Read and validate a YAML config file; ``None`` or a missing default file gives defaults."""
    if path is None:
        return parse_config({}, env)
    file = Path(path)
    if not file.exists():
        raise ConfigError(f"config file {file} not found")
    if file.stat().st_size > MAX_CONFIG_BYTES:
        raise ConfigError(f"{file}: larger than {MAX_CONFIG_BYTES} bytes; not a config file")
    try:
        data = yaml.load(file.read_text(encoding="utf-8"), Loader=_BoundedLoader)
    except yaml.YAMLError as exc:
        raise ConfigError(_yaml_error(file, exc)) from None
    except UnicodeDecodeError:
        raise ConfigError(f"{file}: not UTF-8 text") from None
    return parse_config(data, env).resolved_against(file.resolve().parent)


DEFAULT_CONFIG_FILES = ("config.yaml", "config.yml")


def config_file(path: str | None) -> str | None:
    """The config file used: --config, else $STUDYBOT_CONFIG, else ./config.yaml if present
    (None: the defaults)."""
    chosen = path or os.environ.get("STUDYBOT_CONFIG")
    if chosen is None:
        chosen = next((name for name in DEFAULT_CONFIG_FILES if Path(name).exists()), None)
    return chosen


def resolve_config(path: str | None) -> Config:
    """Load :func:`config_file` (the defaults when there is none), its secrets kept out of
    the logs at any level."""
    config = load_config(config_file(path))
    protect_config(config)
    return config
