"""The real ``studybot`` console script in a subprocess, driven through stdin like a newcomer."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
SCRIPT = Path(sys.executable).with_name("studybot")
TOUR = """\
/checkin 今天读完了 CS231n 第三讲\\
顺便复习了反向传播
/ask 什么是 dropout？
:user bob 小明
:reply b2 随机让神经元失活
/answer 1 还能减轻过拟合
/paper https://arxiv.org/abs/1706.03762 Attention Is All You Need | 提出 Transformer | 注意力就够了
/share https://example.com/nlp #NLP 入门好文
自学
:dm
自学
"""


def studybot(*args: str, cwd: Path, stdin: str = "") -> subprocess.CompletedProcess[str]:
    command = [str(SCRIPT)] if SCRIPT.exists() else [sys.executable, "-m", "bot.cli"]
    env = {k: v for k, v in os.environ.items() if not k.startswith(("STUDYBOT_", "TELEGRAM_"))}
    env["PYTHONPATH"] = str(ROOT)
    return subprocess.run(
        [*command, *args],
        input=stdin,
        capture_output=True,
        text=True,
        encoding="utf-8",
        cwd=cwd,
        env=env,
        timeout=90,
    )


def write_config(tmp_path: Path, extra: str = "") -> Path:
    path = tmp_path / "studybot.yaml"
    path.write_text(
        f"database: {{url: 'sqlite:///{tmp_path / 'bot.db'}'}}\nweb: {{enabled: false}}\n"
        f"papers: {{fetch_metadata: false}}\n{extra}",  # never the internet in tests
        encoding="utf-8",
    )
    return path


def test_newcomer_tour_through_the_console(tmp_path):
    config = write_config(tmp_path)
    result = studybot("--config", str(config), "run", "--no-web", cwd=tmp_path, stdin=TOUR)
    out = result.stdout
    assert result.returncode == 0, result.stderr
    assert "Traceback" not in result.stderr
    assert "studybot 控制台" in out
    assert re.search(r"\[b1\] 🤖 ✅ 已记录 新同学 本周第 1 条学习心得", out), out
    assert re.search(r"\[b2\] 🤖 ❓ 已登记问题 #1（新同学）：什么是 dropout？", out), out
    assert "✅ 已记录 小明 对问题 #1 的回答（第 1 个回答）" in out
    assert "✅ 已记录 小明 对问题 #1 的回答（第 2 个回答）" in out
    assert "已收录论文" in out and "Attention Is All You Need" in out
    assert "已收藏资源" in out and "https://example.com/nlp" in out
    # 「自学」 in the club's group: one line, not the outsiders' join text (#19); in a DM: the join text
    assert "你已经在「ML自学者俱乐部」里啦" in out
    assert out.count("欢迎加入ML自学者俱乐部！") == 1
    assert (tmp_path / "bot.db").exists()


def test_english_console(tmp_path):
    config = write_config(tmp_path, "language: en\n")
    result = studybot("-c", str(config), "run", "--no-web", cwd=tmp_path, stdin="/start\n自学\n:dm\n自学\n")
    assert result.returncode == 0, result.stderr
    assert "studybot console" in result.stdout and "Hi Newcomer!" in result.stdout
    assert "You're already in “ML自学者俱乐部”" in result.stdout  # the group: one line (#19)
    assert "Welcome to ML自学者俱乐部! Share your weekly notes" in result.stdout  # the DM: chat text


def test_as_admin_can_use_admin_commands(tmp_path):
    config = write_config(tmp_path)
    script = "/keyword add 书单 西瓜书、花书\n书单\n:admin\n/keyword list\n"
    result = studybot(
        "--config", str(config), "run", "--as-admin", "--no-web", cwd=tmp_path, stdin=script
    )
    assert result.returncode == 0, result.stderr
    out = result.stdout
    assert "「管理员」（admin），管理员" in out
    assert "[b1] 🤖 已添加关键词「书单」✅" in out
    assert "[b2] 🤖 西瓜书、花书" in out
    assert "抱歉，/keyword 仅限管理员使用。" in out  # after :admin toggled it off


def test_member_cannot_use_admin_commands(tmp_path):
    config = write_config(tmp_path)
    result = studybot(
        "--config", str(config), "run", "--no-web", cwd=tmp_path, stdin="/keyword list\n"
    )
    assert "抱歉，/keyword 仅限管理员使用。" in result.stdout


def test_run_without_any_config_uses_sqlite_under_data(tmp_path):
    result = studybot("run", "--no-web", cwd=tmp_path, stdin="/start\n")
    assert result.returncode == 0, result.stderr
    assert "你好，新同学！" in result.stdout
    assert (tmp_path / "data" / "studybot.db").exists()


def test_bad_input_through_the_real_console(tmp_path):
    config = write_config(tmp_path)
    stdin = (
        "/nosuch\n" + "/checkin " + "长" * 10_240 + "\n/ask\n\x07\x00\n<script>alert(1)</script>\n"
    )
    result = studybot("--config", str(config), "run", "--no-web", cwd=tmp_path, stdin=stdin)
    assert result.returncode == 0, result.stderr
    out = result.stdout
    assert "未知命令 /nosuch" in out
    assert "消息太长了（10249 字，上限 4000 字）" in out
    assert "用法" in out


@pytest.mark.parametrize(
    ("yaml_text", "key"),
    [
        ("limits: {max_message_chars: abc}\n", "limits.max_message_chars"),
        ("groups: 5\n", "groups"),
        ("telegram: {tokn: x}\n", "telegram.tokn"),
        ("digest: {cron: 'every sunday'}\n", "digest.cron"),
    ],
)
def test_bad_config_exits_2_naming_the_key(tmp_path, yaml_text, key):
    bad = tmp_path / "bad.yaml"
    bad.write_text(yaml_text, encoding="utf-8")
    result = studybot("--config", str(bad), "run", cwd=tmp_path)
    assert result.returncode == 2
    assert f"{key}:" in result.stderr
    assert "Traceback" not in result.stderr
    assert not (tmp_path / "data").exists()  # nothing started


def test_missing_env_var_in_config_exits_2(tmp_path):
    bad = tmp_path / "bad.yaml"
    bad.write_text("telegram: {token: '${STUDYBOT_TEST_MISSING_TOKEN}'}\n", encoding="utf-8")
    result = studybot("--config", str(bad), "run", cwd=tmp_path)
    assert result.returncode == 2 and "STUDYBOT_TEST_MISSING_TOKEN" in result.stderr


def test_debug_logs_of_a_console_run_show_no_secret(tmp_path):
    """``studybot -vv run`` (debug; -v is INFO since #23): configured secrets (even of
    platforms not started) stay out of the debug log."""
    token = "5550001112:AAHsecretSECRETsecretSECRETsecret12"
    config = write_config(
        tmp_path,
        f"telegram: {{token: '{token}'}}\nwechat: {{token: 'puppet-secret-4242'}}\n",
    )
    result = studybot(
        "-vv",
        "--config",
        str(config),
        "run",
        "--platform",
        "console",
        "--no-web",
        cwd=tmp_path,
        stdin="/checkin 读了 ResNet\n/quit\n",
    )
    logged = result.stdout + result.stderr
    assert "DEBUG" in result.stderr  # debug logging was on
    assert token not in logged and "AAHsecret" not in logged
    assert "puppet-secret-4242" not in logged


def test_relative_paths_follow_the_config_file_from_another_directory(tmp_path):
    club, shell = tmp_path / "club", tmp_path / "shell"
    club.mkdir()
    shell.mkdir()
    (club / "config.yaml").write_text("web: {enabled: false}\n", encoding="utf-8")
    stdin = "/checkin 相对路径测试\n/export\n"
    result = studybot("-c", "../club/config.yaml", "run", "--as-admin", cwd=shell, stdin=stdin)
    assert result.returncode == 0, result.stderr
    assert (club / "data" / "studybot.db").exists()
    exports = list((club / "data" / "exports").iterdir())
    assert len(exports) == 1 and str(exports[0]) in result.stdout
    assert list(shell.iterdir()) == []  # nothing written where the shell happened to be


def test_an_asker_is_told_of_an_answer_through_the_console(tmp_path):
    """The console's 「:dm」 chat is a private chat the bot knows: an answer reaches the asker
    there; an asker who never wrote privately is mentioned in the group instead."""
    script = """\
:dm
/me
:group
/ask 为什么要做 batch norm？
:user bob 小明
/ask 学习率怎么选？
:user carol 小红
/answer 1 稳定每层输入的分布
/answer 2 先用 lr finder 扫一遍
"""
    config = write_config(tmp_path)
    result = studybot("--config", str(config), "run", "--no-web", cwd=tmp_path, stdin=script)
    assert result.returncode == 0, result.stderr
    out = result.stdout
    first = out.index("你的问题 #1 有了新回答（小红）")
    assert "私聊给" in out[out.rindex("\n", 0, out.rindex("→", 0, first)) : first]
    second = out.index("你的问题 #2 有了新回答（小红）")
    assert "@小明" in out[out.rindex("──", 0, second) : second]
