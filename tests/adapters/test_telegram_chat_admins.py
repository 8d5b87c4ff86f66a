"""Chat-administrator lookups: cached, and one getChatAdministrators per chat at a time."""

from __future__ import annotations

import asyncio
from types import SimpleNamespace
from typing import Any

from telegram.error import NetworkError

from bot.adapters.telegram_admin import FAILURE_TTL, ChatAdmins


class SlowTelegram:
    """getChatAdministrators that answers only when the test releases it."""

    def __init__(self, admins: dict[int, list[int]]) -> None:
        self.admins = admins
        self.asked: list[int] = []
        self.release = asyncio.Event()
        self.fail_next = False

    async def get_chat_administrators(self, chat_id: int) -> list[Any]:
        self.asked.append(chat_id)
        await self.release.wait()
        if self.fail_next:
            self.fail_next = False
            raise NetworkError("connection reset")
        return [SimpleNamespace(user=SimpleNamespace(id=uid)) for uid in self.admins[chat_id]]


class Seconds:
    """A monotonic clock the test moves by hand."""

    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def admins_of(telegram: SlowTelegram, clock: Seconds | None = None) -> ChatAdmins:
    bot: Any = lambda: telegram  # noqa: E731 - duck-typed stand-in for telegram.Bot
    return ChatAdmins(bot, ttl=600, clock=clock or Seconds())


async def test_a_burst_of_commands_asks_telegram_once_per_chat() -> None:
    telegram = SlowTelegram({-100: [7], -200: [8]})
    admins = admins_of(telegram)
    lookups = [asyncio.create_task(admins.any_of(7, [-100])) for _ in range(50)]
    lookups += [asyncio.create_task(admins.any_of(8, [-200])) for _ in range(50)]
    await asyncio.sleep(0)
    telegram.release.set()
    assert all(await asyncio.gather(*lookups))
    assert sorted(telegram.asked) == [-200, -100]
    assert await admins.any_of(7, [-200]) is False  # admin of the other chat only


async def test_a_cancelled_lookup_does_not_block_the_others() -> None:
    telegram = SlowTelegram({-100: [7]})
    admins = admins_of(telegram)
    first = asyncio.create_task(admins.of(-100))
    await asyncio.sleep(0)
    waiting = asyncio.create_task(admins.of(-100))
    await asyncio.sleep(0)
    first.cancel()
    await asyncio.sleep(0)
    telegram.release.set()
    assert await waiting == frozenset({7})
    assert telegram.asked == [-100, -100]  # the waiter asked itself once the first was gone


async def test_a_failed_lookup_counts_as_no_admins_and_is_retried_after_a_minute() -> None:
    telegram = SlowTelegram({-100: [7]})
    telegram.release.set()
    telegram.fail_next = True
    clock = Seconds()
    admins = admins_of(telegram, clock)
    assert await admins.any_of(7, [-100]) is False
    assert await admins.any_of(7, [-100]) is False  # cached: not asked again
    assert telegram.asked == [-100]
    clock.now += FAILURE_TTL + 1
    assert await admins.any_of(7, [-100]) is True
    assert telegram.asked == [-100, -100]
