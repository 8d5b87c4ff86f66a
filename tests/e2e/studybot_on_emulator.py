"""``python -m tests.e2e.studybot_on_emulator ARGS``: the ``studybot`` command line with PTB's
HTTP requests going through :class:`tests.e2e.telegram_emulator.EmulatorRequest` (the npm
emulator's quirks papered over), so an end-to-end test can run the real ``studybot run`` as
one process against the emulator (``telegram.base_url`` in its config). Test-only."""

from __future__ import annotations

import sys

from bot.app import telegram_adapter_class

telegram_adapter_class()  # PTB imported as `studybot run` imports it (without unused extras)

import telegram._bot  # noqa: E402
import telegram.ext._applicationbuilder  # noqa: E402

from tests.e2e.telegram_emulator import EmulatorRequest  # noqa: E402

telegram.ext._applicationbuilder.HTTPXRequest = EmulatorRequest  # type: ignore[misc]
telegram._bot.HTTPXRequest = EmulatorRequest  # type: ignore[attr-defined]

if __name__ == "__main__":
    from bot.cli import main

    sys.exit(main())
