"""``studybot db backup`` (default folder, retention), ``db restore`` and ``db upgrade``'s
report, through the real script."""

from __future__ import annotations

import os
import time
from pathlib import Path

import pytest
from sqlalchemy import create_engine, text

from storage.db import make_engine
from storage.leader import LeaderLock
from tests.e2e.test_cli_console import studybot

PG_URL = os.environ.get("STUDYBOT_TEST_PG_URL")


def checkins(url: str) -> list[str]:
    engine = create_engine(url)
    try:
        with engine.connect() as connection:
            return list(connection.execute(text("SELECT text FROM checkins ORDER BY id")).scalars())
    finally:
        engine.dispose()


def say(config: Path, cwd: Path, *lines: str) -> None:
    result = studybot("-c", str(config), "run", "--no-web", cwd=cwd, stdin="\n".join(lines) + "\n")
    assert result.returncode == 0, result.stderr


def test_backup_keeps_the_newest_and_restore_puts_one_back(tmp_path: Path) -> None:
    config = tmp_path / "club" / "config.yaml"
    config.parent.mkdir()
    config.write_text("web: {enabled: false}\n", encoding="utf-8")
    db_url = f"sqlite:///{tmp_path / 'club' / 'data' / 'studybot.db'}"
    say(config, tmp_path, "/checkin 第一条心得")
    made = []
    for _ in range(3):
        result = studybot("-c", str(config), "db", "backup", "--keep", "2", cwd=tmp_path)
        assert result.returncode == 0, result.stderr
        made.append(Path(result.stdout.split(" to ", 1)[1].split()[0]))
        time.sleep(1.1)  # backup names carry the second
    folder = tmp_path / "club" / "data" / "backups"
    assert sorted(folder.iterdir()) == made[1:]  # the oldest was pruned
    assert f"removed old backup {made[0]}" in result.stdout or made[0].exists() is False

    say(config, tmp_path, "/checkin 第二条心得")
    assert len(checkins(db_url)) == 2
    refused = studybot("-c", str(config), "db", "restore", str(made[-1]), cwd=tmp_path)
    assert refused.returncode != 0 and "--yes" in refused.stderr
    assert len(checkins(db_url)) == 2  # nothing replaced without --yes

    engine = make_engine(db_url)
    lock = LeaderLock(engine)
    assert lock.acquire()  # as a running bot holds it
    try:
        busy = studybot("-c", str(config), "db", "restore", str(made[-1]), "--yes", cwd=tmp_path)
        assert busy.returncode != 0 and "stop it first" in busy.stderr
    finally:
        lock.release()
        engine.dispose()

    done = studybot("-c", str(config), "db", "restore", str(made[-1]), "--yes", cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    assert checkins(db_url) == ["第一条心得"]
    assert (tmp_path / "club" / "data" / "studybot.db.before-restore").exists()
    bad = tmp_path / "not-a-backup.db"
    bad.write_text("hello", encoding="utf-8")
    broken = studybot("-c", str(config), "db", "restore", str(bad), "--yes", cwd=tmp_path)
    assert broken.returncode != 0 and "nothing restored" in broken.stderr
    assert checkins(db_url) == ["第一条心得"]


def test_upgrade_names_the_migrations_it_ran(tmp_path: Path) -> None:
    config = tmp_path / "config.yaml"
    config.write_text("database: {url: 'sqlite:///old.db'}\n", encoding="utf-8")
    old = studybot("-c", str(config), "db", "upgrade", "0005_search_scope", cwd=tmp_path)
    assert old.returncode == 0, old.stderr
    assert "  0001: initial schema" in old.stdout
    result = studybot("-c", str(config), "db", "upgrade", cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    lines = result.stdout.splitlines()
    assert lines[0].startswith("applied ") and "migration(s)" in lines[0]
    assert lines[1].startswith("  0006_checkins_member_week: ")
    assert "0005" not in result.stdout.split("database at")[0]
    again = studybot("-c", str(config), "db", "upgrade", cwd=tmp_path)
    assert "nothing to do" in again.stdout


@pytest.mark.skipif(not PG_URL, reason="STUDYBOT_TEST_PG_URL not set")
def test_postgres_backup_and_restore(tmp_path: Path) -> None:
    from tests.support.databases import temporary_database

    with temporary_database("postgres", tmp_path, migrated=True) as url:
        config = tmp_path / "config.yaml"
        config.write_text(f"database: {{url: '{url}'}}\nweb: {{enabled: false}}\n", "utf-8")
        say(config, tmp_path, "/checkin 备份前")
        result = studybot("-c", str(config), "db", "backup", cwd=tmp_path)
        assert result.returncode == 0, result.stderr
        dump = Path(result.stdout.split(" to ", 1)[1].split()[0])
        assert dump.suffix == ".dump" and dump.parent == tmp_path / "data" / "backups"
        say(config, tmp_path, "/checkin 备份后")
        done = studybot("-c", str(config), "db", "restore", str(dump), "--yes", cwd=tmp_path)
        assert done.returncode == 0, done.stderr
        sa_url = url.replace("postgresql://", "postgresql+psycopg://", 1)
        assert checkins(sa_url) == ["备份前"]
