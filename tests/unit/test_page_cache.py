"""The archive's page cache: one render for many requests, fresh after a publish or ``ttl``."""

from __future__ import annotations

import threading
import time

from bot.page_cache import MAX_PAGES, PageCache


class Clock:
    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


def test_a_kept_page_is_served_until_the_version_changes() -> None:
    version = [1]
    clock = Clock()
    pages = PageCache(lambda: version[0], ttl=5, clock=clock)
    made: list[str] = []

    def render() -> str:
        made.append("page")
        return f"issues: {version[0]}"

    assert pages.get("index", render) == "issues: 1"
    assert pages.get("index", render) == "issues: 1"
    assert len(made) == 1
    version[0] = 2  # an issue was published
    assert pages.get("index", render) == "issues: 2"
    assert len(made) == 2


def test_a_kept_page_expires_after_ttl() -> None:
    clock = Clock()
    pages = PageCache(lambda: 1, ttl=5, clock=clock)
    text = ["old"]
    assert pages.get("index", lambda: text[0]) == "old"
    text[0] = "edited"
    clock.now = 4.9
    assert pages.get("index", lambda: text[0]) == "old"
    clock.now = 5.0
    assert pages.get("index", lambda: text[0]) == "edited"


def test_a_missing_page_is_never_kept() -> None:
    pages = PageCache(lambda: 1, ttl=60, clock=Clock())
    exists = [False]
    assert pages.get(("html", 2), lambda: "issue 2" if exists[0] else None) is None
    exists[0] = True
    assert pages.get(("html", 2), lambda: "issue 2" if exists[0] else None) == "issue 2"


def test_concurrent_requests_wait_for_one_render() -> None:
    pages = PageCache(lambda: 1, ttl=60)
    started = threading.Event()

    def slow() -> str:
        started.set()
        time.sleep(0.2)
        return "page"

    results: list[str | None] = []
    threads = [threading.Thread(target=lambda: results.append(pages.get("i", slow))) for _ in range(20)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert results == ["page"] * 20
    assert pages.renders == 1


def test_ttl_zero_renders_every_time_and_the_cache_is_bounded() -> None:
    off = PageCache(lambda: 1, ttl=0)
    off.get("i", lambda: "a")
    off.get("i", lambda: "a")
    assert off.renders == 2
    pages = PageCache(lambda: 1, ttl=60, clock=Clock())
    for n in range(MAX_PAGES + 50):
        pages.get(("html", n), lambda n=n: f"issue {n}")
    assert len(pages._pages) == MAX_PAGES
    assert pages.get(("html", MAX_PAGES + 49), lambda: "again") == f"issue {MAX_PAGES + 49}"
