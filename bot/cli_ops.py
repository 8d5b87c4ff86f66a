"""Operator commands: ``studybot chats`` and ``studybot doctor``.

* ``studybot chats``: every chat the bot has received a message in (configured or not), with
  platform, id, kind and title, and the ``chats:`` lines to paste into ``groups[]``.
* ``studybot doctor``: the set-up checked item by item (:mod:`bot.doctor`), with the fix for
  each failure; exits 1 when anything fails.
"""

from __future__ import annotations

import argparse
import asyncio
from typing import Any


def _chats(args: argparse.Namespace) -> int:
    from bot.config import resolve_config
    from storage.chats import seen_chats
    from storage.db import Database

    config = resolve_config(args.config)
    configured: dict[tuple[str, str], str] = {
        (chat.platform, chat.chat_id): group.slug for group in config.groups for chat in group.chats
    }
    db = Database(config.database.url)
    try:
        with db.session() as session:
            rows = [
                (c.platform, c.chat_id, c.kind, c.title, c.last_seen) for c in seen_chats(session)
            ]
    finally:
        db.dispose()
    if not rows:
        print(
            "no chats seen yet: start the bot (studybot run), send a message in each chat "
            "(the bot must be a member; on Telegram turn privacy mode off or send a /command), "
            "then run studybot chats again"
        )
        return 0
    print(f"{'platform':<9} {'chat_id':<24} {'kind':<8} {'group':<14} {'last seen':<17} title")
    for platform, chat_id, kind, title, last in rows:
        group = configured.get((platform, chat_id), "-" if kind == "private" else "(not set)")
        when = f"{last:%Y-%m-%d %H:%M}"
        print(f"{platform:<9} {chat_id:<24} {kind:<8} {group:<14} {when:<17} {title}")
    missing = [r for r in rows if r[2] != "private" and (r[0], r[1]) not in configured]
    if missing:
        print("\nto serve these chats, add them under a group's chats: in the config:")
        for platform, chat_id, _kind, title, _last in missing:
            note = f"   # {title}" if title else ""
            print(f'      - {{platform: {platform}, chat_id: "{chat_id}"}}{note}')
    return 0


def _doctor(args: argparse.Namespace) -> int:
    from bot.doctor import print_report, run_checks

    results = asyncio.run(run_checks(args.config))
    return print_report(results)


def register(subparsers: Any) -> None:
    """Add ``chats`` and ``doctor`` to the ``studybot`` command line."""
    chats = subparsers.add_parser(
        "chats", help="list the chats the bot has seen, ready to paste into the config"
    )
    chats.set_defaults(func=_chats)
    doctor = subparsers.add_parser(
        "doctor", help="check the set-up: config, secrets, database, platforms, chats, web"
    )
    doctor.set_defaults(func=_doctor)
