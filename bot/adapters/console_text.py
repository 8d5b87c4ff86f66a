"""The console adapter's texts (zh/en) and where its group chat is.

Owns :data:`MSG` (banner, meta-command help and usage, output notes), the console's platform
name and :func:`group_chat_ref`, the chat a console user talks in by default.
"""

from __future__ import annotations

from bot.config import Config
from bot.i18n import Messages
from bot.model import ChatRef

PLATFORM = "console"
DEFAULT_GROUP_CHAT = "console-group"

MSG = Messages(
    {
        "banner": (
            "══ studybot 控制台 · {group} ══\n"
            "{who}直接输入消息，回车发送；试试：\n"
            "  /help   /checkin 今天读完了 CS231n 第三讲   /ask 什么是 dropout？\n"
            "  /paper https://arxiv.org/abs/1706.03762 Attention Is All You Need\n"
            "  /share https://example.com #入门 好文章   自学\n"
            "控制台命令：\n{meta}",
            "══ studybot console · {group} ══\n"
            "{who} Type a message and press Enter; try:\n"
            "  /help   /checkin finished CS231n lecture 3   /ask what is dropout?\n"
            "  /paper https://arxiv.org/abs/1706.03762 Attention Is All You Need\n"
            "  /share https://example.com #intro great article   自学\n"
            "Console commands:\n{meta}",
        ),
        "archive": ("周报网页存档：{url}", "Digest web archive: {url}"),
        "meta": (
            "  :user <id> [名字]  切换身份        :admin  切换管理员身份（或启动时加 --as-admin）\n"
            "  :dm / :group       切换到私聊 / 群聊\n"
            "  :reply <b编号> <内容>  回复某条机器人消息（例如回答问题）\n"
            "  行尾加 \\ 可以换行继续输入        :help  显示本说明   :quit  退出（或 Ctrl-D）",
            "  :user <id> [name]  switch identity   :admin  toggle admin (or start with --as-admin)\n"
            "  :dm / :group       switch to a private chat / the group chat\n"
            "  :reply <b-id> <text>  reply to a bot message (e.g. answer a question)\n"
            "  end a line with \\ to continue it   :help  this text   :quit  exit (or Ctrl-D)",
        ),
        "you_are": (
            "现在你是「{name}」（{uid}）{role}，在{chat}。",
            "You are now “{name}” ({uid}){role} in {chat}.",
        ),
        "role_admin": ("，管理员", ", admin"),
        "in_group": ("群聊", "the group chat"),
        "in_dm": ("与机器人的私聊", "a private chat with the bot"),
        "member_name": ("新同学", "Newcomer"),
        "admin_name": ("管理员", "Admin"),
        "user_usage": (
            "用法：:user <id> [名字]，id 只能包含字母、数字和 _.-@",
            "Usage: :user <id> [name]; the id may use letters, digits and _.-@",
        ),
        "reply_usage": (
            "用法：:reply <b编号> <内容>，例如 :reply b3 我来回答",
            "Usage: :reply <b-id> <text>, e.g. :reply b3 here is my answer",
        ),
        "reply_unknown": ("没有编号为 {mid} 的机器人消息。", "There is no bot message {mid}."),
        "unknown_meta": (
            "未知的控制台命令 :{name}，输入 :help 查看。",
            "Unknown console command :{name}; type :help for the list.",
        ),
        "no_reply": ("（机器人没有回复）", "(no reply)"),
        "private_to": ("私聊给 {name}", "privately to {name}"),
        "image_saved": ("图片已保存：{path}", "image saved: {path}"),
        "image_failed": ("图片保存失败：{error}", "could not save the image: {error}"),
        "file_saved": ("文件已保存：{path}", "file saved: {path}"),
        "file_failed": ("文件保存失败：{error}", "could not save the file: {error}"),
        "invite": ("（将邀请你加入群 {room}）", "(would invite you to room {room})"),
        "outgoing": ("── 机器人发往 {chat} ──", "── bot message to {chat} ──"),
        "mentions": ("提醒：{users}", "mentions: {users}"),
        "error": (
            "处理这条消息时出错了：{error}",
            "Something went wrong with that message: {error}",
        ),
        "bye": ("再见 👋", "Bye 👋"),
    }
)


def group_chat_ref(config: Config) -> ChatRef:
    """The console chat of the first group that has one (``console-group`` by default)."""
    for group in config.groups:
        for chat in group.chats:
            if chat.platform == PLATFORM:
                return ChatRef(PLATFORM, chat.chat_id, "group", group.name)
    return ChatRef(PLATFORM, DEFAULT_GROUP_CHAT, "group", config.groups[0].name)
