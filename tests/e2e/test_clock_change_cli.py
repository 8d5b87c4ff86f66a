"""The real CLI under libfaketime on the night clocks go back in Berlin (#22 point 1).

Group in Europe/Berlin, ``digest.cron: "30 2 * * sun"``, ``preview_lead_minutes: 120``. The
bot starts at 00:29:55 local on 2027-10-31 (22:29:55 UTC); the preview is due at 00:30. The
old preview trigger spun forever there and the first check-in after it got no reply.
"""

from __future__ import annotations

import os
import queue
import shutil
import subprocess
import threading
import time
from pathlib import Path

import pytest

from tests.e2e.test_cli_console import ROOT, SCRIPT

FAKETIME = shutil.which("faketime")
CONFIG = """\
database: {{url: 'sqlite:///{db}'}}
web: {{enabled: false}}
admins: ["console:console-user"]
groups:
  - slug: berlin
    name: Berlin ML club
    timezone: Europe/Berlin
    chats: [{{platform: console, chat_id: console-group}}]
digest: {{cron: "30 2 * * sun", preview_lead_minutes: 120}}
reminders: {{enabled: false}}
"""


def _lines(stream, into: queue.Queue[str]) -> None:  # type: ignore[no-untyped-def]
    for line in stream:
        into.put(line)


def _wait_for(lines: queue.Queue[str], seen: list[str], text: str, seconds: float) -> bool:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if any(text in line for line in seen):
            return True
        try:
            seen.append(lines.get(timeout=0.2))
        except queue.Empty:
            pass
    return any(text in line for line in seen)


@pytest.mark.skipif(
    FAKETIME is None and os.environ.get("CI") != "true",
    reason="Debian's faketime is not installed (make test installs it)",
)
def test_the_cli_answers_across_the_night_clocks_go_back(tmp_path: Path) -> None:
    assert FAKETIME is not None, "faketime must be installed on CI (make test does it)"
    config = tmp_path / "studybot.yaml"
    config.write_text(CONFIG.format(db=tmp_path / "bot.db"), encoding="utf-8")
    command = [str(SCRIPT)] if SCRIPT.exists() else ["python", "-m", "bot.cli"]
    env = {k: v for k, v in os.environ.items() if not k.startswith(("STUDYBOT_", "TELEGRAM_"))}
    env |= {"PYTHONPATH": str(ROOT), "TZ": "UTC", "DONT_FAKE_MONOTONIC": "1"}
    process = subprocess.Popen(
        [FAKETIME, "-f", "@2027-10-30 22:29:55", *command, "-c", str(config), "run", "--no-web"],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        encoding="utf-8",
        cwd=tmp_path,
        env=env,
    )
    lines: queue.Queue[str] = queue.Queue()
    seen: list[str] = []
    threading.Thread(target=_lines, args=(process.stdout, lines), daemon=True).start()
    try:
        assert _wait_for(lines, seen, "studybot", 60), "".join(seen)
        time.sleep(8)  # past 00:30 local: the preview's time
        assert process.stdin is not None
        process.stdin.write("/checkin 凌晨两点半之前的心得\n")
        process.stdin.flush()
        # a reply naming the issue closing at the first 02:30 (00:30 UTC), not a hang
        assert _wait_for(lines, seen, "将收录进第 1 期周报（10月31日 02:30 截止）", 30), "".join(
            seen
        )
        process.stdin.close()
        assert process.wait(timeout=30) == 0, "".join(seen)
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()
    while not lines.empty():
        seen.append(lines.get())
    out = "".join(seen)
    assert "Traceback" not in out
    assert "did not advance" not in out
