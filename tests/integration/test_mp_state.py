"""The 公众号 client's shared store (access token, media ids) on SQLite and PostgreSQL."""

from __future__ import annotations

from storage.db import Database
from storage.mp_state import SharedState


def test_values_expire_and_are_shared_between_processes(database_url, clock):
    first_db, second_db = Database(database_url), Database(database_url)
    try:
        first, second = SharedState(first_db, clock=clock), SharedState(second_db, clock=clock)
        assert first.get("wx_access_token") is None
        first.set("wx_access_token", "TOKEN-1", 7200 - 300)
        assert second.get("wx_access_token") == "TOKEN-1"
        second.set("wx_access_token", "TOKEN-2", 7200 - 300)  # a refresh replaces it
        assert first.get("wx_access_token") == "TOKEN-2"
        first.set("mp:img:abc", "http://mmbiz.qpic.cn/x", None)  # never expires
        clock.advance(seconds=7200)
        assert first.get("wx_access_token") is None and second.get("wx_access_token") is None
        assert second.get("mp:img:abc") == "http://mmbiz.qpic.cn/x"
        clock.advance(days=365)
        assert second.get("mp:img:abc") == "http://mmbiz.qpic.cn/x"
        second.delete("mp:img:abc")
        assert first.get("mp:img:abc", "gone") == "gone"
    finally:
        first_db.dispose()
        second_db.dispose()


def test_an_expired_qr_media_id_is_not_used(tmp_path, clock):
    db = Database(f"sqlite:///{tmp_path / 'state.db'}")
    try:
        state = SharedState(db, clock=clock)
        state.set("mp:media:qr", "TEMP-1", 3 * 24 * 3600 - 3600)
        clock.advance(days=2, hours=22)
        assert state.get("mp:media:qr") == "TEMP-1"
        clock.advance(hours=1)  # WeChat keeps temporary media 3 days: an hour early, upload again
        assert state.get("mp:media:qr") is None
    finally:
        db.dispose()
