"""The activity chart for /stats and the web archive: a PNG rendered with matplotlib (Agg).

Two panels over the last weeks: members active per week and check-ins per week. Chinese
labels need a CJK font; when none is installed (``fc-list :lang=zh`` is empty) the labels are
English and the title uses the group's slug, so the image never shows tofu boxes.
Rendering uses the object-oriented API (no pyplot global state), so it may run in a thread.

The running bot renders with :func:`render_chart`: by default in a short-lived child process
(``charts.separate_process``), so matplotlib, numpy and the font cache (~50 MB) never stay in
the bot's own memory; the child exits after each chart.
"""

from __future__ import annotations

import asyncio
import io
import multiprocessing
import shutil
import subprocess
from collections.abc import Sequence
from concurrent.futures import ProcessPoolExecutor
from datetime import datetime
from functools import cache

from storage.db import Database
from storage.identity import get_group
from storage.stats import DEFAULT_WEEKS, WeekActivity, week_label, weekly_activity

CJK_FAMILIES = (
    "Noto Sans CJK",
    "Noto Serif CJK",
    "Source Han Sans",
    "Source Han Serif",
    "WenQuanYi",
    "Droid Sans Fallback",
    "AR PL",
    "Sarasa",
    "SimHei",
    "Microsoft YaHei",
    "PingFang",
    "Hiragino Sans GB",
    "Heiti",
    "Songti",
)
PROBE = "周打卡成员"

LABELS = {
    "zh": {
        "title": "{name} · 每周活跃",
        "active": "每周活跃成员（人）",
        "checkins": "每周打卡（次）",
        "week": "周（周一）",
    },
    "en": {
        "title": "{name} · weekly activity",
        "active": "Members active per week",
        "checkins": "Check-ins per week",
        "week": "Week (Monday)",
    },
}


def _has_glyphs(path: str) -> bool:
    from matplotlib.ft2font import FT2Font

    try:
        font = FT2Font(path)
    except (OSError, RuntimeError, ValueError):
        return False
    if "last resort" in font.family_name.lower():  # draws every character as a box
        return False
    return all(font.get_char_index(ord(ch)) for ch in PROBE)


def fontconfig_zh() -> list[str]:
    """Files ``fc-list :lang=zh`` reports (fonts installed after matplotlib cached its list)."""
    if shutil.which("fc-list") is None:
        return []
    try:
        done = subprocess.run(
            ["fc-list", ":lang=zh", "file"], capture_output=True, text=True, timeout=10
        )
    except (OSError, subprocess.SubprocessError):
        return []
    return sorted({line.split(":")[0].strip() for line in done.stdout.splitlines() if line})


@cache
def cjk_font() -> str | None:
    """The path of an installed font that really has Chinese glyphs, or None."""
    from matplotlib import font_manager

    known = [
        str(entry.fname)
        for entry in sorted(font_manager.fontManager.ttflist, key=lambda f: f.name)
        if any(entry.name.startswith(family) for family in CJK_FAMILIES)
    ]
    for path in [*known, *fontconfig_zh()]:
        if path and _has_glyphs(path):
            return path
    return None


def render_activity_chart(weeks: Sequence[WeekActivity], name: str, lang: str = "zh") -> bytes:
    """A two-panel PNG of ``weeks``; Chinese labels only when a CJK font is available."""
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure
    from matplotlib.font_manager import FontProperties
    from matplotlib.ticker import MaxNLocator

    font_path = cjk_font()
    use_zh = lang == "zh" and font_path is not None
    labels = LABELS["zh" if use_zh else "en"]
    font = FontProperties(fname=font_path) if font_path else FontProperties(family="DejaVu Sans")
    if font_path is None and not name.isascii():
        name = "studybot"  # no glyphs for it: never draw tofu
    figure = Figure(figsize=(9, 6), dpi=100, layout="constrained")
    FigureCanvasAgg(figure)
    top, bottom = figure.subplots(2, 1, sharex=True)
    x = list(range(len(weeks)))
    ticks = [week_label(w.monday) for w in weeks]
    panels = (
        (top, [w.active_members for w in weeks], "#4C72B0", labels["active"]),
        (bottom, [w.checkins for w in weeks], "#55A868", labels["checkins"]),
    )
    for axes, values, colour, title in panels:
        bars = axes.bar(x, values, color=colour, width=0.7)
        axes.bar_label(bars, labels=[str(v) if v else "" for v in values], fontsize=8)
        axes.set_title(title, fontproperties=font, fontsize=11, loc="left")
        axes.yaxis.set_major_locator(MaxNLocator(integer=True))
        axes.set_ylim(0, max([*values, 1]) * 1.2)
        axes.grid(axis="y", alpha=0.3)
        axes.spines[["top", "right"]].set_visible(False)
    bottom.set_xticks(x, ticks, rotation=45, ha="right", fontsize=8)
    bottom.set_xlabel(labels["week"], fontproperties=font)
    figure.suptitle(labels["title"].format(name=name), fontproperties=font, fontsize=13)
    buffer = io.BytesIO()
    figure.savefig(buffer, format="png")
    return buffer.getvalue()


def chart_for_group(weeks: Sequence[WeekActivity], name: str, slug: str, lang: str) -> bytes:
    """The chart titled with the group's name, or its slug when no font could draw the name."""
    name = name if name.isascii() or cjk_font() else slug
    return render_activity_chart(weeks, name, lang)


_children: ProcessPoolExecutor | None = None


def _child_pool() -> ProcessPoolExecutor:
    """One worker, a fresh process per chart (spawned: nothing of the bot's state is copied)."""
    global _children
    if _children is None:
        context = multiprocessing.get_context("spawn")
        _children = ProcessPoolExecutor(max_workers=1, mp_context=context, max_tasks_per_child=1)
    return _children


async def render_chart(
    weeks: Sequence[WeekActivity], name: str, slug: str, lang: str, *, separate_process: bool
) -> bytes:
    """The chart PNG, rendered off the event loop: in a child process or in a thread."""
    args = (list(weeks), name, slug, lang)
    if not separate_process:
        return await asyncio.to_thread(chart_for_group, *args)
    return await asyncio.get_running_loop().run_in_executor(_child_pool(), chart_for_group, *args)


def group_activity(
    db: Database, group_slug: str, now: datetime
) -> tuple[list[WeekActivity], str] | None:
    """(weeks, group name) for the chart of ``group_slug``; None when there is no such group."""
    with db.session() as session:
        group = get_group(session, group_slug)
        if group is None:
            return None
        return weekly_activity(session, group, now, DEFAULT_WEEKS), group.name


def stats_png_for(
    db: Database, group_slug: str, now: datetime, *, lang: str = "zh"
) -> bytes | None:
    """The chart of group ``group_slug`` in its own unit of work (None: no such group yet).

    Blocking (database + rendering): from async code call it via ``asyncio.to_thread``.
    """
    found = group_activity(db, group_slug, now)
    if found is None:
        return None
    weeks, name = found
    return chart_for_group(weeks, name, group_slug, lang)
