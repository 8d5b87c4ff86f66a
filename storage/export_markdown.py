"""A readable Markdown copy of an export: per group README, check-ins, questions, papers,
resources and digests. User text is made inert (no raw HTML, no accidental headings)."""

from __future__ import annotations

import re
from datetime import datetime
from pathlib import Path
from zoneinfo import ZoneInfo

from storage.export_schema import Export, GroupOut

_HTML = str.maketrans({"<": "&lt;", ">": "&gt;", "&": "&amp;"})
_LINE_START = re.compile(r"^(\s*)([#>*+\-=|]|\d+\.)", re.M)


def md_text(text: str) -> str:
    """User text made inert for Markdown: no raw HTML, no accidental headings or lists."""
    escaped = _LINE_START.sub(r"\1\\\2", text.translate(_HTML))
    return escaped.replace("[", "\\[").replace("]", "\\]").replace("\n", "  \n  ")


def _when(moment: datetime, tz: ZoneInfo) -> str:
    return moment.astimezone(tz).strftime("%Y-%m-%d %H:%M")


def _group_markdown(group: GroupOut, names: dict[str, str]) -> dict[str, str]:
    tz = ZoneInfo(group.timezone)

    def who(ref: str) -> str:
        return md_text(names.get(ref) or ref)

    files: dict[str, str] = {}
    lines = [f"# {md_text(group.name)} — 学习心得 / check-ins", ""]
    lines += [
        f"- {_when(c.created_at, tz)} **{who(c.member)}**：{md_text(c.text)}"
        for c in group.checkins
    ]
    files["checkins.md"] = "\n".join(lines)
    lines = [f"# {md_text(group.name)} — 疑问解答 / questions", ""]
    for q in group.questions:
        lines += [
            "",
            f"## #{q.number} ({q.status}) {who(q.member)} · {_when(q.created_at, tz)}",
            "",
        ]
        lines.append(md_text(q.text))
        for i, a in enumerate(q.answers):
            mark = " ⭐" if i == q.best_answer else ""
            lines.append(f"- **{who(a.member)}**{mark}：{md_text(a.text)}")
    files["questions.md"] = "\n".join(lines)
    lines = [f"# {md_text(group.name)} — 论文速递 / papers", ""]
    for p in group.papers:
        title = md_text(p.title or p.url)
        lines.append(f"- [{title}](<{p.url}>) — {who(p.member)}, {_when(p.created_at, tz)}")
        for code in (p.code_url or "").split():
            lines.append(f"  - code: <{code}>")
        for text in (p.summary, p.one_liner):
            if text:
                lines.append(f"  - {md_text(text)}")
    files["papers.md"] = "\n".join(lines)
    lines = [f"# {md_text(group.name)} — 学习资料 / resources", ""]
    for r in group.resources:
        tags = " ".join(f"`#{t}`" for t in r.tags)
        lines.append(f"- <{r.url}> {tags} {md_text(r.text)} — {who(r.member)}".rstrip())
    files["resources.md"] = "\n".join(lines)
    for issue in group.digest_issues:
        if issue.markdown:
            files[f"digests/{issue.number:03d}.md"] = issue.markdown
    index = [f"# {md_text(group.name)}", ""]
    index += [f"- [{name}]({name})" for name in files]
    files["README.md"] = "\n".join(index)
    return {name: text.rstrip("\n") + "\n" for name, text in files.items()}


def write_markdown(data: Export, directory: Path) -> list[Path]:
    """One folder per group: README, check-ins, questions, papers, resources, digests."""
    names = {m.ref: m.display_name for m in data.members}
    written = []
    for group in data.groups:
        for name, text in _group_markdown(group, names).items():
            path = directory / group.slug / name
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(text, encoding="utf-8")
            written.append(path)
    return written
