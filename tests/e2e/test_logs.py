"""Log levels of the real ``studybot`` script: quiet by default, ``-v`` says what runs."""

from __future__ import annotations

import logging
from pathlib import Path

from bot.logs import CHATTY_LIBRARIES, configure_logging
from tests.e2e.test_startup_failures import config_file, studybot


async def test_default_is_quiet_and_v_says_what_runs(tmp_path: Path) -> None:
    web = "web: {enabled: true, port: 0, base_url: 'https://club.example'}\n"
    config = str(config_file(tmp_path, web))
    code, quiet = await studybot("-c", config, "run", cwd=tmp_path)
    assert code == 0 and " INFO " not in quiet and " DEBUG " not in quiet
    code, info = await studybot("-v", "-c", config, "run", cwd=tmp_path)
    assert code == 0, info
    assert "INFO bot.runner: serving console" in info
    assert "group ml-club (ML自学者俱乐部, Asia/Shanghai, zh): console:console-group" in info
    assert "web archive: https://club.example/" in info
    assert "next digest-publish:ml-club: " in info
    assert "next studybot-reminders:ml-club: " in info
    assert " DEBUG " not in info


def test_libraries_stay_quiet_at_info_and_speak_at_debug() -> None:
    root = logging.getLogger()
    handlers, level = list(root.handlers), root.level
    try:
        configure_logging(1)
        assert logging.getLogger().level == logging.INFO
        assert all(logging.getLogger(n).level == logging.WARNING for n in CHATTY_LIBRARIES)
        assert not logging.getLogger("httpx").isEnabledFor(logging.INFO)
        configure_logging(2)
        assert logging.getLogger("httpx").isEnabledFor(logging.DEBUG)
    finally:
        for handler in list(root.handlers):
            root.removeHandler(handler)
        for handler in handlers:
            root.addHandler(handler)
        root.setLevel(level)
        for name in CHATTY_LIBRARIES:
            logging.getLogger(name).setLevel(logging.NOTSET)
