"""The digest's fixed words in the group's language: headings, labels, notes.

Templates read them as ``d.t.<key>`` (:attr:`digest.model.Digest.t`); Chinese is the seed
digest's wording, English what an English-speaking club reads in the same places.
"""

from __future__ import annotations

from functools import cache

from bot.i18n import Messages

LABELS = Messages(
    {
        "digest": ("{group}周报", "{group} weekly digest"),
        "title": ("{group}周报 · 第{n}期", "{group} weekly digest · Issue {n}"),
        "archive": ("往期", "Archive"),
        "preface": ("刊首语", "Editor's note"),
        "contents": ("本期内容", "In this issue"),
        "papers": ("论文速递", "Papers"),
        "notes": ("学习心得", "Learning notes"),
        "resources": ("学习资料", "Resources"),
        "questions": ("疑问解答", "Questions & answers"),
        "join": ("加入我们", "Join us"),
        "untagged": ("其他", "Other"),
        "paper_name": ("论文名称：", "Paper: "),
        "paper_link": ("论文地址", "Paper"),
        "authors": ("作者：", "Authors: "),
        "et_al": (" 等", " et al."),
        "code_link": ("代码地址", "Code"),
        "one_liner": ("一句话概括该文献：", "In one sentence: "),
        "shared_by": ("分享：", "Shared by "),
        "asked_by": ("提问：", "Asked by "),
        "question_text": ("问：", "Q: "),
        "earlier": ("来自往期", "from an earlier issue"),
        "earlier_short": ("（往期）", " (earlier)"),
        "close": ("）", ")"),
        "earlier_question": ("第 {n} 号问题，来自往期", "question {n}, from an earlier issue"),
        "best_answer": ("最佳回答", "Best answer"),
        "answer": ("回答", "Answer"),
        "by_open": ("（", " ("),
        "by_close": ("）：", "):"),
        "colon": ("：", ": "),
        "no_answer": (
            "暂无回答，欢迎在群里解答（第 {n} 号问题）",
            "No answer yet: answer it in the group (question {n})",
        ),
        "no_answer_cmd": (
            "暂无回答，欢迎解答：/answer {n} 你的回答",
            "No answer yet: /answer {n} your answer",
        ),
        "links_in_full": (
            "（论文地址{code}见阅读原文）",
            "(paper{code} link: read the full issue)",
        ),
        "and_code": ("、代码地址", " and code"),
        "wx_link": ("（链接见阅读原文）", " (link in the full issue)"),
        "wx_image": ("（图片见阅读原文）", " (image in the full issue)"),
        "total": ("共 ", ""),
        "list_sep": ("、", ", "),
        "rest_intro": (
            "本期内容较多，以上为精选。另有 {n} {unit}：",
            "A long issue: highlights above; {n} more {unit}: ",
        ),
        "rest_full": ("。全文见阅读原文", ". The full issue has everything"),
        "rest_end_wechat": (
            "。全文见阅读原文（文末链接）",
            ". The full issue has everything (link at the end)",
        ),
        "web_version": ("网页版", "web version"),
        "archive_link": (
            "阅读原文（网页版，含全部链接与往期）",
            "Read the full issue (web, with every link and past issues)",
        ),
        "continued": ("（续 {n}/{m}）", "(continued {n}/{m}) "),
        "links_note": ("（链接见阅读原文）", " (links: read the full issue)"),
        "image": ("图片", "image"),
        "image_elsewhere": ("（图片见阅读原文）", " (image in the full issue)"),
        "cut_full": ("全文见阅读原文", "(the full text is in the full issue)"),
        "mp_links": ("文中链接", "Links in this article"),
        "mp_links_note": (
            "微信文章不能打开外部链接：点击文末「阅读原文」，即可访问文中的全部链接。",
            "WeChat articles cannot open outside links: tap “Read more” at the end to open "
            "every link of this article.",
        ),
        "mp_version": ("公众号版", "公众号 article"),
        "mp_copy": ("复制到公众号", "Copy for the 公众号"),
        "mp_copy_hint": (
            "复制后在公众号编辑器正文里粘贴；阅读原文填：",
            "Paste it into the 公众号 editor's body; set its “Read more” link to: ",
        ),
        "mp_copy_note": ("（公众号编辑器用的排版）", " (laid out for the 公众号 editor)"),
        "mp_copied": (
            "已复制，到公众号编辑器正文里粘贴即可",
            "Copied: paste it into the 公众号 editor's body",
        ),
        "back_to_issue": ("返回本期", "Back to this issue"),
        "summary_head": ("{group}第{n}期：", "{group}, issue {n}: "),
        "summary_sep": ("，", ", "),
        "summary_papers": ("论文速递 {n} 篇", "{n} papers"),
        "summary_notes": ("学习心得 {n} 位", "notes from {n} members"),
        "summary_resources": ("学习资料 {n} 条", "{n} resources"),
        "summary_questions": ("疑问解答 {n} 个", "{n} questions"),
        "read_more": (
            "👉 阅读原文（文中链接都在这里）：{url}",
            "👉 Read the full issue (with every link): {url}",
        ),
    }
)
TEMPLATE_KEYS = [k for k in LABELS.keys() if "{" not in LABELS.get(k, "zh")]


@cache
def labels(lang: str) -> dict[str, str]:
    """The placeholder-free labels in ``lang`` (the rest go through :func:`label`)."""
    return {key: LABELS.get(key, lang) for key in TEMPLATE_KEYS}


def label(lang: str, key: str, /, **values: object) -> str:
    return LABELS.get(key, lang, **values)
