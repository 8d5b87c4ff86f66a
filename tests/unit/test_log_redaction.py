"""Secrets never reach the logs: the redaction applied to every log record (docs/security.md)."""

from __future__ import annotations

import logging

import pytest

from bot.log_redaction import MASK, install, protect_config, redact
from tests.conftest import make_config

TOKEN = "7362518490:AAF1x-Zq0b9S_kd83jHfLq-PQmnB2cYwVzk"


@pytest.mark.parametrize(
    ("leak", "secret"),
    [
        # what PTB logs at debug level when it starts
        (f"Set Bot API URL: https://api.telegram.org/bot{TOKEN}", TOKEN),
        (f'HTTP Request: POST http://127.0.0.1:81/bot{TOKEN}/getUpdates "HTTP/1.1 200 OK"', TOKEN),
        ("connecting to postgresql://studybot:pa55w0rd!@db:5432/club", "pa55w0rd!"),
        (
            "GET https://api.weixin.qq.com/cgi-bin/token?appid=wx1&secret=9f8e7d6c5b4a",
            "9f8e7d6c5b4a",
        ),
        ("POST /cgi-bin/draft/add?access_token=ACCESS_TOKEN_abc123", "ACCESS_TOKEN_abc123"),
        ("headers: Authorization: Bearer eyJhbGciOiJIUzI1NiJ9.payload.sig", "eyJhbGciOiJIUzI1NiJ9"),
    ],
)
def test_known_secret_shapes_are_masked(leak: str, secret: str) -> None:
    masked = redact(leak)
    assert secret not in masked and MASK in masked


def test_every_config_secret_is_masked_in_every_record(
    tmp_path, caplog: pytest.LogCaptureFixture
) -> None:
    config = make_config(
        tmp_path,
        telegram={"token": "plain-token-of-a-test-gateway"},
        wechat={"token": "puppet_service_secret_42"},
    )
    protect_config(config)
    log = logging.getLogger("some.library")
    with caplog.at_level(logging.DEBUG):
        log.debug("token is %s", "plain-token-of-a-test-gateway")
        try:
            raise RuntimeError("gateway refused puppet_service_secret_42")
        except RuntimeError:
            log.exception("failed")
    text = caplog.text + "".join(r.getMessage() for r in caplog.records)
    assert "plain-token-of-a-test-gateway" not in text
    assert "puppet_service_secret_42" not in text
    assert text.count(MASK) >= 2 and "gateway refused" in text  # the rest of the text stays


def test_ordinary_text_is_untouched() -> None:
    install()
    line = "message 1234 from telegram chat -100777 handled in 3 ms: 今天读了 ResNet"
    assert redact(line) == line
