"""/ask (提问, #提问), /answer (回答), /best (最佳), /questions (问题): the group's Q&A.

Questions are numbered per group (#1, #2, ...). The bot's announcement of a question carries
``Reply.question_id`` so that replying to it counts as an answer (the dispatcher routes such
replies to /answer with ``ctx.question_id`` set). A question is ``open`` until answered.
"""

from __future__ import annotations

import logging
import re

from bot.context import Context
from bot.i18n import COMMON, Messages, preview
from bot.model import ChatRef, Reply, UserRef
from bot.registry import command
from handlers import note_quality, privacy
from storage import announcements, chats, questions
from storage.models import Question
from storage.search.find import similar_questions

log = logging.getLogger(__name__)

MAX_CHARS = 3000
LIST_LIMIT = 20

MSG = Messages(
    {
        "asked": (
            "❓ 已登记问题 #{number}（{name}）：{text}\n"
            "回答方式：直接回复这条消息，或发送 /answer {number} 你的回答",
            "❓ Question #{number} from {name}: {text}\n"
            "To answer, reply to this message or send /answer {number} <your answer>",
        ),
        "similar": ("📎 相似的历史问题：", "📎 Similar earlier questions:"),
        "state_open": ("待解答", "open"),
        "state_answered": ("已解答", "answered"),
        "state_closed": ("已关闭", "closed"),
        "answered": (
            "✅ 已记录 {name} 对问题 #{number} 的回答（第 {position} 个回答）",
            "✅ Saved {name}'s answer to question #{number} (answer {position})",
        ),
        "no_question": (
            "没有编号为 #{number} 的问题。发送 /questions 查看待解答的问题。",
            "There is no question #{number}. Send /questions to see the open ones.",
        ),
        "question_gone": (
            "这个问题已不存在，无法回答。",
            "That question no longer exists, so it cannot be answered.",
        ),
        "empty_answer": (
            "回答内容是空的。用法：/answer {number} 你的回答",
            "The answer is empty. Usage: /answer {number} <your answer>",
        ),
        "no_answer": (
            "问题 #{number} 没有第 {position} 个回答（共 {count} 个）。",
            "Question #{number} has no answer {position} ({count} in all).",
        ),
        "echo": (
            "「{text}」不算回答，没有记录 🙂 想知道答案的话，有人回答后发送 /q {number} 查看。",
            '"{text}" is not an answer, so it was not saved 🙂 Send /q {number} to see the '
            "answers once someone replies.",
        ),
        "own_answer": (
            "（回答自己的问题不计分；问题仍等待大家解答）",
            "(answering your own question earns no points; it stays open for others)",
        ),
        "answer_again": (
            "（你已回答过问题 #{number}：这条回答已保存，同一问题只计一次分）",
            "(you had answered question #{number} already: this answer is saved, and a question "
            "earns points once per member)",
        ),
        "notify_asker": (
            "📬 你的问题 #{number} 有了新回答（{name}）：{text}\n发送 /q {number} 查看全部回答",
            "📬 Your question #{number} has a new answer from {name}: {text}\n"
            "Send /q {number} to see all answers",
        ),
        "q_title": (
            "❓ 问题 #{number}（{name}，{state}）：{text}",
            "❓ Question #{number} ({name}, {state}): {text}",
        ),
        "q_none": (
            "还没有回答。直接回复机器人发的问题消息，或 /answer {number} 你的回答",
            "No answers yet. Reply to the bot's question message or send /answer {number} <text>",
        ),
        "q_answers": ("回答（{count} 个）：", "Answers ({count}):"),
        "best": (
            "🏅 已将 {name} 的回答设为问题 #{number} 的最佳答案：{text}",
            "🏅 {name}'s answer is now the best answer to question #{number}: {text}",
        ),
        "none_open": ("目前没有待解答的问题 🎉", "No open questions right now 🎉"),
        "open_title": ("待解答的问题（{total} 个）：", "Open questions ({total}):"),
        "open_more": ("……还有 {more} 个", "… and {more} more"),
        "open_hint": ("回答：/answer <编号> <内容>", "Answer with /answer <number> <text>"),
        "usage_ask": ("/ask <问题>", "/ask <question>"),
        "usage_answer": ("/answer <编号> <回答>", "/answer <number> <answer>"),
        "usage_q": ("/q <问题编号>", "/q <question number>"),
        "usage_best": ("/best <问题编号> <回答序号>", "/best <question number> <answer number>"),
        "too_long": (
            "内容太长了（{length} 字，上限 {limit} 字），请精简后再发。",
            "That is too long ({length} characters, limit {limit}); please shorten it.",
        ),
    }
)

_NUMBER = r"[#＃]?(\d{1,9})"
_SEP = r"(?:\s*[:：,，、。]\s*|\s+)"  # "/answer 1：…", "/回答 2，…" as people write them
_ANSWER = re.compile(rf"^{_NUMBER}(?:{_SEP}(.*))?$", re.S)
_BEST = re.compile(rf"^{_NUMBER}{_SEP}[#＃]?(\d{{1,9}})$")


def _usage(ctx: Context, name: str) -> Reply:
    return Reply(COMMON.get("usage", ctx.lang, usage=ctx.text(MSG, f"usage_{name}")))


def _check_length(ctx: Context, text: str) -> None:
    if len(text) > MAX_CHARS:
        raise ctx.fail(MSG, "too_long", length=len(text), limit=MAX_CHARS)


def _state(ctx: Context, question: Question) -> str:
    key = f"state_{question.status}"
    return ctx.text(MSG, key) if key in MSG else question.status


def _visible(ctx: Context, question: Question | None) -> Question | None:
    """``question`` if the sender may see it here: public, or their own private question in
    their private chat (else None, as if there were no such question)."""
    if question is None or not question.private:
        return question
    own = question.member_id == ctx.member.id and ctx.incoming.chat.is_private
    return question if own else None


def _by_number(ctx: Context, number: int) -> Question | None:
    return _visible(ctx, questions.question_by_number(ctx.session, ctx.group.id, number))


def _announcement(ctx: Context, text: str) -> ChatRef | None:
    """Where a public question asked in a private chat is announced: the group's first chat on
    the asker's platform (None on a platform without one, e.g. the 公众号)."""
    platform = ctx.incoming.chat.platform
    for chat in ctx.group_config.chats:
        if chat.platform == platform:
            return ChatRef(platform, chat.chat_id, "group")
    return None


def _similar(ctx: Context, text: str, question_id: int) -> list[Question]:
    """Similar earlier questions; a failing search must not lose the question itself."""
    try:
        with ctx.session.begin_nested():
            return similar_questions(
                ctx.session, ctx.group.id, text, limit=3, exclude_id=question_id
            )
    except Exception:
        log.exception("similar-question search failed")
        return []


@command(
    "ask",
    aliases=("提问",),
    # 「#提问 …」, 「【求助】…」, 「提问 …」, 「求助：…」, 「问题：…」 (bot.routing.match_tag)
    hashtags=("#提问", "#问题", "#求助", "#ask", "#question"),
    bare_words=("提问", "求助", "问题："),
    usage="<问题>",
    usage_en="<question>",
    help_zh="提问（自动编号，并提示相似的历史问题）",
    help_en="ask a question (numbered; similar earlier questions are suggested)",
    content=True,  # a member's post: never refused by the flood limit
)
async def ask(ctx: Context) -> Reply | list[Reply]:
    """Store a numbered question; the reply announces it and suggests similar ones. Asked in
    a private chat, it is the asker's alone unless they made such entries public (then it is
    announced in the group too); the reply says which."""
    text = ctx.args.strip()
    if not text:
        return _usage(ctx, "ask")
    _check_length(ctx, text)
    private = privacy.keeps_private(ctx)
    question = questions.add_question(
        ctx.session, ctx.group.id, ctx.member.id, text, ctx.now, ctx.source, private=private
    )
    asked = ctx.text(MSG, "asked", number=question.number, name=ctx.member.display_name, text=text)
    lines = [asked]
    similar = _similar(ctx, text, question.id)
    if similar:
        lines.append(ctx.text(MSG, "similar"))
        lines += [f"#{q.number} {preview(q.text)}（{_state(ctx, q)}）" for q in similar[:3]]
    if not ctx.incoming.chat.is_private:
        return Reply("\n".join(lines), question_id=question.id)
    lines.append(privacy.entry_note(ctx, "question"))
    reply = Reply("\n".join(lines), question_id=question.id)
    group = None if private else _announcement(ctx, text)
    if group is None:
        return reply
    # public by the member's choice: announced where everyone can answer it (a reply to it
    # counts as an answer, as for a question asked in the group)
    return [reply, Reply(asked, chat=group, question_id=question.id, kind="notice")]


@command(
    "answer",
    aliases=("回答",),
    usage="<编号> <回答>",
    usage_en="<N> <answer>",
    help_zh="回答问题（也可以直接回复机器人发的问题消息）",
    help_en="answer a question (or reply to the bot's question message)",
    content=True,  # a member's post: never refused by the flood limit
)
async def answer(ctx: Context) -> Reply | list[Reply]:
    """Store an answer to question N (or to the question whose announcement was replied to)."""
    args = ctx.args.strip()
    if ctx.question_id is not None:
        question = _visible(
            ctx, questions.question_by_id(ctx.session, ctx.group.id, ctx.question_id)
        )
        if question is None:
            raise ctx.fail(MSG, "question_gone")
        text = args
    else:
        match = _ANSWER.match(args)
        if match is None:
            return _usage(ctx, "answer")
        number = int(match.group(1))
        found = _by_number(ctx, number)
        if found is None:
            raise ctx.fail(MSG, "no_question", number=number)
        question, text = found, (match.group(2) or "").strip()
    if not text:
        raise ctx.fail(MSG, "empty_answer", number=question.number)
    if note_quality.is_echo(text):
        raise ctx.fail(MSG, "echo", text=preview(text), number=question.number)
    _check_length(ctx, text)
    own = question.member_id == ctx.member.id
    again = not own and questions.has_answered(ctx.session, question.id, ctx.member.id)
    _, position = questions.add_answer(
        ctx.session, question, ctx.member.id, text, ctx.now, ctx.source
    )
    saved = ctx.text(
        MSG, "answered", name=ctx.member.display_name, number=question.number, position=position
    )
    if ctx.incoming.chat.is_private and not question.private:  # say an answer is public
        saved = f"{saved}\n{privacy.answer_note(ctx, question.number)}"
    if own:
        return Reply(f"{saved}\n{ctx.text(MSG, 'own_answer')}")
    if again:
        saved = f"{saved}\n{ctx.text(MSG, 'answer_again', number=question.number)}"
    return [Reply(saved), _notify_asker(ctx, question, text)]


def _notify_asker(ctx: Context, question: Question, text: str) -> Reply:
    """Tell the asker their question has a new answer: privately where the bot can write to
    them (they have written to it privately, e.g. Telegram /start), else in the group where
    they asked, quoting the question's announcement and mentioning them. A private notice
    the platform refuses (the bot blocked, not a friend any more) goes to the group instead,
    once (``Reply.instead``). Sent after the answers of the moment (a notice)."""
    asker = question.member
    notice = ctx.text(
        MSG,
        "notify_asker",
        number=question.number,
        name=ctx.member.display_name,
        text=preview(text),
    )
    person = UserRef(asker.platform, asker.platform_user_id, asker.display_name)
    group = _asked_in(ctx, question)
    in_group = None
    if group is not None:
        announcement = announcements.announcement_of(
            ctx.session, group.platform, group.chat_id, question.number
        )
        in_group = Reply(
            notice, chat=group, reply_to_message_id=announcement, kind="notice", to_member=person
        )
    private = chats.private_chat_of(ctx.session, asker.platform, asker.platform_user_id)
    if private is not None:
        chat = ChatRef(asker.platform, private, "private", asker.display_name)
        return Reply(notice, chat=chat, kind="notice", to_member=person, instead=in_group)
    if in_group is None:  # nowhere on the asker's platform: name them here
        return Reply(f"{asker.display_name}：{notice}", kind="notice")
    return in_group


def _asked_in(ctx: Context, question: Question) -> ChatRef | None:
    """The group chat the question was asked in (else the group's chat on the asker's
    platform)."""
    platform = question.member.platform
    chat_ids = [c.chat_id for c in ctx.group_config.chats if c.platform == platform]
    for chat_id in chat_ids:
        if (question.source or "").startswith(f"{platform}:{chat_id}:"):
            return ChatRef(platform, chat_id, "group")
    return ChatRef(platform, chat_ids[0], "group") if chat_ids else None


@command(
    "q",
    aliases=("问题详情",),
    usage="<问题编号>",
    usage_en="<question N>",
    help_zh="查看某个问题和它的全部回答",
    help_en="show a question with all its answers",
)
async def show_question(ctx: Context) -> Reply:
    """A question with its answers in order (the best one marked)."""
    match = re.match(rf"^{_NUMBER}$", ctx.args.strip())
    if match is None:
        return _usage(ctx, "q")
    number = int(match.group(1))
    question = _by_number(ctx, number)
    if question is None:
        raise ctx.fail(MSG, "no_question", number=number)
    lines = [
        ctx.text(
            MSG,
            "q_title",
            number=number,
            name=question.member.display_name,
            state=_state(ctx, question),
            text=question.text,
        )
    ]
    found = questions.answers_of(ctx.session, question.id)
    if not found:
        lines.append(ctx.text(MSG, "q_none", number=number))
    else:
        lines.append(ctx.text(MSG, "q_answers", count=len(found)))
        for position, item in enumerate(found, 1):
            mark = "🏅 " if item.id == question.best_answer_id else ""
            lines.append(f"{position}. {mark}{item.member.display_name}：{item.text}")
    return Reply("\n".join(lines))


@command(
    "best",
    aliases=("最佳",),
    usage="<问题编号> <回答序号>",
    usage_en="<question N> <answer k>",
    admin=True,
    help_zh="把某个回答设为最佳答案（回答按先后编号 1、2、3…）",
    help_en="mark the best answer (answers are numbered 1, 2, 3… in order)",
)
async def best(ctx: Context) -> Reply:
    """Admins mark answer #k of question #N as its best answer."""
    match = _BEST.match(ctx.args.strip())
    if match is None:
        return _usage(ctx, "best")
    number, position = int(match.group(1)), int(match.group(2))
    question = _by_number(ctx, number)
    if question is None:
        raise ctx.fail(MSG, "no_question", number=number)
    chosen = questions.mark_best(ctx.session, question, position)
    if chosen is None:
        count = len(questions.answers_of(ctx.session, question.id))
        raise ctx.fail(MSG, "no_answer", number=number, position=position, count=count)
    return Reply(
        ctx.text(
            MSG,
            "best",
            name=chosen.member.display_name,
            number=number,
            text=preview(chosen.text),
        )
    )


@command(
    "questions",
    aliases=("问题",),
    help_zh="列出待解答的问题",
    help_en="list the open (unanswered) questions",
)
async def list_questions(ctx: Context) -> Reply:
    """List open questions, oldest first (they carry over from earlier weeks)."""
    # the member's own private questions too, in their private chat only
    viewer = ctx.member.id if ctx.incoming.chat.is_private else None
    shown, total = questions.open_questions(ctx.session, ctx.group.id, LIST_LIMIT, viewer)
    if not shown:
        return Reply(ctx.text(MSG, "none_open"))
    lines = [ctx.text(MSG, "open_title", total=total)]
    lines += [
        f"{'🔒 ' if q.private else ''}#{q.number} {preview(q.text)} — {q.member.display_name}"
        for q in shown
    ]
    if total > len(shown):
        lines.append(ctx.text(MSG, "open_more", more=total - len(shown)))
    lines.append(ctx.text(MSG, "open_hint"))
    return Reply("\n".join(lines))
