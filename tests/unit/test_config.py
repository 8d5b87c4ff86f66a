"""Config loading: defaults, the example file, ${ENV} substitution and errors naming the key."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest
from pydantic import BaseModel

from bot.config import Config, ConfigError, load_config, parse_config

ROOT = Path(__file__).resolve().parents[2]
EXAMPLE = ROOT / "config.example.yaml"


def write(tmp_path: Path, text: str, name: str = "config.yaml") -> Path:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


def field_paths(model: type[BaseModel], prefix: str = "") -> list[str]:
    """Every key of a pydantic model tree, e.g. ``groups.chats.platform``."""
    paths = []
    for name, info in model.model_fields.items():
        path = f"{prefix}{name}"
        paths.append(path)
        annotation: Any = info.annotation
        for candidate in (annotation, *getattr(annotation, "__args__", ())):
            if isinstance(candidate, type) and issubclass(candidate, BaseModel):
                paths.extend(field_paths(candidate, f"{path}."))
    return paths


# -- defaults --------------------------------------------------------------------------------
def test_no_file_gives_console_on_sqlite_defaults():
    config = load_config(None, env={})
    assert config.platforms == ["console"]
    assert config.database.url == "sqlite:///data/studybot.db"
    assert config.language == "zh"
    assert config.admins == ["console:admin"]
    assert config.groups[0].chats[0].chat_id == "console-group"
    assert config.join.keywords == ["自学"]


@pytest.mark.parametrize("text", ["", "# only a comment\n", "~\n"])
def test_empty_file_is_all_defaults(tmp_path, text):
    # defaults, with the data directory and database under the config file's folder (#23)
    assert load_config(write(tmp_path, text), env={}) == Config().resolved_against(tmp_path)


def test_token_switches_platform_from_console(tmp_path):
    config = load_config(write(tmp_path, "telegram: {token: '123:abc'}\n"), env={})
    assert config.platforms == ["telegram"]


def test_numeric_chat_id_becomes_text(tmp_path):
    path = write(tmp_path, "groups: [{chats: [{platform: telegram, chat_id: -1001234}]}]\n")
    assert load_config(path, env={}).groups[0].chats[0].chat_id == "-1001234"


# -- the example file --------------------------------------------------------------------------
def test_example_loads_without_env_and_matches_defaults():
    config = load_config(EXAMPLE, env={})
    assert config.platforms == ["console"]  # empty tokens: no platform switched on
    # apart from optional secrets left empty, the example documents the defaults
    empty_secrets = {"telegram": {"token": ""}, "wechat": {"token": ""}, "join": {}}
    expected = Config().resolved_against(EXAMPLE.resolve().parent).model_dump()
    actual = config.model_dump()
    for section, values in empty_secrets.items():
        for key in values:
            assert actual[section][key] == ""
            actual[section][key] = expected[section][key]
    assert actual["join"]["invite_link"] in ("", None)
    actual["join"]["invite_link"] = None
    assert actual == expected


def test_example_takes_its_values_from_the_env_vars_it_names():
    text = EXAMPLE.read_text(encoding="utf-8")
    names = set(re.findall(r"\$\{([A-Z_][A-Z0-9_]*)", text))
    env = {name: "" for name in names}
    env.update(
        STUDYBOT_LANGUAGE="en",
        STUDYBOT_DATABASE_URL="postgresql://u@db/studybot",
        STUDYBOT_INVITE_LINK="https://t.me/+join",
        STUDYBOT_WEB_PORT="9090",
        TELEGRAM_BOT_TOKEN="123:abc",
        WECHATY_PUPPET_SERVICE_TOKEN="puppet-token",
    )
    config = load_config(EXAMPLE, env=env)
    assert config.language == "en"
    assert config.database.url == "postgresql://u@db/studybot"
    assert config.join.invite_link == "https://t.me/+join"
    assert config.web.port == 9090
    assert config.platforms == ["telegram", "wechat"]


def test_example_documents_every_config_key():
    text = EXAMPLE.read_text(encoding="utf-8")
    missing = [
        path
        for path in field_paths(Config)
        if not re.search(rf"^\s*#?\s*(- )?{path.rsplit('.', 1)[-1]}:", text, re.M)
    ]
    assert missing == []


def test_example_comments_are_bilingual():
    comments = [line for line in EXAMPLE.read_text(encoding="utf-8").splitlines() if "#" in line]
    assert any(re.search(r"[\u4e00-\u9fff]", line) for line in comments)
    assert sum(" / " in line for line in comments) > 20


# -- ${ENV} substitution -------------------------------------------------------------------------
def test_env_substitution_and_defaults(tmp_path):
    path = write(
        tmp_path,
        "telegram: {token: '${TG}'}\ndatabase: {url: '${DB:-sqlite:///x.db}'}\n"
        "join: {text: 'join via ${LINK:-none} today'}\n",
    )
    config = load_config(path, env={"TG": "42:secret", "LINK": "https://x"})
    assert config.telegram.token == "42:secret"
    assert config.database.url == f"sqlite:///{tmp_path / 'x.db'}"  # beside the file (#23)
    assert config.join.text == "join via https://x today"


def test_missing_env_var_is_named(tmp_path):
    path = write(tmp_path, "telegram: {token: '${TELEGRAM_BOT_TOKEN}'}\n")
    with pytest.raises(ConfigError, match="TELEGRAM_BOT_TOKEN"):
        load_config(path, env={})


def test_env_substitution_reaches_lists(tmp_path):
    path = write(tmp_path, "admins: ['telegram:${ADMIN_ID}']\n")
    assert load_config(path, env={"ADMIN_ID": "777"}).admins == ["telegram:777"]


# -- errors name the bad key ---------------------------------------------------------------------
@pytest.mark.parametrize(
    ("yaml_text", "key", "detail"),
    [
        ("limits: {max_message_chars: abc}", "limits.max_message_chars", "integer"),
        ("limits: {max_message_chars: 5}", "limits.max_message_chars", "100"),
        ("groups: 5", "groups", "list"),
        ("groups: []", "groups", "at least 1"),
        ("telegram: {tokn: x}", "telegram.tokn", "not permitted"),
        ("colour: blue", "colour", "not permitted"),
        ("language: fr", "language", "zh"),
        ("groups: [{timezone: Mars/Olympus}]", "groups.0.timezone", "Mars/Olympus"),
        ("digest: {cron: 'every sunday'}", "digest.cron", "every sunday"),
        ("reminders: {cron: '99 * * * *'}", "reminders.cron", "crontab"),
        ("admins: [bob]", "admins", "platform-qualified"),
        ("groups: [{chats: [{platform: irc, chat_id: x}]}]", "groups.0.chats.0.platform", "irc"),
        ("web: {port: 70000}", "web.port", "65535"),
        ("telegram: {mode: carrier-pigeon}", "telegram.mode", "polling"),
    ],
)
def test_wrong_values_name_the_key(tmp_path, yaml_text, key, detail):
    with pytest.raises(ConfigError) as error:
        load_config(write(tmp_path, yaml_text + "\n"), env={})
    message = str(error.value)
    assert re.search(rf"(^|\s){re.escape(key)}:", message), message
    assert detail.lower() in message.lower()


@pytest.mark.parametrize("yaml_text", ["- a\n- b\n", "just a string\n", "42\n"])
def test_non_mapping_yaml_is_refused(tmp_path, yaml_text):
    with pytest.raises(ConfigError, match="mapping"):
        load_config(write(tmp_path, yaml_text), env={})


def test_invalid_yaml_names_the_file(tmp_path):
    path = write(tmp_path, "limits: {max_message_chars: [1, 2\n")
    with pytest.raises(ConfigError, match="not valid YAML") as error:
        load_config(path, env={})
    assert str(path) in str(error.value)


def test_a_mis_indented_key_is_one_line_naming_its_line_and_the_fix(tmp_path):
    path = write(tmp_path, "groups:\n  - slug: a\n    name: A\n   timezone: UTC\n")
    with pytest.raises(ConfigError) as error:
        load_config(path, env={})
    message = str(error.value)
    assert "\n" not in message
    assert f"{path}, line 4, column 4: not valid YAML" in message
    assert "fix: check the indentation" in message


def test_non_utf8_file_is_refused(tmp_path):
    path = tmp_path / "config.yaml"
    path.write_bytes("language: zh\njoin: {text: '自学'}\n".encode("gbk"))
    with pytest.raises(ConfigError, match="UTF-8"):
        load_config(path, env={})


def test_missing_file_is_named(tmp_path):
    with pytest.raises(ConfigError, match="not found"):
        load_config(tmp_path / "nope.yaml", env={})


def test_parse_config_reports_every_bad_key_at_once():
    with pytest.raises(ConfigError) as error:
        parse_config({"language": "fr", "limits": {"burst": 0}}, env={})
    assert "language:" in str(error.value) and "limits.burst:" in str(error.value)


def test_a_yaml_alias_bomb_is_refused_at_once(tmp_path):
    import time

    lines = ['a: &a ["lol","lol","lol","lol","lol","lol","lol","lol","lol"]']
    for n in range(1, 9):  # ~1 KB: nine levels of nine references each
        refs = ",".join([f"*{chr(96 + n)}"] * 9)
        lines.append(f"{chr(97 + n)}: &{chr(97 + n)} [{refs}]")
    path = tmp_path / "bomb.yaml"
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    started = time.monotonic()
    with pytest.raises(ConfigError, match="alias"):
        load_config(path, env={})
    assert time.monotonic() - started < 1


def test_a_few_aliases_are_still_fine(tmp_path):
    path = tmp_path / "config.yaml"
    path.write_text(
        "reminders: &quiet {enabled: false}\n"
        "groups:\n"
        "  - {slug: a, chats: [{platform: telegram, chat_id: '-1'}]}\n"
        "  - {slug: b, chats: [{platform: telegram, chat_id: '-2'}]}\n",
        encoding="utf-8",
    )
    assert [g.slug for g in load_config(path, env={}).groups] == ["a", "b"]


def test_two_groups_with_one_slug_are_refused():
    with pytest.raises(ConfigError, match="slug 'club' is used by two groups"):
        parse_config({"groups": [{"slug": "club"}, {"slug": "club", "chats": []}]})


def test_one_chat_in_two_groups_is_refused():
    chat = {"platform": "telegram", "chat_id": -100123}
    with pytest.raises(ConfigError, match=r"-100123.*two groups"):
        parse_config({"groups": [{"slug": "a", "chats": [chat]}, {"slug": "b", "chats": [chat]}]})


def test_relative_paths_follow_the_config_file_not_the_shell(tmp_path, monkeypatch):
    folder = tmp_path / "cfg"
    folder.mkdir()
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    monkeypatch.chdir(elsewhere)
    (folder / "a.yaml").write_text("database: {url: 'sqlite:///db/bot.db'}\n", encoding="utf-8")
    config = load_config(folder / "a.yaml", env={})
    assert config.database.url == f"sqlite:///{folder / 'db' / 'bot.db'}"
    assert config.data_path == folder / "data"
    (folder / "b.yaml").write_text("data_dir: /srv/club\n", encoding="utf-8")
    config = load_config(folder / "b.yaml", env={})
    assert config.database.url == "sqlite:////srv/club/studybot.db"  # the default database
    (folder / "c.yaml").write_text("data_dir: state\n", encoding="utf-8")
    assert load_config(folder / "c.yaml", env={}).data_path == folder / "state"
    url = "postgresql://u@h/db"
    (folder / "d.yaml").write_text(f"database: {{url: '{url}'}}\n", encoding="utf-8")
    assert load_config(folder / "d.yaml", env={}).database.url == url
