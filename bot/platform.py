"""What every platform adapter offers the rest of the bot: :class:`Sender` (used by the digest
publisher and reminders) and :class:`Adapter` (started and stopped by the runner)."""

from __future__ import annotations

from typing import Protocol

from bot.model import Outgoing


class Sender(Protocol):
    """Something that can post a message the bot starts itself (digest, reminder)."""

    platform: str

    async def send(self, outgoing: Outgoing) -> list[str]:
        """Send ``outgoing`` (split as the platform needs); return the sent message ids.

        Raises on failure after the adapter's own retries, so callers can record the error.
        """
        ...


class Adapter(Sender, Protocol):
    """A running platform connection."""

    async def start(self) -> None: ...

    async def stop(self) -> None: ...
