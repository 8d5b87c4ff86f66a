"""What a bot process imports: libraries or tables it never uses stay out of its memory (the RSS
target in docs/performance.md), and whatever does use them still gets them. Each check runs in a
fresh interpreter, since this test process has imported everything already."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def run(code: str) -> dict:
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True, cwd=ROOT
    )
    return json.loads(out.stdout.strip().splitlines()[-1])


def test_search_leaves_jiebas_hmm_tables_unloaded_but_they_load_when_asked_for() -> None:
    seen = run(
        "import json, sys\n"
        "from storage.search.text import _jieba, tokens\n"
        "words = tokens('今天复习了正则化和过拟合')\n"
        "before = 'jieba.finalseg.prob_emit' in sys.modules\n"
        "hmm = list(_jieba().cut('他来到了网易杭研大厦', HMM=True))\n"  # 杭研: only the HMM knows it
        "print(json.dumps({'words': words, 'before': before, 'hmm': hmm,\n"
        "    'after': 'jieba.finalseg.prob_emit' in sys.modules}))"
    )
    assert seen["words"] == ["今天", "复习", "正则", "正则化", "拟合", "过拟合"]
    assert seen["before"] is False
    assert "杭研" in seen["hmm"] and seen["after"] is True


def test_the_telegram_adapter_comes_without_ptbs_unused_extras() -> None:
    extras = ["cryptography", "rich", "pygments", "click", "tornado"]
    code = (
        "import json, sys\n"
        "from bot.app import telegram_adapter_class\n"
        "telegram_adapter_class({mode!r})\n"
        f"loaded = [m for m in {extras!r} if m in sys.modules]\n"
        "import cryptography.hazmat.primitives.ciphers, rich.console\n"  # still importable
        "print(json.dumps({{'loaded': loaded}}))"
    )
    assert run(code.format(mode="polling"))["loaded"] == []
    assert run(code.format(mode="webhook"))["loaded"] == ["tornado"]  # webhooks are served


def test_building_the_app_imports_neither_pillow_nor_feedparser() -> None:
    loaded = run(
        "import json, sys\n"
        "import bot.app, bot.runner, bot.cli\n"
        "print(json.dumps([m for m in ('PIL', 'feedparser', 'matplotlib') if m in sys.modules]))"
    )
    assert loaded == []


def test_release_free_memory_returns_heap_pages_where_the_c_library_can() -> None:
    import platform

    from bot.memory import release_free_memory

    assert release_free_memory() is (platform.libc_ver()[0] == "glibc")
