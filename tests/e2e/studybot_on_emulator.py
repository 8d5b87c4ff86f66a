"""``python -m tests.e2e.studybot_on_emulator ARGS``: the ``studybot`` command line with PTB's
HTTP requests going through :class:`tests.e2e.telegram_emulator.EmulatorRequest` (the npm
emulator's quirks papered over), so an end-to-end test can run the real ``studybot run`` as
one process against the emulator (``telegram.base_url`` in its config). Test-only."""

from __future__ import annotations

import sys

import telegram._bot
import telegram.ext._applicationbuilder

from tests.e2e.telegram_emulator import EmulatorRequest

telegram.ext._applicationbuilder.HTTPXRequest = EmulatorRequest  # type: ignore[misc]
telegram._bot.HTTPXRequest = EmulatorRequest  # type: ignore[attr-defined]

if __name__ == "__main__":
    from bot.cli import main

    sys.exit(main())
