"""Dispatch: one neutral :class:`Incoming` in, a list of :class:`Reply` out.

Order of checks: clean the text -> route (``/command``, ``#hashtag``, keyword, reply to a
question announcement) -> scope (a group chat that no ``groups[].chats`` lists gets one
notice, or silence, and nothing is stored: see docs/security.md) -> unknown commands (answered
only in private chats or when addressed to this bot) -> control characters / bidi overrides
refused -> length limit -> per-member rate limit (commands and keywords only: what a member
posts — 打卡, questions, answers, papers, resources — is never refused) -> dedupe by message id ->
admin check -> handler. The handler's writes and the processed-message record commit in one
unit of work, so a re-delivered message is stored once and a failure stores nothing.

On platforms whose adapter sends through the outbox (:meth:`Dispatcher.use_outbox`), the
handler's replies are queued in that same unit of work (``bot.outbox``) and the dispatcher
returns only replies made outside it (refusals before the handler, errors after a rollback),
which the adapter queues with :meth:`Dispatcher.queue`.

No transaction stays open across an ``await``: a handler runs to completion inside its
transaction without suspending (:func:`run_in_transaction`; one that awaits something slow is
refused, its transaction rolled back) and leaves slow work — charts, publishing, files — to
``ctx.after_commit``. Handling a message gives an :class:`Outcome`: its replies and that
after-commit work, which :meth:`Dispatcher.complete` runs once the transaction has committed
(the Telegram adapter does it as a tracked background task, off the in-order ingest path).
"""

from __future__ import annotations

import inspect
import logging
import re
import time
from collections.abc import Awaitable, Callable, Coroutine, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from bot import amend, outbox
from bot.clubtime import message_time
from bot.config import Config, GroupConfig
from bot.context import Context, Services, UserError
from bot.dm_scope import NEEDS_NO_GROUP, DmScope, dm_scope
from bot.i18n import COMMON, Messages
from bot.model import ChatRef, Incoming, Reply, utcnow
from bot.registry import JOIN_KEYWORD, REGISTRY, Registry
from bot.routing import (
    COMMAND_PATTERN,
    RateLimiter,
    Route,
    clean_name,
    clean_text,
    command_args,
    forbidden_char,
    keyword_form,
    match_tag,
)
from bot.sent import BotNames
from bot.tasks import BackgroundTasks
from storage import announcements, chats, identity, memberships, moderation, processed
from storage.db import Database
from storage.models import Group, KeywordReply, Member

log = logging.getLogger(__name__)
MAX_COMMAND_NAME = 40
NUMBER_GLUED = re.compile(r"^(\D+?)(\d{1,9})$")


class Dispatcher:
    """Turns incoming messages into replies; the single entry point for every adapter."""

    def __init__(
        self,
        config: Config,
        db: Database,
        *,
        registry: Registry = REGISTRY,
        services: Services | None = None,
        clock: Callable[[], datetime] = utcnow,
        bot_names: BotNames | None = None,
        tasks: BackgroundTasks | None = None,
    ) -> None:
        self.config = config
        self.db = db
        self.registry = registry
        self.services = services or Services()
        self.clock = clock
        #: ``time.monotonic()`` when the last message came in (the runner waits for a quiet
        #: moment so a platform's backlog is taken in before overdue jobs run).
        self.last_received = 0.0
        self.tasks = tasks if tasks is not None else BackgroundTasks()  # (empty is falsy)
        self.bot_names = bot_names if bot_names is not None else BotNames()  # shared
        self.rate_limiter = RateLimiter(config.limits.messages_per_minute, config.limits.burst)
        self._chat_groups: dict[tuple[str, str], GroupConfig] = {
            (chat.platform, chat.chat_id): group for group in config.groups for chat in group.chats
        }
        self._admins = set(config.admins)
        self._groups: dict[str, Group] = {}  # slug -> committed row (see _group)
        self._join_words = set(config.join.keywords)
        self._mp_group = next((g for g in config.groups if g.slug == config.mp.group), None)
        self._told_unconfigured: set[tuple[str, str]] = set()  # chats that had their notice
        self._outboxed: set[str] = set()  # platforms whose replies are queued, not returned
        self._seen_chats: dict[tuple[str, str], str] = {}  # chat -> title already recorded
        self._memberships: set[tuple[int, int]] = set()  # (group, member) recorded
        self._quote_hinted: set[str] = set()  # members told how to answer by quoting

    def use_outbox(self, platform: str) -> None:
        """Queue ``platform``'s replies in each message's transaction instead of returning them."""
        self._outboxed.add(platform)

    def queue(self, incoming: Incoming, replies: Sequence[Reply]) -> None:
        """Queue replies made outside a message's transaction (refusals, errors) in one of
        their own."""
        if replies:
            with self.db.session() as session:
                outbox.stage(session, incoming, replies)

    # -- routing -------------------------------------------------------------------------
    def group_for_chat(self, chat: ChatRef) -> GroupConfig | None:
        """The group whose configured chat this is; 公众号 followers ``mp.group``; private
        chats the first group (until the member is known: :mod:`bot.dm_scope`); None for a group chat no ``groups[].chats`` lists (the bot
        acts for nobody there)."""
        if chat.platform == "mp" and self._mp_group is not None:
            return self._mp_group
        group = self._chat_groups.get((chat.platform, chat.chat_id))
        if group is None and chat.is_private:
            return self.config.groups[0]
        return group

    def _unconfigured(self, incoming: Incoming, route: Route | None, text: str) -> list[Reply]:
        """The answer in a group chat that is not configured: one notice per chat when the bot
        is addressed (a command, the join keyword, a mention), unless config says silent."""
        chat = incoming.chat
        addressed = (
            route is not None
            or keyword_form(text) in self._join_words
            or incoming.mentions_bot
        )
        key = (chat.platform, chat.chat_id)
        if (
            not addressed
            or self.config.access.unconfigured_chats == "silent"
            or key in self._told_unconfigured
        ):
            return []
        self._told_unconfigured.add(key)
        log.warning("message from unconfigured %s chat %s ignored", chat.platform, chat.chat_id)
        return [
            Reply(
                SCOPE.get(
                    "unconfigured_chat",
                    self.config.language,
                    platform=chat.platform,
                    chat_id=chat.chat_id,
                )
            )
        ]

    def language_of(self, chat: ChatRef) -> str:
        """The language of the chat's group (``groups[].language``, else the global one)."""
        group = self.group_for_chat(chat)
        return (group.language if group is not None else None) or self.config.language

    def route(self, text: str) -> Route | None:
        match = COMMAND_PATTERN.match(text)
        if match:
            name, target, args = match.groups()
            if target and self.bot_names and target not in self.bot_names:
                return None  # addressed to another bot
            addressed = bool(target) and target in self.bot_names
            spec = self.registry.find_command(name)
            glued = NUMBER_GLUED.match(name) if spec is None else None
            if glued is not None and self.registry.find_command(glued.group(1)) is not None:
                # /q1, /answer3 …: the number written onto the command
                name, args = glued.group(1), f"{glued.group(2)} {args}"
                spec = self.registry.find_command(name)
            if spec is None and len(name) > MAX_COMMAND_NAME:
                return None  # "/一整句话…" is not a command
            options_only = spec is not None and "<" not in spec.usage
            return Route(
                spec, name, command_args(args, options_only=options_only), addressed=addressed
            )
        found = match_tag(text, self.registry.hashtags, self.registry.bare_words)
        if found is None:
            return None
        tag, rest = found
        spec = self.registry.find_hashtag(tag)
        return Route(spec, spec.name if spec else tag, rest)

    # -- entry point ---------------------------------------------------------------------
    async def dispatch(self, incoming: Incoming) -> list[Reply]:
        """Handle one message and its after-commit work; returns the replies to send (for
        tests and tools: adapters take messages through :class:`bot.ingest.Ingest`)."""
        return await self.complete(self.handle(incoming))

    def handle(self, incoming: Incoming) -> Outcome:
        """Route, check and run one message in a transaction of its own (no ``await``):
        its replies and the work left for after the commit."""
        job = self.prepare(incoming)
        assert job is not None  # with lookups, prepare always decides
        return Outcome(incoming, job) if isinstance(job, list) else self.run(job)

    def prepare(self, incoming: Incoming, *, lookups: bool = True) -> Job | list[Reply] | None:
        """Route and check a message: a :class:`Job` to run, or the final replies.

        With ``lookups=False``, None for a message whose routing reads the database (keywords,
        replies to questions), before anything is read or counted: a plain command does not,
        so it may join a batch (see ``bot.batching``).
        """
        self.last_received = time.monotonic()
        self._note_chat(incoming.chat, incoming.sender.user_id)
        lang = self.language_of(incoming.chat)
        text = clean_text(incoming.text)
        route = self.route(text)
        if not incoming.chat.is_private and self.group_for_chat(incoming.chat) is None:
            return self._unconfigured(incoming, route, text)
        if route is None and not lookups:
            return None
        keyword = None if route else text
        question_id = None
        if route is None and incoming.reply_to_message_id:
            question_id = self._question_for_reply(incoming)
            if question_id is not None:
                route = Route(self.registry.find_command("answer"), "answer", text)
        if route is None:
            keyword = self._keyword_for(incoming, text)
        if route is None and keyword is None:
            if incoming.quotes_a_question and text:
                return self._quote_hint(incoming, lang)
            if incoming.chat.is_private and text:
                return [Reply(COMMON.get("private_hint", self._private_language(incoming, lang)))]
            return []
        if route is not None and route.spec is None:
            # another bot's command (/warn, /rules) in a shared group is none of our business
            if incoming.chat.is_private or incoming.mentions_bot or route.addressed:
                lang = self._private_language(incoming, lang)
                return [Reply(COMMON.get("unknown_command", lang, name=route.name))]
            return []
        if incoming.anonymous and route is not None and route.spec is not None:
            if not route.spec.admin:  # a note or answer must belong to a member
                return [Reply(COMMON.get("anonymous_sender", lang))]
        if text and (char := forbidden_char(incoming.text)) is not None:
            return [Reply(COMMON.get("control_chars", lang, char=char))]
        limit = self.config.limits.max_message_chars
        if len(text) > limit:
            return [Reply(COMMON.get("too_long", lang, length=len(text), limit=limit))]
        if route is not None and route.spec is not None and route.spec.content:
            # what a member posts is always stored and answered (a week of notes pasted at
            # once included): the send stage keeps each platform's limits, and check-in
            # acknowledgments fold into a reaction or one batched message (bot.acks)
            return Job(incoming, route, keyword, question_id)
        allowed, warn, wait = self.rate_limiter.check(incoming.sender.qualified_id)
        if not allowed:
            return [Reply(COMMON.get("rate_limited", lang, seconds=wait))] if warn else []
        return Job(incoming, route, keyword, question_id)

    def _note_chat(self, chat: ChatRef, sender_id: str) -> None:
        """Record a chat in ``seen_chats`` (for ``studybot chats``; a private one with its
        person): once per chat and process, and again when its title changes; never fails a
        message."""
        key = (chat.platform, chat.chat_id)
        title = clean_text(chat.title)[:256]
        if self._seen_chats.get(key) == title:
            return
        self._seen_chats[key] = title
        try:
            with self.db.session() as session:
                person = sender_id if chat.is_private else None
                chats.note_chats(session, [(*key, chat.kind, title)], self.clock(), person)
        except Exception:
            log.warning("could not record chat %s:%s", *key, exc_info=True)
        if key not in self._chat_groups and not chat.is_private:
            log.info(
                "chat %s:%s (%s) is not in groups[].chats, so the bot does not act there; "
                "`studybot chats` lists it ready to paste",
                *key,
                title or "no title",
            )

    def _question_for_reply(self, incoming: Incoming) -> int | None:
        """The question a reply answers: the one the bot's replied-to message announced, or
        the one the replied-to member message asked (Telegram's reply to 「#提问 …」; a WeChat
        quote the adapter pinned to exactly one question of the quoted member)."""
        assert incoming.reply_to_message_id is not None
        where = (incoming.platform, incoming.chat.chat_id, incoming.reply_to_message_id)
        with self.db.session() as session:
            found = announcements.question_for_reply(session, *where)
            if found is None:
                found = announcements.question_of_message(session, *where)
            return found

    def _private_language(self, incoming: Incoming, lang: str) -> str:
        """In a private chat, the language of the group it acts for (the member's only group,
        or the one chosen with /group); ``lang`` elsewhere or for someone not yet known."""
        if not incoming.chat.is_private or len(self.config.groups) < 2:
            return lang
        with self.db.session() as session:
            member = session.scalars(
                select(Member).where(
                    Member.platform == incoming.platform,
                    Member.platform_user_id == incoming.sender.user_id,
                )
            ).one_or_none()
            group = dm_scope(session, self.config, member).group if member else None
        return (group.language if group is not None else None) or lang

    def _quote_hint(self, incoming: Incoming, lang: str) -> list[Reply]:
        """How to answer, once per member, after a quote of a question message the bot cannot
        pin to one question: a hint instead of silence, never a guess."""
        key = incoming.sender.qualified_id
        if key in self._quote_hinted:
            return []
        self._quote_hinted.add(key)
        return [Reply(COMMON.get("quote_hint", lang))]

    def _keyword_for(self, incoming: Incoming, text: str) -> str | None:
        """The keyword ``text`` asks for: the message itself, or the word without the
        punctuation, spaces and emoji around it (``自学。``, ``自学～``, ``自学🙏``)."""
        if not text or len(text) > 100:
            return None
        forms = [form for form in dict.fromkeys((text, keyword_form(text))) if form]
        for form in forms:
            if form in self.registry.keywords or form in self._join_words:
                return form
        group_config = self.group_for_chat(incoming.chat)
        assert group_config is not None  # prepare answered unconfigured chats already
        slugs = [group_config.slug]
        if incoming.chat.is_private and incoming.platform != "mp":
            # the group the private chat acts for is known only in the transaction: any
            # group's keyword routes, the reply comes from that group's (bot.dm_scope)
            slugs = [group.slug for group in self.config.groups]
        with self.db.session() as session:
            found = session.scalars(
                select(KeywordReply.keyword)
                .join(Group, Group.id == KeywordReply.group_id)
                .where(Group.slug.in_(slugs), KeywordReply.keyword.in_(forms))
                .order_by(KeywordReply.keyword != text)  # the exact message first
                .limit(1)
            ).first()
        return found

    def run(self, job: Job) -> Outcome:
        """Run one job in a transaction of its own."""
        try:
            with self.db.session() as session:
                result, ctx = self.execute(session, job)
        except Exception as error:
            return Outcome(job.incoming, self.failed(job.incoming, error))
        return self.settle(job.incoming, result, ctx)

    def execute(
        self, session: Session, job: Job, *, claimed: bool = False
    ) -> tuple[Result, Context | None]:
        """Claim the message (unless the caller ``claimed`` it already), load group and
        member, check rights, run the handler (to completion, without suspending).

        Raises what the handler raises (the caller rolls back); :class:`AlreadyHandled` when
        the message's processed-message record exists already.
        """
        incoming, route = job.incoming, job.route
        group_config = self.group_for_chat(incoming.chat)
        if group_config is None:  # prepare never makes a job of an unconfigured chat's message
            raise RuntimeError(f"no group for chat {incoming.chat.chat_id}")
        if claimed:
            session.flush()  # what the batch's message before this one left pending goes first
        else:
            try:
                processed.claim(session, *message_key(incoming))
            except IntegrityError:
                # a re-delivery, or another worker handled it concurrently
                log.info("message %s already handled; skipped", incoming.message_id)
                raise AlreadyHandled from None
        member = identity.ensure_member(
            session,
            incoming.platform,
            incoming.sender.user_id,
            clean_name(incoming.sender.display_name)[:200],
        )
        if incoming.chat.is_private and incoming.platform != "mp":
            scope = dm_scope(session, self.config, member)
            if scope.group is not None:
                group_config = scope.group
            elif route is not None and route.spec is not None and (
                route.spec.name not in NEEDS_NO_GROUP
            ):
                lang = self.language_of(incoming.chat)
                return self._staged(session, incoming, choose_group_first(scope, lang)), None
            else:
                group_config = scope.options[0]
        group = self._group(session, group_config)
        if not incoming.chat.is_private and (group.id, member.id) not in self._memberships:
            memberships.note_membership(session, group.id, member.id)
        is_admin = (
            incoming.sender.qualified_id in self._admins
            or incoming.platform_admin
            or group_config.slug in incoming.admin_groups
            or member.role == "admin"
        )
        if route is not None and route.spec is not None and route.spec.admin and not is_admin:
            lang = self.language_of(incoming.chat)
            refusal = Reply(COMMON.get("admin_only", lang, name=route.spec.name))
            return self._staged(session, incoming, refusal), None
        if route is not None and route.spec is not None and route.spec.admin:
            if route.spec.name != "audit":  # reading the log is not an action on the group
                moderation.record_action(  # every admin action: who, what, when (/audit)
                    session,
                    group.id,
                    member.display_name,
                    incoming.sender.qualified_id,
                    route.spec.name,
                    route.args,
                    self.clock(),
                )
        ctx = Context(
            incoming=incoming,
            command=route.spec.name if route and route.spec else "",
            args=route.args if route else (job.keyword or ""),
            session=session,
            config=self.config,
            group_config=group_config,
            group=group,
            member=member,
            is_admin=is_admin,
            registry=self.registry,
            now=message_time(incoming.platform, incoming.sent_at, self.clock()),
            services=self.services,
            question_id=job.question_id,
        )
        if route is not None and route.spec is not None:
            result = run_in_transaction(route.spec.handler(ctx), route.spec.name)
        else:
            result = self._keyword_reply(ctx, job.keyword or "")
        return self._staged(session, incoming, result), ctx

    def _staged(self, session: Session, incoming: Incoming, result: Result) -> Result:
        """Queue the replies in the message's transaction where the platform uses the outbox."""
        if incoming.platform not in self._outboxed:
            return result
        outbox.stage(session, incoming, _as_list(result))
        return None

    def settle(self, incoming: Incoming, result: Result, ctx: Context | None) -> Outcome:
        """After the commit: remember the group row; the replies and the after-commit work."""
        replies = _as_list(result)
        if ctx is None:
            return Outcome(incoming, replies)
        self._groups.setdefault(ctx.group_config.slug, ctx.group)  # committed: safe to reuse
        if not incoming.chat.is_private:
            self._memberships.add((ctx.group.id, ctx.member.id))
        return Outcome(incoming, replies, list(ctx.deferred))

    async def complete(self, outcome: Outcome, *, report: bool = False) -> list[Reply]:
        """Run ``outcome``'s after-commit work (no transaction is open); all its replies.

        When that work fails, the member gets the error reply instead (logged as such) and,
        with ``report``, the admins hear of it (``tasks.report``)."""
        replies = list(outcome.replies)
        try:
            for work in outcome.after_commit:
                replies.extend(_as_list(await work()))
        except Exception as error:
            if report and self.tasks.report is not None and not isinstance(error, UserError):
                what = f"message {outcome.incoming.message_id} ({outcome.incoming.text[:40]})"
                try:
                    await self.tasks.report(f"⚠️ {what}: {type(error).__name__}: {error}")
                except Exception:
                    log.exception("could not report the failure of %s", what)
            return self.failed(outcome.incoming, error)
        return replies

    def complete_later(self, outcome: Outcome, deliver: Callable[[list[Reply]], object]) -> None:
        """Run ``outcome``'s after-commit work as a tracked background task and hand its
        replies to ``deliver``: slow work (publishing, charts, files) never holds up the
        messages after it."""
        if not outcome.after_commit:
            return
        later = Outcome(outcome.incoming, [], outcome.after_commit)

        async def work() -> None:
            delivered = deliver(await self.complete(later, report=True))
            if inspect.isawaitable(delivered):  # e.g. queued through the database's thread
                await delivered

        self.tasks.spawn(work(), f"after-commit work of message {outcome.incoming.message_id}")

    def failed(self, incoming: Incoming, error: Exception) -> list[Reply]:
        """The replies for a message whose handling raised (its transaction was rolled back)."""
        if isinstance(error, UserError):
            return [Reply(error.text)]
        if isinstance(error, AlreadyHandled):
            return []
        log.error("handler failed for message %s", incoming.message_id, exc_info=error)
        self._groups.clear()  # in case the group row itself is what went wrong
        return [Reply(COMMON.get("internal_error", self.language_of(incoming.chat)))]

    def _group(self, session: Session, config: GroupConfig) -> Group:
        """The chat's group row. Groups change only with the config (``ensure_group`` at the
        first message), so later messages attach the committed row from memory
        (``merge(load=False)``, no query) instead of selecting it again, once per session."""
        attached: dict[str, Group] = session.info.setdefault("studybot.groups", {})
        group = attached.get(config.slug)
        if group is not None and group in session:
            return group  # a batch's later messages: already in this session
        cached = self._groups.get(config.slug)
        if cached is not None:
            group = session.merge(cached, load=False)
        else:
            group = identity.ensure_group(session, config.slug, config.name, config.timezone)
        attached[config.slug] = group
        return group

    def _keyword_reply(self, ctx: Context, word: str) -> list[Reply]:
        spec = self.registry.keywords.get(word)
        if spec is None and word in self._join_words:
            spec = self.registry.keywords.get(JOIN_KEYWORD)
        if spec is not None:
            return _as_list(run_in_transaction(spec.handler(ctx), word))
        reply = ctx.session.scalars(
            select(KeywordReply.reply).where(
                KeywordReply.group_id == ctx.group.id, KeywordReply.keyword == word
            )
        ).first()
        return [Reply(reply)] if reply else []

    # -- joins ---------------------------------------------------------------------------
    def welcome(self, chat: ChatRef, names: Sequence[str]) -> list[Reply]:
        """The welcome for ``names`` who joined ``chat`` (only a configured chat of a group;
        none when ``join.welcome`` is empty)."""
        group = self._chat_groups.get((chat.platform, chat.chat_id))
        join = self.config.join
        template = join.welcome_en if self.config.language == "en" else join.welcome
        if group is None or not names or not template.strip():
            return []
        shown = ", ".join(clean_name(name) or "?" for name in names)
        return [Reply(template.format(names=shown, group=group.name))]

    # -- edits and recalls ---------------------------------------------------------------
    def edited(self, incoming: Incoming) -> list[Reply]:
        """A member edited a message (same id): the entry it created follows it. A message
        that created nothing and now is a post (打卡, a question, an answer, a paper, a
        resource) is handled as that post; the entry remembers the message, so a second edit
        updates it. Anything else (a chat line, a command such as /rank) does nothing."""
        replies = amend.apply_edit(self, incoming)
        if replies is not None:
            return replies
        job = self.prepare(incoming)
        if not isinstance(job, Job):
            return []  # not routed, or refused: an edit answers only what it stores
        if job.route is None or job.route.spec is None or not job.route.spec.content:
            return []
        # after-commit work (a paper's arXiv lookup) is left to the start-up retry of
        # pending metadata: this runs in the database's thread, off the event loop
        return list(self.run(job).replies)

    def recalled(self, platform: str, chat_id: str, message_id: str) -> list[Reply]:
        """A member recalled (撤回) a message: the entry it created goes (see ``bot.amend``).
        Notices for the chat are queued on outbox platforms, else returned."""
        notices = amend.apply_recall(self, platform, chat_id, message_id)
        if not notices or platform not in self._outboxed:
            return notices
        configured = self.group_for_chat(ChatRef(platform, chat_id, "group")) is not None
        chat = ChatRef(platform, chat_id, "group" if configured else "private")
        with self.db.session() as session:
            for notice in notices:
                outbox.queue_outgoing(session, chat, notice)
        return []


SCOPE = Messages(
    {
        "choose_group": (
            "你在几个学习群里都用过我，请先选择私聊对应哪个群：\n{groups}\n"
            "发送 /group <序号或简称> 选择（之后可随时切换），再重新发送刚才的命令。",
            "You use me in several study groups; first choose which one this private chat is "
            "for:\n{groups}\nSend /group <number or short name> (you can switch any time), "
            "then send your command again.",
        ),
        "unconfigured_chat": (
            "这个群聊还没有登记为学习群，我在这里不记录、也不执行任何命令。"
            "如需在此使用，请管理员把它加入配置文件的 groups[].chats"
            '（platform: {platform}，chat_id: "{chat_id}"）后重启机器人。',
            "This chat is not configured as a study group, so I store nothing and run no "
            "commands here. To use me here, an operator adds it to groups[].chats in the config "
            'file (platform: {platform}, chat_id: "{chat_id}") and restarts the bot.',
        ),
    }
)


def choose_group_first(scope: DmScope, lang: str) -> Reply:
    """A member of several groups has not said which one their private chat is for."""
    listing = "\n".join(f"{i}. {g.name}（{g.slug}）" for i, g in enumerate(scope.options, 1))
    return Reply(SCOPE.get("choose_group", lang, groups=listing))


def message_key(incoming: Incoming) -> tuple[str, str, str]:
    """What the processed-message record of ``incoming`` is keyed by."""
    return (incoming.platform, incoming.chat.chat_id, incoming.message_id)


class AlreadyHandled(Exception):
    """The message's processed-message record already exists."""


@dataclass(frozen=True)
class Job:
    """A routed, checked message waiting for its transaction."""

    incoming: Incoming
    route: Route | None
    keyword: str | None
    question_id: int | None


Result = Reply | Sequence[Reply] | None


@dataclass
class Outcome:
    """What handling one message gave: replies to send now, and work to run once its
    transaction has committed (each returning more replies)."""

    incoming: Incoming
    replies: list[Reply]
    after_commit: list[Callable[[], Awaitable[Any]]] = field(default_factory=list)


class SuspendedInTransaction(RuntimeError):
    """A handler awaited something that suspends while its transaction was open."""


def run_in_transaction(handler: Awaitable[Any], name: str) -> Any:
    """Run a handler's coroutine to its end without letting it suspend.

    Handlers are ``async def`` (so they read like the rest of the bot), but inside their
    transaction they may only compute and use the session: anything slow goes to
    ``ctx.after_commit``. A handler that suspends is closed and :class:`SuspendedInTransaction`
    raised, so its transaction rolls back instead of holding the database (and, on SQLite, its
    write lock) while the event loop runs other work.
    """
    assert isinstance(handler, Coroutine), f"handler {name!r} is not an async def"
    try:
        handler.send(None)
    except StopIteration as done:
        return done.value
    handler.close()
    raise SuspendedInTransaction(
        f"handler {name!r} awaited inside its transaction; use ctx.after_commit for slow work"
    )


def _as_list(result: Reply | Sequence[Reply] | None) -> list[Reply]:
    if result is None:
        return []
    if isinstance(result, Reply):
        return [result]
    return list(result)
