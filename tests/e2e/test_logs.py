"""Log levels of the real ``studybot`` script: quiet by default, ``-v`` says what runs."""

from __future__ import annotations

import logging
from pathlib import Path

import pytest

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


async def test_telegram_at_info_says_what_runs_and_never_the_token(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    from bot.runner import log_what_runs
    from tests.conftest import require_or_skip
    from tests.e2e.telegram_emulator import EmulatorServer, emulator_available
    from tests.e2e.test_telegram_emulator import GROUP, start_bot

    require_or_skip(emulator_available(), "node or tests/peers/node_modules missing")
    emulator = EmulatorServer()
    emulator.start()
    try:
        with caplog.at_level(logging.INFO):
            for name in CHATTY_LIBRARIES:  # as configure_logging(1) leaves them
                logging.getLogger(name).setLevel(logging.WARNING)
            bot = await start_bot(emulator, tmp_path, ack="reply")
            try:
                log_what_runs(bot.app, [bot.adapter])
                user = bot.user(7, "Ann")
                await user.say("/checkin read a paper", GROUP)
                await user.replies(GROUP)
            finally:
                await bot.adapter.stop()
                await bot.client.aclose()
                bot.app.db.dispose()
        text = "\n".join(record.getMessage() for record in caplog.records)
        assert f"serving telegram as @{bot.adapter.username}" in text
        assert f"group ml-club (ML自学者俱乐部, Asia/Shanghai, zh): telegram:{GROUP['id']}" in text
        secret = bot.token.split(":", 1)[1]
        assert secret not in text and bot.token not in text
        assert not any(r.name.startswith(("httpx", "httpcore")) for r in caplog.records)
    finally:
        for name in CHATTY_LIBRARIES:
            logging.getLogger(name).setLevel(logging.NOTSET)
        emulator.stop()
