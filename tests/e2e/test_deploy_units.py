"""The systemd units in docs/deploy/ pass ``systemd-analyze verify`` (paths pointed at this
checkout, as an operator's would point at theirs), and use what docs/deploy.md promises."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

from tests.conftest import require_or_skip

UNITS = Path(__file__).resolve().parents[2] / "docs" / "deploy"


def test_units_say_what_the_guide_promises() -> None:
    service = (UNITS / "studybot.service").read_text(encoding="utf-8")
    for line in (
        "EnvironmentFile=/etc/studybot/studybot.env",
        "Restart=on-failure",
        "WorkingDirectory=/opt/studybot",
        "StandardOutput=journal",
        "ExecStart=/opt/studybot/.venv/bin/studybot -v -c /etc/studybot/config.yaml run",
    ):
        assert line in service
    assert "--keep 14" in (UNITS / "studybot-backup.service").read_text(encoding="utf-8")
    assert "OnCalendar=" in (UNITS / "studybot-backup.timer").read_text(encoding="utf-8")


def test_units_pass_systemd_analyze_verify(tmp_path: Path) -> None:
    require_or_skip(shutil.which("systemd-analyze") is not None, "systemd-analyze not installed")
    home = tmp_path / "opt"
    (home / ".venv" / "bin").mkdir(parents=True)
    script = Path(sys.executable).with_name("studybot")
    (home / ".venv" / "bin" / "studybot").symlink_to(script if script.exists() else sys.executable)
    etc = tmp_path / "etc"
    etc.mkdir()
    (etc / "studybot.env").write_text("TELEGRAM_BOT_TOKEN=\n", encoding="utf-8")
    (tmp_path / "var").mkdir()
    for unit in UNITS.iterdir():
        text = unit.read_text(encoding="utf-8")
        text = text.replace("/opt/studybot", str(home)).replace("/etc/studybot", str(etc))
        text = text.replace("/var/lib/studybot", str(tmp_path / "var"))
        (tmp_path / unit.name).write_text(text, encoding="utf-8")
    names = sorted(str(tmp_path / unit.name) for unit in UNITS.iterdir())
    result = subprocess.run(
        ["systemd-analyze", "verify", "--man=no", *names],
        capture_output=True,
        text=True,
        timeout=60,
    )
    problems = [
        line
        for line in (result.stdout + result.stderr).splitlines()
        if line.strip() and "Failed to connect to bus" not in line
    ]
    assert result.returncode == 0 and problems == [], problems
