"""The 公众号 API client against the local fake API: shared token, one refresh, WeChat errors."""

from __future__ import annotations

import pytest

from bot.adapters.mp_client import MpApiError, MpClient
from storage.db import Database
from storage.mp_state import SharedState
from tests.support.mp_fake import APP_ID, APP_SECRET, FakeMp


@pytest.fixture
def fake():
    with FakeMp() as running:
        yield running


@pytest.fixture
def db(tmp_path):
    database = Database(f"sqlite:///{tmp_path / 'mp.db'}")
    yield database
    database.dispose()


def client(fake: FakeMp, db: Database, **kwargs) -> MpClient:
    return MpClient(APP_ID, APP_SECRET, SharedState(db), base_url=fake.url, **kwargs)


def test_stable_token_fetched_once_and_shared_by_processes(fake, db):
    first, second = client(fake, db), client(fake, db)  # two processes, one database
    first.send_text("o-follower", "你好")
    second.send_text("o-follower", "再见")
    assert len(fake.endpoint_calls("stable_token")) == 1
    assert [m["text"]["content"] for m in fake.messages] == ["你好", "再见"]


def test_classic_token_endpoint_when_stable_token_is_off(fake, db):
    client(fake, db, stable_token=False).send_text("o-follower", "hi")
    assert len(fake.endpoint_calls("token")) == 1 and not fake.endpoint_calls("stable_token")


@pytest.mark.parametrize("code", [40001, 42001])
def test_expired_token_refreshed_once_and_the_call_retried(fake, db, code):
    api = client(fake, db)
    api.send_text("o-follower", "one")
    if code == 42001:
        fake.expire_tokens()
    else:
        fake.invalidated.update(fake.tokens)
    api.send_text("o-follower", "two")
    assert [m["text"]["content"] for m in fake.messages] == ["one", "two"]
    fetches = fake.endpoint_calls("stable_token")
    assert len(fetches) == 2
    assert fetches[1]["force_refresh"] is (code == 40001)


def test_a_token_refused_twice_is_an_error_not_a_loop(fake, db):
    api = client(fake, db)
    api.send_text("o-follower", "one")
    fake.fail_next("message/custom/send", 40001, 40001, 40001)
    with pytest.raises(MpApiError) as error:
        api.send_text("o-follower", "two")
    assert error.value.errcode == 40001
    assert len(fake.endpoint_calls("message/custom/send")) == 3  # one, two, its single retry


def test_a_token_another_process_refreshed_is_used_without_fetching(fake, db):
    first, second = client(fake, db), client(fake, db)
    first.send_text("o-follower", "one")
    fake.expire_tokens()
    first.send_text("o-follower", "two")  # refreshes: the new token is in the database
    second.send_text("o-follower", "three")
    assert len(fake.endpoint_calls("stable_token")) == 2
    assert len(fake.messages) == 3


@pytest.mark.parametrize("code", [45009, 45015, 40007])
def test_wechat_errors_carry_their_code(fake, db, code):
    fake.fail_next("message/custom/send", code)
    with pytest.raises(MpApiError) as error:
        client(fake, db).send_text("o-follower", "hi")
    assert error.value.errcode == code


def test_out_of_the_48_hour_window(fake, db):
    import time

    fake.followers_last_message["o-old"] = time.time() - 49 * 3600
    with pytest.raises(MpApiError) as error:
        client(fake, db).send_text("o-old", "hi")
    assert error.value.errcode == 45015 and not fake.messages


def test_wrong_secret_is_reported(fake, db):
    api = MpClient(APP_ID, "wrong", SharedState(db), base_url=fake.url)
    with pytest.raises(MpApiError) as error:
        api.send_text("o-follower", "hi")
    assert error.value.errcode == 40125


def test_media_drafts_and_publishing(fake, db):
    api = client(fake, db)
    media_id = api.upload_temporary_image(b"\x89PNG qr", "qr.png")
    api.send_image("o-follower", media_id)
    url = api.upload_article_image(b"\x89PNG pic", "pic.png")
    assert url.startswith("http://mmbiz.qpic.cn/")
    thumb = api.add_permanent_image(b"\x89PNG cover", "cover.png")
    article = {"title": "第1期", "content": "<p>hi</p>", "thumb_media_id": thumb}
    draft = api.add_draft(article)
    api.update_draft(draft, {**article, "content": "<p>new</p>"})
    assert fake.drafts[draft][0]["content"] == "<p>new</p>"
    assert api.submit_publish(draft).startswith("PUB-")
    assert fake.temp_media[media_id] == b"\x89PNG qr"
    assert fake.permanent[thumb] == b"\x89PNG cover"
