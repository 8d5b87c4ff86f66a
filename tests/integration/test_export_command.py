"""/export round trip: the file a chat admin gets, imported into a fresh database, gives the
same data (SQLite and PostgreSQL), plain and gzip-compressed."""

from __future__ import annotations

from pathlib import Path

import handlers.export as export_handler
from tests.integration.test_export_import import (
    cli,
    config_file,
    export_json,
    fill,
    without_pages,
)


async def exported_file(chat, tmp_path: Path) -> Path:
    [reply] = await chat.send("/export", user="admin")
    assert reply.file is not None, reply.text
    path = tmp_path / reply.file_name
    path.write_bytes(reply.file)
    return path


async def test_chat_export_imports_into_a_fresh_database(
    chat, clock, bot_app, tmp_path, database_url
):
    await fill(chat, clock, bot_app)
    path = await exported_file(chat, tmp_path)
    assert path.suffix == ".json"
    source = export_json(tmp_path, config_file(tmp_path, bot_app.config.database.url, "src"), "a")
    target = config_file(tmp_path, database_url, "target")
    assert cli("--config", target, "import", str(path)) == 0
    imported = export_json(tmp_path, target, "b")
    # the same data; published pages are rendered again from it on import, never taken from the file
    assert without_pages(imported) == without_pages(source)
    assert len(imported["groups"][0]["checkins"]) == 4  # what fill() wrote, nothing lost


async def test_gzipped_chat_export_imports_too(chat, clock, bot_app, tmp_path, monkeypatch):
    await fill(chat, clock, bot_app)
    monkeypatch.setattr(export_handler, "GZIP_OVER", 1000)
    path = await exported_file(chat, tmp_path)
    assert path.name.endswith(".json.gz")
    source = export_json(tmp_path, config_file(tmp_path, bot_app.config.database.url, "src"), "a")
    target = config_file(tmp_path, f"sqlite:///{tmp_path / 'fresh.db'}", "target")
    assert cli("--config", target, "import", str(path)) == 0
    assert without_pages(export_json(tmp_path, target, "b")) == without_pages(source)
